import ScionTiles

/// The tile transforms of Winograd's F(2x2, 3x3) convolution (Lavin & Gray, 2016), vectorised over
/// 16 channels (compiled twice, as ForwardMicrokernels.swift explains). A 2x2 block of outputs needs a 4x4 block of inputs
/// `d`; in the transformed domain the convolution is 16 independent channel mixes (GEMMs), so
/// a 3x3 convolution costs 16 multiply-adds per 4 outputs instead of 36:
///
///     V = Bᵀ d B     (input tile → 16 values per channel)
///     M = V · U      (per position ξ, a GEMM over channels; U = G g Gᵀ from the weights)
///     Y = Aᵀ M A     (16 values per channel → 2x2 outputs)
///
/// Channel counts must be multiples of 16.
public enum WinogradTransforms {
    /// One row (or column) of Bᵀ d: `Bᵀ = [[1,0,-1,0],[0,1,1,0],[0,-1,1,0],[0,1,0,-1]]`.
    @inline(__always)
    static func bt(_ a: Vector16, _ b: Vector16, _ c: Vector16, _ d: Vector16) -> (
        Vector16, Vector16, Vector16, Vector16
    ) {
        (a - c, b + c, c - b, b - d)
    }

    /// One row (or column) of Aᵀ m: `Aᵀ = [[1,1,1,0],[0,1,-1,-1]]`.
    @inline(__always)
    static func at(_ a: Vector16, _ b: Vector16, _ c: Vector16, _ d: Vector16) -> (Vector16, Vector16) {
        (a + b + c, b - c - d)
    }

    /// Transforms one input tile read from a zero-padded window: pixel (r, c) of the tile is
    /// at `window + r · rowStride + c · channels`. Position ξ of the result goes to
    /// `v + ξ · matrixStride`.
    @inline(__always)
    public static func inputTile(
        _ window: UnsafePointer<Float>, rowStride rs: Int, channels: Int, into v: UnsafeMutablePointer<Float>,
        matrixStride m: Int
    ) {
        let p1 = channels, p2 = 2 * channels, p3 = 3 * channels
        var c = 0
        while c < channels {
            var x = window + c
            let (r00, r01, r02, r03) = bt(load(x), load(x + p1), load(x + p2), load(x + p3))
            x += rs
            let (r10, r11, r12, r13) = bt(load(x), load(x + p1), load(x + p2), load(x + p3))
            x += rs
            let (r20, r21, r22, r23) = bt(load(x), load(x + p1), load(x + p2), load(x + p3))
            x += rs
            let (r30, r31, r32, r33) = bt(load(x), load(x + p1), load(x + p2), load(x + p3))
            let p = v + c
            storeColumn(bt(r00, r10, r20, r30), p, m)
            storeColumn(bt(r01, r11, r21, r31), p + m, m)
            storeColumn(bt(r02, r12, r22, r32), p + 2 * m, m)
            storeColumn(bt(r03, r13, r23, r33), p + 3 * m, m)
            c += 16
        }
    }

    /// Stores the four rows of one transformed column: positions ξ, ξ+4, ξ+8, ξ+12.
    @inline(__always)
    static func storeColumn(_ v: (Vector16, Vector16, Vector16, Vector16), _ p: UnsafeMutablePointer<Float>, _ m: Int) {
        store(v.0, p, accumulate: false)
        store(v.1, p + 4 * m, accumulate: false)
        store(v.2, p + 8 * m, accumulate: false)
        store(v.3, p + 12 * m, accumulate: false)
    }

    /// Transforms one output tile back: reads position ξ at `m + ξ · matrixStride` and writes
    /// output (i, j) to `out + i · rowStride + j · channels` for the `rows` x `columns` (1 or 2
    /// each) outputs inside the image: the product, plus what is there when `accumulate`, plus
    /// the per-channel `bias` when given, through a ReLU-family activation when `slope` is set
    /// (0 for ReLU).
    @inline(__always)
    public static func outputTile(
        _ m: UnsafePointer<Float>, matrixStride s: Int, channels: Int, to out: UnsafeMutablePointer<Float>,
        rowStride: Int,
        rows: Int, columns: Int, accumulate: Bool, bias: UnsafePointer<Float>? = nil, slope: Float? = nil
    ) {
        @inline(__always)
        func emit(_ y: Vector16, _ o: UnsafeMutablePointer<Float>, _ b: Vector16) {
            var v = accumulate ? load(o) + y : y
            if bias != nil { v += b }
            if let slope { v = v.replacing(with: slope == 0 ? Vector16() : v * slope, where: v .< 0) }
            store(v, o, accumulate: false)
        }
        var c = 0
        while c < channels {
            let p = m + c
            let (s00, s01) = at(load(p), load(p + s), load(p + 2 * s), load(p + 3 * s))
            let (s10, s11) = at(load(p + 4 * s), load(p + 5 * s), load(p + 6 * s), load(p + 7 * s))
            let (s20, s21) = at(load(p + 8 * s), load(p + 9 * s), load(p + 10 * s), load(p + 11 * s))
            let (s30, s31) = at(load(p + 12 * s), load(p + 13 * s), load(p + 14 * s), load(p + 15 * s))
            let (y00, y10) = at(s00, s10, s20, s30)
            let (y01, y11) = at(s01, s11, s21, s31)
            let o = out + c
            let b = bias.map { load($0 + c) } ?? Vector16()
            emit(y00, o, b)
            if columns > 1 { emit(y01, o + channels, b) }
            if rows > 1 {
                emit(y10, o + rowStride, b)
                if columns > 1 { emit(y11, o + rowStride + channels, b) }
            }
            c += 16
        }
    }

