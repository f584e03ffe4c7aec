import ScionBF16
import ScionTiles

/// How a 3x3 stride-1 convolution runs as Winograd F(m x m, 3x3) with the microkernels, `m`
/// (`tile`) 2 or 4: per m x m outputs and channel pair, (m + 2)² multiply-adds instead of 9m²
/// (2.25x fewer for F(2x2, 3x3), 4x for F(4x4, 3x3)), paid for with tile transforms and (m + 2)²/9
/// the weight memory. Work is split into chunks of tile rows (a tile row is m output rows of one
/// image); for each chunk a thread transforms the input tiles, runs the (m + 2)² channel GEMMs
/// with the direct microkernels (as 1x1 convolutions) and transforms the products back into
/// output rows.
///
/// Chosen for every such layer with at least 16 F(2x2, 3x3) tiles per image (7x7 outputs or
/// more): on smaller images (ResNet-18's 4x4 stage) the transformed weights, read once per
/// chunk, outweigh the work done with them at batch 1. `SCION_KERNELS=direct` turns Winograd
/// off, `winograd2` keeps F(2x2, 3x3) everywhere, for comparisons.
public struct WinogradConvPlan: Sendable {
    public static let enabled: Bool = {
        DirectConvPlan.cpuSupported && !MicrokernelISA.winogradDisabled
    }()

    /// Floats of transformed input and output a chunk may hold, summed over the positions: about
    /// the size of L2, so the GEMMs read what the input transform just wrote from cache.
    public static let defaultChunkFloats = 262_144

    public let geometry: ConvGeometry
    /// Outputs per tile side: 2 for F(2x2, 3x3), 4 for F(4x4, 3x3).
    public let tile: Int
    public let tilesHigh: Int
    public let tilesWide: Int
    /// Tile rows per chunk at most.
    public let maxTileRows: Int
    /// The zero-padded copy of the input rows a tile row reads (the direct kernels' window).
    let window: DirectConvPlan

    /// Nil when `g` does not suit Winograd or it would not pay. `tile` nil picks the tile size.
    public init?(_ g: ConvGeometry, tile: Int? = nil, chunkFloats: Int = WinogradConvPlan.defaultChunkFloats) {
        guard Self.suits(g), (g.outHeight + 1) / 2 * ((g.outWidth + 1) / 2) >= 16, let window = DirectConvPlan(g) else {
            return nil
        }
        geometry = g
        self.window = window
        self.tile = tile ?? Self.tileSize(g)
        precondition(self.tile == 2 || self.tile == 4, "Winograd tiles are 2x2 or 4x4")
        tilesHigh = (g.outHeight + self.tile - 1) / self.tile
        tilesWide = (g.outWidth + self.tile - 1) / self.tile
        let alpha = self.tile + 2
        maxTileRows = max(1, chunkFloats / (alpha * alpha * tilesWide * (g.inChannels + g.outChannels)))
    }

    /// F(4x4, 3x3) where the largest batch has at least 16 of its tiles; F(2x2, 3x3) elsewhere or
    /// when `SCION_KERNELS` says `winograd2`. Each transformed weight is used once per tile, and
    /// F(4x4, 3x3)'s weights are 36/16 the size of F(2x2, 3x3)'s: with fewer tiles the GEMMs
    /// stream weights from memory (ResNet-18's 8x8 layers of 256 channels ran 1.4x slower at
    /// batch 1, its 32x32 and 16x16 layers 0.6 to 0.8x faster). Partial tiles waste the same
    /// share of either (7x7 outputs: 64/49), and F(4x4, 3x3) still multiplies 1.8x less.
    static func tileSize(_ g: ConvGeometry) -> Int {
        let tiles = g.batch * ((g.outHeight + 3) / 4) * ((g.outWidth + 3) / 4)
        return !MicrokernelISA.winograd4Disabled && tiles >= 16 ? 4 : 2
    }

    /// The shapes the transforms handle at all: 3x3, stride 1, no dilation, one group,
    /// channels in multiples of 16.
    public static func suits(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1
            && g.dilationW == 1
            && g.groups == 1 && g.inChannels % 16 == 0 && g.outChannels % 16 == 0 && g.padH <= 2 && g.padW <= 2
    }

