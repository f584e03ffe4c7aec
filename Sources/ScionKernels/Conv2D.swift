import CBLAS
import ScionTiles

/// A 2-D convolution over channels-last (NHWC) tensors with a fused epilogue:
/// `y = act(conv(x) + bias + residual)`.
///
/// Output pixels are processed in chunks of rows spread over the thread pool. For each chunk a
/// thread gathers the input patches (im2col) into its own scratch and multiplies them by the
/// packed weights with `cblas_sgemm`; a 1x1 stride-1 convolution multiplies the input rows
/// directly. Weights are packed once, at construction, as `[group][kh][kw][ci][co]`. On CPUs that
/// run the microkernels (AVX-512 or AVX2) 3x3 stride-1 layers with at least 7x7 outputs run as
/// Winograd F(4x4, 3x3) or F(2x2, 3x3) (`WinogradConvPlan`) and most others as direct
/// convolutions (`DirectConvPlan`), each with its own weight packing.
public final class Conv2D: @unchecked Sendable {
    public let geometry: ConvGeometry
    public let activation: KernelActivation
    let packed: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    /// How the layer runs, chosen once at construction for its largest batch.
    public let algorithm: ConvAlgorithm
    /// F(2x2, 3x3) beside an F(4x4, 3x3) `algorithm`, with its own packed weights, for batches
    /// below `limit` (`WinogradConvPlan.smallBatchLimit`).
    let smallBatch: (plan: WinogradConvPlan, packed: UnsafeMutablePointer<Float>, limit: Int)?
    /// The GEMM path's patch gathering (its `depth` also sizes the packed weights).
    let patches: Im2Col
    /// The precision the layer runs in: BF16 only where it was asked for, the CPU has it and the
    /// layer runs Winograd; then `pairs` (and `smallBatchPairs` beside `smallBatch`) hold the
    /// weights rounded for the BF16 products.
    public let precision: Precision
    let pairs: UnsafeMutablePointer<UInt32>?
    let smallBatchPairs: UnsafeMutablePointer<UInt32>?

    /// `weight` is PyTorch's `[O, C/groups, kh, kw]`; `geometry.batch` is the largest batch.
    /// `allowDirect: false` forces im2col and sgemm, `allowWinograd: false` the direct kernels
    /// where they apply, `winogradTile` Winograd's tile size (tests compare them all).
    /// `precision` `.bf16` applies to Winograd layers on CPUs with AVX-512 BF16 (see `Precision`).
    public init(
        geometry g: ConvGeometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: KernelActivation,
        allowDirect: Bool = true, allowWinograd: Bool = true, winogradTile: Int? = nil, precision: Precision = .fp32
    ) {
        geometry = g
        self.activation = activation
        patches = Im2Col(g)
        algorithm = ConvAlgorithm.choose(
            g, allowDirect: allowDirect, allowWinograd: allowWinograd, winogradTile: winogradTile)
        if case .winograd(let plan) = algorithm {
            packed = .allocate(capacity: plan.packedCount)
        } else {
            packed = .allocate(capacity: g.groups * patches.depth * g.outChannelsPerGroup)
        }
        if case .winograd(let plan) = algorithm, winogradTile == nil, let limit = plan.smallBatchLimit,
            let small = WinogradConvPlan(g, tile: 2)
        {
            smallBatch = (small, .allocate(capacity: small.packedCount), limit)
        } else {
            smallBatch = nil
        }
        if precision == .bf16, Precision.bf16Available, case .winograd(let plan) = algorithm {
            self.precision = .bf16
            pairs = .allocate(capacity: plan.packedPairsCount)
            smallBatchPairs = smallBatch.map { .allocate(capacity: $0.plan.packedPairsCount) }
        } else {
            (self.precision, pairs, smallBatchPairs) = (.fp32, nil, nil)
        }
        if let bias {
            self.bias = .allocate(capacity: g.outChannels)
            self.bias!.update(from: bias, count: g.outChannels)
        } else {
            self.bias = nil
        }
        pack(weight)
    }

    deinit {
        packed.deallocate()
        smallBatch?.packed.deallocate()
        pairs?.deallocate()
        smallBatchPairs?.deallocate()
        bias?.deallocate()
    }

