import ScionTiles

/// How a 3x3 stride-1 convolution runs as Winograd F(2x2, 3x3) with the microkernels: 2.25x fewer
/// multiply-adds than the direct kernels, paid for with tile transforms and 16/9 of the weight
/// memory. Work is split into chunks of tile rows (a tile row is two output rows of one image);
/// for each chunk a thread transforms the input tiles, runs the 16 channel GEMMs with the direct
/// microkernels (as 1x1 convolutions) and transforms the products back into output rows.
///
/// Chosen for every such layer with at least 8x8 output pixels: on smaller images (ResNet-18's
/// 4x4 stage) the transformed weights, 16/9 the size of the originals and read once per chunk,
/// outweigh the work done with them at batch 1. Measured on WRN-16-1 and ResNet-18, it pays
/// from 16 channels up. `SCION_KERNELS=direct` turns it off, for comparisons.
public struct WinogradConvPlan: Sendable {
    public static let enabled: Bool = {
        DirectConvPlan.cpuSupported && !MicrokernelISA.winogradDisabled
    }()

    /// Floats of transformed input and output a chunk may hold: about the size of L2, so the
    /// 16 GEMMs read what the input transform just wrote from cache.
    public static let defaultChunkFloats = 16_384

    public let geometry: ConvGeometry
    public let tilesHigh: Int
    public let tilesWide: Int
    /// Tile rows per chunk at most.
    public let maxTileRows: Int
    /// The zero-padded copy of the four input rows a tile row reads (the direct kernels' window).
    let window: DirectConvPlan

    /// Nil when `g` does not suit F(2x2, 3x3) or it would not pay.
    public init?(_ g: ConvGeometry, chunkFloats: Int = WinogradConvPlan.defaultChunkFloats) {
        guard Self.suits(g), g.outHeight * g.outWidth >= 64, let window = DirectConvPlan(g) else {
            return nil
        }
        geometry = g
        self.window = window
        tilesHigh = (g.outHeight + 1) / 2
        tilesWide = (g.outWidth + 1) / 2
        maxTileRows = max(1, chunkFloats / (tilesWide * (g.inChannels + g.outChannels)))
    }

    /// The shapes the transforms handle at all: 3x3, stride 1, no dilation, one group,
    /// channels in multiples of 16.
    public static func suits(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1
            && g.dilationW == 1
            && g.groups == 1 && g.inChannels % 16 == 0 && g.outChannels % 16 == 0 && g.padH <= 2 && g.padW <= 2
    }

    /// Tiles of one chunk, rounded up to the microkernels' 8 pixels.
    var paddedTiles: Int { (maxTileRows * tilesWide + 7) / 8 * 8 }
    /// Floats from one position ξ's matrix to the next. One cache line more than the matrix:
    /// a power-of-two stride would put the 16 lines a tile transform reads or writes in one
    /// L1 set (8 ways), and the transforms would run from L2.
    var inputMatrixStride: Int { paddedTiles * geometry.inChannels + 16 }
    var outputMatrixStride: Int { paddedTiles * geometry.outChannels + 16 }
    var transformedInputCount: Int { 16 * inputMatrixStride }
    var transformedOutputCount: Int { 16 * outputMatrixStride }

    /// Floats of the four-row input window: its width covers every tile of the row.
    var windowCount: Int { 4 * window.paddedWidth * geometry.inChannels }

    /// Floats of scratch per thread: transformed input and output and the input window.
    public var workspaceCount: Int { transformedInputCount + transformedOutputCount + windowCount }

    /// Floats of packed weights: 16 matrices of `[C][O]`.
    public var packedCount: Int { 16 * geometry.inChannels * geometry.outChannels }

    public func chunking(batch: Int, threads: Int) -> Chunking {
        Chunking(rows: batch * tilesHigh, maxRows: maxTileRows, threads: threads)
    }
}

extension WinogradConvPlan {
    /// Transforms PyTorch's `[O, C, 3, 3]` weights, `U = G g Gᵀ` with
    /// `G = [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]]`, and packs each position ξ's `[C][O]` matrix the
    /// way the direct microkernels read weights: blocks of output channels, `[C][block]` each.
    public func pack(_ w: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
        let c = geometry.inChannels, o = geometry.outChannels
        var co0 = 0
        while co0 < o {
            let block = Microkernels.blockSize(remaining: o - co0)
            for j in 0..<block {
                for ci in 0..<c {
                    let u = Self.transform(w + ((co0 + j) * c + ci) * 9)
                    for xi in 0..<16 { p[xi * c * o + co0 * c + ci * block + j] = u[xi] }
                }
            }
            co0 += block
        }
    }