    /// Input pixels per tile side, and positions of the transformed domain.
    var alpha: Int { tile + 2 }
    var positions: Int { alpha * alpha }
    /// Tiles of one chunk, rounded up to the microkernels' 8 pixels.
    var paddedTiles: Int { (maxTileRows * tilesWide + 7) / 8 * 8 }
    /// Floats from one position ξ's matrix to the next. One cache line more than the matrix:
    /// a power-of-two stride would put the lines a tile transform reads or writes in one L1 set
    /// (8 ways), and the transforms would run from L2.
    var inputMatrixStride: Int { paddedTiles * geometry.inChannels + 16 }
    var outputMatrixStride: Int { paddedTiles * geometry.outChannels + 16 }
    var transformedInputCount: Int { positions * inputMatrixStride }
    var transformedOutputCount: Int { positions * outputMatrixStride }

    /// Floats of the input window of one tile row: its width covers every tile of the row.
    var windowCount: Int { alpha * window.paddedWidth * geometry.inChannels }

    /// Floats of scratch per thread: transformed input and output and the input window.
    public var workspaceCount: Int { transformedInputCount + transformedOutputCount + windowCount }

    /// Floats of packed weights: one `[C][O]` matrix per position.
    public var packedCount: Int { positions * geometry.inChannels * geometry.outChannels }

    public func chunking(batch: Int, threads: Int) -> Chunking {
        Chunking(rows: batch * tilesHigh, maxRows: maxTileRows, threads: threads, batch: batch)
    }

    /// For an F(4x4, 3x3) plan whose images have fewer than 16 tiles each: the batch from which
    /// it pays (below it `Conv2D` runs F(2x2, 3x3), see `tileSize`). Nil otherwise.
    public var smallBatchLimit: Int? {
        let perImage = tilesHigh * tilesWide
        guard tile == 4, perImage < 16 else { return nil }
        return (16 + perImage - 1) / perImage
    }

    /// First output row (counted over the whole batch) of tile row `t`.
    func outputRow(_ t: Int) -> Int { t / tilesHigh * geometry.outHeight + t % tilesHigh * tile }

    /// Output rows of tile row `t` inside the image.
    func rowsInside(_ t: Int) -> Int { min(tile, geometry.outHeight - t % tilesHigh * tile) }
}

extension WinogradConvPlan {
    /// Transforms PyTorch's `[O, C, 3, 3]` weights, `U = G g Gᵀ`, and packs each position ξ's
    /// `[C][O]` matrix the way the direct microkernels read weights: blocks of output channels,
    /// `[C][block]` each.
    public func pack(_ w: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>) {
        let c = geometry.inChannels, o = geometry.outChannels, transform = WinogradKernelTransform(tile: tile)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 9 * 16) { buffer in
            guard let taps = buffer.baseAddress else { return }
            var co0 = 0
            while co0 < o {
                // Blocks are 16 or 32 channels (`suits` asks for multiples of 16): 16 lanes at a time.
                let block = Microkernels.blockSize(remaining: o - co0)
                for lane0 in stride(from: 0, to: block, by: 16) {
                    for ci in 0..<c {
                        for l in 0..<16 {
                            let kernel = w + ((co0 + lane0 + l) * c + ci) * 9
                            for t in 0..<9 { taps[t * 16 + l] = kernel[t] }
                        }
                        transform.forward(lanes: taps, into: p + co0 * c + ci * block + lane0, stride: c * o)
                    }
                }
                co0 += block
            }
        }
    }
}

