import CBLAS
import ScionTiles

/// The weight gradient of a convolution over NHWC tensors: `dW = Σ_rows im2col(x)ᵀ · dy`.
///
/// Rows of output pixels are split statically into one part per thread; each part accumulates
/// into its own packed `[group][kh·kw·ci][co]` partial with `cblas_sgemm` (beta 1), gathering
/// patches chunk by chunk as the forward pass does; the partials are then summed in part order
/// (deterministic) and unpacked to PyTorch's `[O, C/groups, kh, kw]`. On request a part also
/// sums its output gradient per channel (a bias gradient) while each piece of dy is in cache.
///
/// On CPUs that run the microkernels (AVX-512 or AVX2), layers the direct ones suit skip the patch gathering: each part
/// walks tiles of output rows and accumulates straight from a zero-padded window of input rows;
/// layers the forward pass runs as Winograd accumulate in its transformed domain
/// (see `WinogradWeightGradient.swift`), parts split by tile rows.
public final class ConvWeightGradient: @unchecked Sendable {
    public let geometry: ConvGeometry
    /// The direct microkernels, Winograd's transformed domain, or patches and sgemm.
    public let algorithm: ConvAlgorithm
    /// The GEMM path's patch gathering, as the forward pass does it.
    let patches: Im2Col
    /// Output rows per direct tile (all from one image).
    let tileRows: Int

    public init(geometry: ConvGeometry, allowDirect: Bool = true, allowWinograd: Bool = true, winogradTile: Int? = nil)
    {
        self.geometry = geometry
        patches = Im2Col(geometry)
        // With 16 channels a side the transformed-domain GEMMs are too thin to pay for the
        // transforms (measured on the stage-1 WRN-16-1: 7.8 against 6.8 ms per step and layer).
        let wide = min(geometry.inChannels, geometry.outChannels) >= 32
        algorithm = ConvAlgorithm.choose(
            geometry, allowDirect: allowDirect, allowWinograd: allowWinograd && wide, winogradTile: winogradTile)
        // Keep a tile's output gradient near 8K floats so it stays in L1 across the taps.
        tileRows = max(1, min(geometry.outHeight, 8192 / max(geometry.outWidth * geometry.outChannels, 1)))
    }

    var depth: Int { patches.depth }
    var packedCount: Int {
        if case .winograd(let plan) = algorithm { return plan.packedCount }
        return geometry.groups * depth * geometry.outChannelsPerGroup
    }
    /// Input rows one direct tile reads.
    var windowRows: Int { (tileRows - 1) * geometry.strideH + geometry.kernelHeight }
    var scratchPerPart: Int {
        switch algorithm {
        case .winograd(let plan): plan.workspaceCount
        case .direct(let plan): windowRows * plan.paddedWidth * geometry.inChannels
        case .gemm: patches.scratchPerThread
        }
    }

    /// Floats of scratch for `parts` parts: one packed partial and one patch chunk each, then
    /// each part's bias sums (Doubles, 8-byte aligned).
    public func workspaceCount(parts: Int) -> Int { biasOffset(parts: parts) + parts * 2 * geometry.outChannels }

    func biasOffset(parts: Int) -> Int { (parts * (packedCount + scratchPerPart) + 1) / 2 * 2 }