    /// Transforms the `tiles` input tiles of one tile row: tile `t` starts `2t` pixels into the
    /// window and goes to `v + t · channels`.
    public static func inputTileRow(
        _ window: UnsafePointer<Float>, rowStride: Int, channels: Int, tiles: Int, into v: UnsafeMutablePointer<Float>,
        matrixStride: Int
    ) {
        for t in 0..<tiles {
            inputTile(
                window + t * 2 * channels, rowStride: rowStride, channels: channels, into: v + t * channels,
                matrixStride: matrixStride)
        }
    }

    /// Transforms one tile row back into `rows` (1 or 2) output rows of `width` pixels starting
    /// at `out`, reading tile `t` at `m + t · channels` (the rest as `outputTile`).
    public static func outputTileRow(
        _ m: UnsafePointer<Float>, matrixStride: Int, channels: Int, to out: UnsafeMutablePointer<Float>,
        rowStride: Int, rows: Int,
        width: Int, accumulate: Bool, bias: UnsafePointer<Float>?, slope: Float?
    ) {
        for t in 0..<(width + 1) / 2 {
            outputTile(
                m + t * channels, matrixStride: matrixStride, channels: channels, to: out + t * 2 * channels,
                rowStride: rowStride, rows: rows,
                columns: min(2, width - 2 * t), accumulate: accumulate, bias: bias, slope: slope)
        }
    }

    /// One row (or column) of A g for the weight gradient: `A = [[1,0],[1,1],[1,-1],[0,-1]]`.
    @inline(__always)
    static func ag(_ a: Vector16, _ b: Vector16) -> (Vector16, Vector16, Vector16, Vector16) {
        (a, a + b, a - b, -b)
    }

    /// Transforms one 2x2 tile of output gradients for the weight gradient, `A dy Aᵀ`: dy (i, j)
    /// is at `dy + i · rowStride + j · channels` for the `rows` x `columns` (1 or 2 each)
    /// outputs inside the image, zero elsewhere. Position ξ goes to `v + ξ · matrixStride`.
    /// (Since `y = Aᵀ (U ⊙ V) A`, the loss gradient with respect to `U` is `(A dy Aᵀ) ⊙ V`.)
    @inline(__always)
    public static func gradientTile(
        _ dy: UnsafePointer<Float>, rowStride: Int, channels: Int, rows: Int, columns: Int,
        into v: UnsafeMutablePointer<Float>,
        matrixStride m: Int
    ) {
        var c = 0
        while c < channels {
            let p = dy + c
            let d00 = load(p)
            let d01 = columns > 1 ? load(p + channels) : Vector16()
            let d10 = rows > 1 ? load(p + rowStride) : Vector16()
            let d11 = rows > 1 && columns > 1 ? load(p + rowStride + channels) : Vector16()
            let (a00, a10, a20, a30) = ag(d00, d10)
            let (a01, a11, a21, a31) = ag(d01, d11)
            let q = v + c
            storeRow(ag(a00, a01), q, m)
            storeRow(ag(a10, a11), q + 4 * m, m)
            storeRow(ag(a20, a21), q + 8 * m, m)
            storeRow(ag(a30, a31), q + 12 * m, m)
            c += 16
        }
    }

    /// Stores one transformed row: positions ξ, ξ+1, ξ+2, ξ+3.
    @inline(__always)
    static func storeRow(_ v: (Vector16, Vector16, Vector16, Vector16), _ p: UnsafeMutablePointer<Float>, _ m: Int) {
        store(v.0, p, accumulate: false)
        store(v.1, p + m, accumulate: false)
        store(v.2, p + 2 * m, accumulate: false)
        store(v.3, p + 3 * m, accumulate: false)
    }
}