extension WinogradConvPlan {
    /// Computes chunk `chunk` of `y = act(conv(x) [+ residual] [+ bias])` (NHWC) from weights
    /// packed by `pack`, the activation a ReLU with `slope` 0 or a leaky ReLU (none without).
    /// With `pairs` (weights from `packPairs`) the products run in BF16 (`Precision.bf16`).
    /// The chunk's tile rows cover a contiguous run of output rows, returned for any further
    /// epilogue as (first pixel, pixel count). `residual` may be `y` itself.
    public func compute(
        chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?,
        weights: UnsafePointer<Float>, pairs: UnsafePointer<UInt32>? = nil, workspace: UnsafeMutablePointer<Float>,
        bias: UnsafePointer<Float>? = nil, slope: Float? = nil
    ) -> (firstPixel: Int, pixels: Int) {
        let g = geometry
        let first = chunk * chunking.rows, last = min(first + chunking.rows, chunking.total)
        guard first < last else { return (0, 0) }
        let firstPixel = outputRow(first) * g.outWidth
        let pixels = (outputRow(last - 1) + rowsInside(last - 1)) * g.outWidth - firstPixel
        if let residual, residual != UnsafePointer(y) {
            (y + firstPixel * g.outChannels).update(
                from: residual + firstPixel * g.outChannels, count: pixels * g.outChannels)
        }
        let v = workspace, m = workspace + transformedInputCount, rows = m + transformedOutputCount
        let tiles = (last - first) * tilesWide
        transformInput(x, tileRows: first..<last, into: v, window: rows)
        let gemm = ForwardTile(
            channels: g.inChannels, kernelHeight: 1, kernelWidth: 1, stride: 1, rowStride: 0, outStride: g.outChannels)
        for xi in 0..<positions {
            if let pairs {
                // In place: the products read the rounded pairs from where the floats were.
                let matrix = v + xi * inputMatrixStride, c = g.inChannels
                BF16Products.roundToPairs(matrix, count: tiles * c)
                // The products read whole groups of 8 tiles (inside the padded matrix; the extra
                // rows' results are dropped), so the rebinding covers them too.
                matrix.withMemoryRebound(to: UInt32.self, capacity: (tiles + 7) / 8 * 8 * c / 2) { words in
                    BF16Products.multiply(
                        words, pairs: c / 2, weights: pairs + xi * c / 2 * g.outChannels,
                        outChannels: g.outChannels, pixels: tiles, out: m + xi * outputMatrixStride,
                        outStride: g.outChannels)
                }
                continue
            }
            Microkernels.forwardRow(
                window: v + xi * inputMatrixStride, weights: weights + xi * g.inChannels * g.outChannels, tile: gemm,
                outChannels: g.outChannels, pixels: tiles, out: m + xi * outputMatrixStride, accumulate: false)
        }
        transformOutput(m, tileRows: first..<last, into: y, accumulate: residual != nil, bias: bias, slope: slope)
        return (firstPixel, pixels)
    }

    func transformInput(
        _ x: UnsafePointer<Float>, tileRows: Range<Int>, into v: UnsafeMutablePointer<Float>,
        window rows: UnsafeMutablePointer<Float>
    ) {
        let g = geometry, c = g.inChannels
        for (k, t) in tileRows.enumerated() {
            window.fillWindow(
                x, image: t / tilesHigh, firstInputRow: t % tilesHigh * tile - g.padH, rows: alpha, into: rows)
            Microkernels.winogradInputTileRow(
                tile: tile, rows, rowStride: window.paddedWidth * c, channels: c, tiles: tilesWide,
                into: v + k * tilesWide * c, matrixStride: inputMatrixStride)
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
            Microkernels.winogradOutputTileRow(
                tile: tile, m + k * tilesWide * o, matrixStride: outputMatrixStride, channels: o,
                to: y + outputRow(t) * g.outWidth * o, rowStride: g.outWidth * o, rows: rowsInside(t),
                width: g.outWidth, accumulate: accumulate, bias: bias, slope: slope)
        }
    }

    /// Calls `body(tile, offset, rows, columns)` for each tile of `tileRows` in order: its index
    /// in the chunk, the float offset of its first output in an NHWC output (or output
    /// gradient), and how many of its outputs lie inside the image.
    @inline(__always)
    func forEachOutputTile(_ tileRows: Range<Int>, _ body: (Int, Int, Int, Int) -> Void) {
        let o = geometry.outChannels
        var index = 0
        for t in tileRows {
            let rowStart = outputRow(t) * geometry.outWidth * o
            for tw in 0..<tilesWide {
                body(index, rowStart + tw * tile * o, rowsInside(t), min(tile, geometry.outWidth - tw * tile))
                index += 1
            }
        }
    }
}