    func biasPartial(part t: Int, parts: Int, workspace: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Double> {
        UnsafeMutableRawPointer(workspace + biasOffset(parts: parts)).assumingMemoryBound(to: Double.self) + t
            * geometry.outChannels
    }

    /// Accumulates part `t` of `parts` (rows for `batch` images) into its partial, and with
    /// `withBias` the part's channel sums of dy into its bias partial.
    public func accumulate(
        part t: Int, parts: Int, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, batch: Int,
        workspace: UnsafeMutablePointer<Float>,
        withBias: Bool = false
    ) {
        let g = geometry
        let partial = workspace + t * packedCount
        let scratch = workspace + parts * packedCount + t * scratchPerPart
        let bias = withBias ? biasPartial(part: t, parts: parts, workspace: workspace) : nil
        partial.update(repeating: 0, count: packedCount)
        bias?.update(repeating: 0, count: g.outChannels)
        if case .winograd(let winograd) = algorithm {
            let tileRows = StaticPartition(total: batch * winograd.tilesHigh, parts: parts)
            let range = t < tileRows.parts ? tileRows.range(t) : 0..<0
            winograd.accumulateWeightGradient(
                x: x, dy: dy, tileRows: range, into: partial, bias: bias, workspace: scratch)
            return
        }
        let partition = StaticPartition(total: batch * g.outPlane, parts: parts)
        let range = t < partition.parts ? partition.range(t) : 0..<0
        if case .direct(let direct) = algorithm {
            accumulateDirect(direct, pixels: range, x: x, dy: dy, window: scratch, into: partial, bias: bias)
            return
        }
        var r0 = range.lowerBound
        while r0 < range.upperBound {
            let n = min(patches.maxChunkRows, range.upperBound - r0)
            for group in 0..<g.groups {
                let a: UnsafePointer<Float>
                let lda: Int
                if patches.pointwise {
                    a = x + r0 * g.inChannels + group * g.inChannelsPerGroup
                    lda = g.inChannels
                } else {
                    patches.gather(x, into: scratch, firstRow: r0, rows: n, group: group)
                    a = UnsafePointer(scratch)
                    lda = depth
                }
                cblas_sgemm(
                    CblasRowMajor, CblasTrans, CblasNoTrans, Int32(depth), Int32(g.outChannelsPerGroup), Int32(n), 1,
                    a, Int32(lda), dy + r0 * g.outChannels + group * g.outChannelsPerGroup, Int32(g.outChannels), 1,
                    partial + group * depth * g.outChannelsPerGroup, Int32(g.outChannelsPerGroup))
            }
            if let bias { Reductions.addChannelSums(dy, rows: r0..<(r0 + n), channels: g.outChannels, into: bias) }
            r0 += n
        }
    }

    /// Direct tiles over the output pixels `pixels` (whole rows only: partitions are by pixel,
    /// so a part's first and last rows may be partial and go through sgemm-free row pieces).
    private func accumulateDirect(
        _ plan: DirectConvPlan, pixels: Range<Int>, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
        window: UnsafeMutablePointer<Float>,
        into partial: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Double>?
    ) {
        let g = geometry
        var p = pixels.lowerBound
        while p < pixels.upperBound {
            let row = p / g.outWidth, n = row / g.outHeight, oh = row % g.outHeight, ow = p % g.outWidth
            // A tile: from p, whole rows of one image while they fit in the part, or a row piece.
            let piece = ow != 0 || pixels.upperBound - p < g.outWidth
            let rows = piece ? 1 : min(tileRows, g.outHeight - oh, (pixels.upperBound - p) / g.outWidth)
            let count = piece ? min(g.outWidth - ow, pixels.upperBound - p) : g.outWidth
            plan.fillWindow(
                x, image: n, firstInputRow: oh * g.strideH - g.padH, rows: (rows - 1) * g.strideH + g.kernelHeight,
                into: window)
            // Fewer than 8 input channels would leave the 8-channel microkernels idle: the
            // kernel's width is folded into the channels, which are contiguous in the window.
            let fold = g.inChannels < 8 ? g.kernelWidth : 1
            let tile = GradientTile(
                channels: g.inChannels * fold, outChannels: g.outChannels, kernelHeight: g.kernelHeight,
                kernelWidth: g.kernelWidth / fold,
                stride: g.strideW, rowStride: plan.paddedWidth * g.inChannels, rows: rows, pixels: count,
                pixelStep: g.strideW * g.inChannels)
            Microkernels.weightGradient(
                window: window + ow * g.strideW * g.inChannels, dy: dy + p * g.outChannels, tile: tile, dw: partial)
            let tilePixels = piece ? count : rows * g.outWidth
            if let bias {
                Reductions.addChannelSums(dy, rows: p..<(p + tilePixels), channels: g.outChannels, into: bias)
            }
            p += tilePixels
        }
    }

    /// Sums the partials in order and writes dW as `[O, C/groups, kh, kw]` (and the bias
    /// gradient into `db`, when the parts summed it).
    public func finish(
        parts: Int, workspace: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>,
        db: UnsafeMutablePointer<Float>? = nil
    ) {
        let g = geometry
        if let db {
            Reductions.combine(
                biasPartial(part: 0, parts: parts, workspace: workspace), parts: parts, count: g.outChannels, into: db)
        }
        let total = workspace  // partial 0 collects the sum
        for t in 1..<max(parts, 1) { Elementwise.add(total, workspace + t * packedCount, total, count: packedCount) }
        if case .winograd(let winograd) = algorithm {
            winograd.weightGradient(fromTransformed: total, into: dw)
            return
        }
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, kh = g.kernelHeight, kw = g.kernelWidth
        for o in 0..<g.outChannels {
            let group = o / coutG, co = o % coutG
            for ci in 0..<cinG {
                for y in 0..<kh {
                    for x in 0..<kw {
                        let k = (y * kw + x) * cinG + ci
                        dw[((o * cinG + ci) * kh + y) * kw + x] = total[(group * depth + k) * coutG + co]
                    }
                }
            }
        }
    }
}