    /// `G g Gᵀ` of one 3x3 kernel, row-major 4x4.
    static func transform(_ g: UnsafePointer<Float>) -> SIMD16<Float> {
        var gg = SIMD16<Float>()  // rows of G g: 4 x 3, stored 4 x 4
        for k in 0..<3 {
            let a = g[k], b = g[3 + k], c = g[6 + k]
            gg[k] = a
            gg[4 + k] = 0.5 * (a + b + c)
            gg[8 + k] = 0.5 * (a - b + c)
            gg[12 + k] = c
        }
        var u = SIMD16<Float>()
        for r in 0..<4 {
            let a = gg[4 * r], b = gg[4 * r + 1], c = gg[4 * r + 2]
            u[4 * r] = a
            u[4 * r + 1] = 0.5 * (a + b + c)
            u[4 * r + 2] = 0.5 * (a - b + c)
            u[4 * r + 3] = c
        }
        return u
    }
}

extension WinogradConvPlan {
    /// Computes chunk `chunk` of `y = act(conv(x) [+ residual] [+ bias])` (NHWC) from weights
    /// packed by `pack`, the activation a ReLU with `slope` 0 or a leaky ReLU (none without).
    /// The chunk's tile rows cover a contiguous run of output rows, returned for any further
    /// epilogue as (first pixel, pixel count). `residual` may be `y` itself.
    public func compute(
        chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?,
        weights: UnsafePointer<Float>, workspace: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>? = nil,
        slope: Float? = nil
    ) -> (firstPixel: Int, pixels: Int) {
        let g = geometry
        let first = chunk * chunking.rows, last = min(first + chunking.rows, chunking.total)
        guard first < last else { return (0, 0) }
        let firstPixel = outputRow(first) * g.outWidth
        let pixels = (outputRow(last - 1) + min(2, g.outHeight - (last - 1) % tilesHigh * 2)) * g.outWidth - firstPixel
        if let residual, residual != UnsafePointer(y) {
            (y + firstPixel * g.outChannels).update(
                from: residual + firstPixel * g.outChannels, count: pixels * g.outChannels)
        }
        let v = workspace, m = workspace + transformedInputCount, rows = m + transformedOutputCount
        let tiles = (last - first) * tilesWide
        transformInput(x, tileRows: first..<last, into: v, window: rows)
        let gemm = ForwardTile(
            channels: g.inChannels, kernelHeight: 1, kernelWidth: 1, stride: 1, rowStride: 0, outStride: g.outChannels)
        for xi in 0..<16 {
            Microkernels.forwardRow(
                window: v + xi * inputMatrixStride, weights: weights + xi * g.inChannels * g.outChannels, tile: gemm,
                outChannels: g.outChannels, pixels: tiles, out: m + xi * outputMatrixStride, accumulate: false)
        }
        transformOutput(m, tileRows: first..<last, into: y, accumulate: residual != nil, bias: bias, slope: slope)
        return (firstPixel, pixels)
    }

    /// First output row (counted over the whole batch) of tile row `t`.
    func outputRow(_ t: Int) -> Int { t / tilesHigh * geometry.outHeight + t % tilesHigh * 2 }

    func transformInput(
        _ x: UnsafePointer<Float>, tileRows: Range<Int>, into v: UnsafeMutablePointer<Float>,
        window rows: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, c = g.inChannels
        for (k, t) in tileRows.enumerated() {
            window.fillWindow(x, image: t / tilesHigh, firstInputRow: t % tilesHigh * 2 - g.padH, rows: 4, into: rows)
            Microkernels.winogradInputTileRow(
                rows, rowStride: window.paddedWidth * c, channels: c, tiles: tilesWide, into: v + k * tilesWide * c,
                matrixStride: inputMatrixStride)
        }
    }

    /// Transforms the products of `tileRows` back into output rows of `y`, adding to what `y`
    /// holds when `accumulate`, then adds `bias` and applies a ReLU-family activation (`slope`).
    func transformOutput(
        _ m: UnsafePointer<Float>, tileRows: Range<Int>, into y: UnsafeMutablePointer<Float>, accumulate: Bool,
        bias: UnsafePointer<Float>? = nil, slope: Float? = nil
    ) {
        let g = geometry, o = g.outChannels
        for (k, t) in tileRows.enumerated() {
            let n = t / tilesHigh, oh = t % tilesHigh * 2
            Microkernels.winogradOutputTileRow(
                m + k * tilesWide * o, matrixStride: outputMatrixStride, channels: o,
                to: y + (n * g.outHeight + oh) * g.outWidth * o,
                rowStride: g.outWidth * o, rows: min(2, g.outHeight - oh), width: g.outWidth, accumulate: accumulate,
                bias: bias, slope: slope)
        }
    }

    /// Calls `body(tile, offset, rows, columns)` for each tile of `tileRows` in order: its index
    /// in the chunk, the float offset of its first output in an NHWC output (or output
    /// gradient), and how many of its 2 x 2 outputs lie inside the image.
    @inline(__always)
    func forEachOutputTile(_ tileRows: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
        let g = geometry, o = g.outChannels
        var tile = 0
        for t in tileRows {
            let n = t / tilesHigh, oh = t % tilesHigh * 2
            let rowStart = (n * g.outHeight + oh) * g.outWidth * o
            let rows = min(2, g.outHeight - oh)
            for tw in 0..<tilesWide {
                body(tile, rowStart + tw * 2 * o, rows, min(2, g.outWidth - tw * 2))
                tile += 1
            }
        }
    }
}