    /// Re-packs after the weights (and bias) changed, e.g. after an optimizer step.
    public func repack(weight: UnsafePointer<Float>, bias newBias: UnsafePointer<Float>?) {
        pack(weight)
        if let bias, let newBias { bias.update(from: newBias, count: geometry.outChannels) }
    }

    /// Floats of scratch each thread needs.
    public var workspacePerThread: Int {
        switch algorithm {
        case .winograd(let plan): max(plan.workspaceCount, smallBatch?.plan.workspaceCount ?? 0)
        case .direct(let plan): plan.windowCount * (weightHeavy ? Self.weightHeavyRows : 1)
        case .gemm: patches.scratchPerThread
        }
    }

    private func pack(_ weight: UnsafePointer<Float>) {
        smallBatch.map { $0.plan.pack(weight, into: $0.packed) }
        switch algorithm {
        case .winograd(let plan): plan.pack(weight, into: packed)
        case .direct(let plan): plan.pack(weight, into: packed)
        case .gemm: Conv2D.pack(weight, into: packed, geometry)
        }
        if case .winograd(let plan) = algorithm, let pairs { plan.packPairs(from: packed, into: pairs) }
        if let smallBatch, let smallBatchPairs {
            smallBatch.plan.packPairs(from: smallBatch.packed, into: smallBatchPairs)
        }
    }

    static func pack(_ w: UnsafePointer<Float>, into p: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup, kh = g.kernelHeight, kw = g.kernelWidth
        let depth = kh * kw * cinG
        for o in 0..<g.outChannels {
            let group = o / coutG, co = o % coutG
            for ci in 0..<cinG {
                for y in 0..<kh {
                    for x in 0..<kw {
                        let k = (y * kw + x) * cinG + ci
                        p[(group * depth + k) * coutG + co] = w[((o * cinG + ci) * kh + y) * kw + x]
                    }
                }
            }
        }
    }

    /// How `batch` images split into chunks of output rows for `threads` threads.
    public func chunking(batch: Int, threads: Int) -> Chunking {
        switch algorithm {
        case .winograd: winograd(batch: batch).plan.chunking(batch: batch, threads: threads)
        case .direct:
            runsWeightHeavy(rows: batch * geometry.outHeight)
                ? weightHeavyChunking(batch: batch, threads: threads)
                : Chunking(rows: batch * geometry.outHeight, maxRows: 4, threads: threads)
        case .gemm: Chunking(rows: batch * geometry.outPlane, maxRows: patches.maxChunkRows, threads: threads)
        }
    }

    /// Computes chunk `chunk` of `y` from `x` (both NHWC). `residual` may be `y` itself;
    /// `workspace` holds `workspacePerThread` floats per thread (nil only for a 1x1 GEMM layer),
    /// `worker` picks this thread's.
    @inline(__always)
    public func compute(
        chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, worker: Int, workspace: UnsafeMutablePointer<Float>?
    ) {
        let scratch = workspace.map { $0 + worker * workspacePerThread }
        switch algorithm {
        case .winograd:
            computeWinograd(chunk: chunk, of: chunking, x: x, y: y, residual: residual, workspace: scratch!)
        case .direct(let direct) where runsWeightHeavy(rows: chunking.total):
            computeWeightHeavy(direct, chunk: chunk, of: chunking, x: x, y: y, residual: residual, windows: scratch!)
        case .direct(let direct):
            computeDirect(direct, chunk: chunk, of: chunking, x: x, y: y, residual: residual, window: scratch!)
        case .gemm:
            computeGEMM(chunk: chunk, of: chunking, x: x, y: y, residual: residual, scratch: scratch)
        }
    }

    /// Chunk `chunk` of a Winograd layer, in the plan for the chunking's batch.
    @inline(__always)
    func computeWinograd(
        chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, workspace: UnsafeMutablePointer<Float>
    ) {
        let (winograd, weights, pairs) = winograd(batch: chunking.batch)
        // Bias and ReLU-family activations run inside the output transform, on pixels in L1.
        let slope: Float? =
            switch activation {
            case .relu: 0
            case .leakyRelu(let s): s
            default: nil
            }
        let inTransform = activation == .none || slope != nil
        let (first, pixels) = winograd.compute(
            chunk: chunk, of: chunking, x: x, y: y, residual: residual, weights: weights, pairs: pairs,
            workspace: workspace, bias: inTransform ? bias.map { UnsafePointer($0) } : nil, slope: slope)
        if pixels > 0, !inTransform {
            let g = geometry
            Epilogue.apply(
                y + first * g.outChannels, rows: pixels, channels: g.outChannels, stride: g.outChannels,
                shift: bias.map { UnsafePointer($0) }, activation: activation)
        }
    }

