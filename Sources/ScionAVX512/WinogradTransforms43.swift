import ScionTiles

/// The tile transforms of Winograd's F(4x4, 3x3) convolution (Lavin & Gray, 2016, points 0, ±1,
/// ±2), vectorised over 16 channels and compiled per instruction set like the F(2x2, 3x3) ones in
/// WinogradTransforms.swift, with the same layouts: a 4x4 block of outputs needs a 6x6 block of
/// inputs, and the convolution becomes 36 channel GEMMs, 36 multiply-adds per 16 outputs and
/// channel pair where the direct convolution needs 144 and F(2x2, 3x3) 64. Position ξ = 6 · row
/// + column. Channel counts must be multiples of 16.
public enum WinogradTransforms43 {
    /// `Bᵀ d` for one column of six.
    @inline(__always)
    static func bt(_ d: (Vector16, Vector16, Vector16, Vector16, Vector16, Vector16)) -> (
        Vector16, Vector16, Vector16, Vector16, Vector16, Vector16
    ) {
        let (d0, d1, d2, d3, d4, d5) = d
        let a = d4 - 4 * d2, b = d3 - 4 * d1, c = d4 - d2, e = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, a + b, a - b, c + e, c - e, 4 * d1 - 5 * d3 + d5)
    }

    /// `Aᵀ m` for one column of six: four outputs.
    @inline(__always)
    static func at(_ m: (Vector16, Vector16, Vector16, Vector16, Vector16, Vector16)) -> (
        Vector16, Vector16, Vector16, Vector16
    ) {
        let (m0, m1, m2, m3, m4, m5) = m
        let sum12 = m1 + m2, diff12 = m1 - m2, sum34 = m3 + m4, diff34 = m3 - m4
        return (m0 + sum12 + sum34, diff12 + 2 * diff34, sum12 + 4 * sum34, diff12 + 8 * diff34 + m5)
    }

    /// `A a` for one column of four (the weight gradient's `A dy Aᵀ`): six values.
    @inline(__always)
    static func ag(_ a: (Vector16, Vector16, Vector16, Vector16)) -> (
        Vector16, Vector16, Vector16, Vector16, Vector16, Vector16
    ) {
        let (a0, a1, a2, a3) = a
        let even = a0 + a2, odd = a1 + a3, even4 = a0 + 4 * a2, odd8 = 2 * a1 + 8 * a3
        return (a0, even + odd, even - odd, even4 + odd8, even4 - odd8, a3)
    }

    @inline(__always)
    static func row(_ p: UnsafePointer<Float>, _ step: Int) -> (
        Vector16, Vector16, Vector16, Vector16, Vector16, Vector16
    ) {
        (load(p), load(p + step), load(p + 2 * step), load(p + 3 * step), load(p + 4 * step), load(p + 5 * step))
    }

    @inline(__always)
    static func store6(
        _ v: (Vector16, Vector16, Vector16, Vector16, Vector16, Vector16), _ p: UnsafeMutablePointer<Float>, _ step: Int
    ) {
        store(v.0, p)
        store(v.1, p + step)
        store(v.2, p + 2 * step)
        store(v.3, p + 3 * step)
        store(v.4, p + 4 * step)
        store(v.5, p + 5 * step)
    }

    /// Transforms the `tiles` input tiles of one tile row: pixel (r, c) of tile `t` is at
    /// `window + r · rowStride + (4t + c) · channels`; position ξ of tile `t` goes to
    /// `v + ξ · matrixStride + t · channels`.
    public static func inputTileRow(
        _ window: UnsafePointer<Float>, rowStride rs: Int, channels: Int, tiles: Int,
        into v: UnsafeMutablePointer<Float>,
        matrixStride m: Int
    ) {
        for t in 0..<tiles {
            var c = 0
            while c < channels {
                let x = window + 4 * t * channels + c
                // Bᵀ over each of the six rows, then over each column of the results.
                let r0 = bt(row(x, channels)), r1 = bt(row(x + rs, channels)), r2 = bt(row(x + 2 * rs, channels))
                let r3 = bt(row(x + 3 * rs, channels)), r4 = bt(row(x + 4 * rs, channels))
                let r5 = bt(row(x + 5 * rs, channels))
                let p = v + t * channels + c
                store6(bt((r0.0, r1.0, r2.0, r3.0, r4.0, r5.0)), p, 6 * m)
                store6(bt((r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)), p + m, 6 * m)
                store6(bt((r0.2, r1.2, r2.2, r3.2, r4.2, r5.2)), p + 2 * m, 6 * m)
                store6(bt((r0.3, r1.3, r2.3, r3.3, r4.3, r5.3)), p + 3 * m, 6 * m)
                store6(bt((r0.4, r1.4, r2.4, r3.4, r4.4, r5.4)), p + 4 * m, 6 * m)
                store6(bt((r0.5, r1.5, r2.5, r3.5, r4.5, r5.5)), p + 5 * m, 6 * m)
                c += 16
            }
        }
    }

    /// Transforms one tile row of products back into `rows` (1 to 4) output rows of `width`
    /// pixels at `out` (row stride `rowStride`), reading position ξ of tile `t` at
    /// `m + ξ · matrixStride + t · channels`: the product, plus what is there when `accumulate`,
    /// plus `bias`, through a ReLU-family activation when `slope` is set (0 for ReLU).
    public static func outputTileRow(
        _ m: UnsafePointer<Float>, matrixStride s: Int, channels: Int, to out: UnsafeMutablePointer<Float>,
        rowStride: Int, rows: Int, width: Int, accumulate: Bool, bias: UnsafePointer<Float>?, slope: Float?
    ) {
        @inline(__always)
        func emit(_ y: Vector16, _ o: UnsafeMutablePointer<Float>, _ b: Vector16) {
            var v = accumulate ? load(o) + y : y
            if bias != nil { v += b }
            if let slope { v = v.replacing(with: slope == 0 ? Vector16() : v * slope, where: v .< 0) }
            store(v, o)
        }
        for t in 0..<(width + 3) / 4 {
            let columns = min(4, width - 4 * t)
            var c = 0
            while c < channels {
                let p = m + t * channels + c
                // Aᵀ over each of the six rows of positions, then over the columns of the results.
                let q0 = at(row(p, s)), q1 = at(row(p + 6 * s, s)), q2 = at(row(p + 12 * s, s))
                let q3 = at(row(p + 18 * s, s)), q4 = at(row(p + 24 * s, s)), q5 = at(row(p + 30 * s, s))
                let y0 = at((q0.0, q1.0, q2.0, q3.0, q4.0, q5.0)), y1 = at((q0.1, q1.1, q2.1, q3.1, q4.1, q5.1))
                let y2 = at((q0.2, q1.2, q2.2, q3.2, q4.2, q5.2)), y3 = at((q0.3, q1.3, q2.3, q3.3, q4.3, q5.3))
                let b = bias.map { load($0 + c) } ?? Vector16()
                let o = out + 4 * t * channels + c
                @inline(__always)
                func emitColumn(_ y: (Vector16, Vector16, Vector16, Vector16), _ j: Int) {
                    guard j < columns else { return }
                    let at = o + j * channels
                    emit(y.0, at, b)
                    if rows > 1 { emit(y.1, at + rowStride, b) }
                    if rows > 2 { emit(y.2, at + 2 * rowStride, b) }
                    if rows > 3 { emit(y.3, at + 3 * rowStride, b) }
                }
                emitColumn(y0, 0)
                emitColumn(y1, 1)
                emitColumn(y2, 2)
                emitColumn(y3, 3)
                c += 16
            }
        }
    }

    /// Transforms one 4x4 tile of output gradients for the weight gradient, `A dy Aᵀ`: dy (i, j)
    /// is at `dy + i · rowStride + j · channels` for the `rows` x `columns` (1 to 4 each) outputs
    /// inside the image, zero elsewhere. Position ξ goes to `v + ξ · matrixStride`.
    public static func gradientTile(
        _ dy: UnsafePointer<Float>, rowStride: Int, channels: Int, rows: Int, columns: Int,
        into v: UnsafeMutablePointer<Float>, matrixStride m: Int
    ) {
        @inline(__always)
        func read(_ i: Int, _ j: Int, _ p: UnsafePointer<Float>) -> Vector16 {
            i < rows && j < columns ? load(p + i * rowStride + j * channels) : Vector16()
        }
        var c = 0
        while c < channels {
            let p = dy + c
            // A over each of the four columns of dy, then over the rows of the results.
            let k0 = ag((read(0, 0, p), read(1, 0, p), read(2, 0, p), read(3, 0, p)))
            let k1 = ag((read(0, 1, p), read(1, 1, p), read(2, 1, p), read(3, 1, p)))
            let k2 = ag((read(0, 2, p), read(1, 2, p), read(2, 2, p), read(3, 2, p)))
            let k3 = ag((read(0, 3, p), read(1, 3, p), read(2, 3, p), read(3, 3, p)))
            let q = v + c
            store6(ag((k0.0, k1.0, k2.0, k3.0)), q, m)
            store6(ag((k0.1, k1.1, k2.1, k3.1)), q + 6 * m, m)
            store6(ag((k0.2, k1.2, k2.2, k3.2)), q + 12 * m, m)
            store6(ag((k0.3, k1.3, k2.3, k3.3)), q + 18 * m, m)
            store6(ag((k0.4, k1.4, k2.4, k3.4)), q + 24 * m, m)
            store6(ag((k0.5, k1.5, k2.5, k3.5)), q + 30 * m, m)
            c += 16
        }
    }
}