    /// Chunk `chunk` (rows of output pixels) with gathered patches, or the input rows of a 1x1
    /// stride-1 layer, times the packed weights with sgemm.
    @inline(__always)
    func computeGEMM(
        chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, scratch: UnsafeMutablePointer<Float>?
    ) {
        let g = geometry
        let r0 = chunk * chunking.rows
        let n = min(chunking.rows, chunking.total - r0)
        guard n > 0 else { return }
        let out = y + r0 * g.outChannels
        if let residual, residual != UnsafePointer(y) {
            out.update(from: residual + r0 * g.outChannels, count: n * g.outChannels)
        }
        let beta: Float = residual == nil ? 0 : 1
        for group in 0..<g.groups {
            let a: UnsafePointer<Float>
            let lda: Int
            if patches.pointwise {
                a = x + r0 * g.inChannels + group * g.inChannelsPerGroup
                lda = g.inChannels
            } else {
                patches.gather(x, into: scratch!, firstRow: r0, rows: n, group: group)
                a = UnsafePointer(scratch!)
                lda = patches.depth
            }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(g.outChannelsPerGroup), Int32(patches.depth),
                1,
                a, Int32(lda), packed + group * patches.depth * g.outChannelsPerGroup, Int32(g.outChannelsPerGroup),
                beta,
                out + group * g.outChannelsPerGroup, Int32(g.outChannels))
        }
        if bias != nil || activation != .none {
            Epilogue.apply(
                out, rows: n, channels: g.outChannels, stride: g.outChannels, shift: bias.map { UnsafePointer($0) },
                activation: activation)
        }
    }

    /// Output rows of chunk `chunk` (chunked by output row) with the microkernels.
    @inline(__always)
    func computeDirect(
        _ plan: DirectConvPlan, chunk: Int, of chunking: Chunking, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>?, window: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let first = chunk * chunking.rows
        let tile = plan.tile
        let rowFloats = g.outWidth * g.outChannels
        let last = min(first + chunking.rows, chunking.total)
        guard first < last else { return }
        for row in first..<last {
            let n = row / g.outHeight, oh = row % g.outHeight
            plan.fillWindow(x, image: n, firstInputRow: oh * g.strideH - g.padH, rows: g.kernelHeight, into: window)
            let out = y + row * rowFloats
            if let residual, residual != UnsafePointer(y) {
                out.update(from: residual + row * rowFloats, count: rowFloats)
            }
            Microkernels.forwardRow(
                window: window, weights: packed, tile: tile, outChannels: g.outChannels, pixels: g.outWidth, out: out,
                accumulate: residual != nil)
            if bias != nil || activation != .none {
                Epilogue.apply(
                    out, rows: g.outWidth, channels: g.outChannels, stride: g.outChannels,
                    shift: bias.map { UnsafePointer($0) }, activation: activation)
            }
        }
    }

    /// The Winograd plan and packed weights (and BF16 ones, in BF16) for `batch` images (a
    /// Winograd layer only).
    func winograd(batch: Int) -> (plan: WinogradConvPlan, weights: UnsafePointer<Float>, pairs: UnsafePointer<UInt32>?)
    {
        if let smallBatch, batch < smallBatch.limit {
            return (smallBatch.plan, UnsafePointer(smallBatch.packed), smallBatchPairs.map { UnsafePointer($0) })
        }
        guard case .winograd(let plan) = algorithm else { preconditionFailure("not a Winograd layer") }
        return (plan, UnsafePointer(packed), pairs.map { UnsafePointer($0) })
    }

    /// Computes `y` from `x` for `batch` images over the pool (convenience; allocates per call).
    public func run(
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>?, batch: Int,
        pool: ThreadPool, workspace: UnsafeMutablePointer<Float>?
    ) {
        let chunks = chunking(batch: batch, threads: pool.threads)
        pool.parallelFor(chunks.count) { chunk, worker in
            compute(chunk: chunk, of: chunks, x: x, y: y, residual: residual, worker: worker, workspace: workspace)
        }
    }
}
