import CBLAS

/// A transposed convolution over NHWC tensors with bias and activation.
///
/// Per image, a GEMM forms every input pixel's contribution to each kernel tap,
/// `col[pixel][kh][kw][co] = Σ_ci x[pixel][ci] · W[ci][co][kh][kw]`; each output pixel then
/// gathers the taps that land on it. On CPUs that run the microkernels strided layers with a multiple of 16
/// output channels run instead as one direct convolution per output phase
/// (`PhasedTransposedConvPlan`), and those with fewer than 16 output channels phase by phase
/// along rows of pixels (`PlanarTransposedConvPlan`). Images are spread over the thread pool.
public final class ConvTranspose2D: @unchecked Sendable {
    public let geometry: ConvGeometry
    public let activation: KernelActivation
    let packed: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>?
    let taps: Int
    /// How the layer is computed.
    public enum Method: Sendable {
        /// On the direct microkernels, one output phase at a time.
        case phased(PhasedTransposedConvPlan)
        /// Phase by phase along rows of output pixels (fewer than 16 output channels).
        case planar(PlanarTransposedConvPlan)
        /// A GEMM of every input pixel's tap contributions, then a gather.
        case gemm
    }
    public let method: Method

    /// `weight` is PyTorch's `[C, O/groups, kh, kw]`. `allowDirect: false` forces the GEMM and
    /// gather (tests compare the two).
    public init(
        geometry g: ConvGeometry, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        activation: KernelActivation, allowDirect: Bool = true
    ) {
        geometry = g
        self.activation = activation
        taps = g.kernelHeight * g.kernelWidth
        if allowDirect, let plan = PhasedTransposedConvPlan(g) {
            method = .phased(plan)
        } else if allowDirect, let plan = PlanarTransposedConvPlan(g) {
            method = .planar(plan)
        } else {
            method = .gemm
        }
        switch method {
        case .phased(let plan): packed = .allocate(capacity: plan.packedCount)
        case .planar(let plan): packed = .allocate(capacity: plan.packedCount)
        case .gemm: packed = .allocate(capacity: g.inChannels * taps * g.outChannelsPerGroup)
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
        bias?.deallocate()
    }

    private func pack(_ weight: UnsafePointer<Float>) {
        switch method {
        case .phased(let plan): plan.pack(weight, into: packed)
        case .planar(let plan): plan.pack(weight, into: packed)
        case .gemm: ConvTranspose2D.pack(weight, into: packed, geometry)
        }
    }

    /// packed[c][tap][co] = W[c][co][tap].
    static func pack(_ weight: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let taps = g.kernelHeight * g.kernelWidth, coutG = g.outChannelsPerGroup
        for c in 0..<g.inChannels {
            for co in 0..<coutG {
                for t in 0..<taps { packed[(c * taps + t) * coutG + co] = weight[(c * coutG + co) * taps + t] }
            }
        }
    }

    /// Re-packs after the weights (and bias) changed.
    public func repack(weight: UnsafePointer<Float>, bias newBias: UnsafePointer<Float>?) {
        pack(weight)
        if let bias, let newBias { bias.update(from: newBias, count: geometry.outChannels) }
    }

    /// Floats of scratch each thread needs (one image's tap contributions).
    public var workspacePerThread: Int {
        switch method {
        case .phased(let plan): plan.windowCount
        case .planar(let plan): plan.workspaceCount
        case .gemm: geometry.inPlane * taps * geometry.outChannelsPerGroup
        }
    }

    /// Computes image `n` of `y` from `x`, using thread `worker`'s part of `workspace`.
    public func compute(
        image n: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, worker: Int,
        workspace: UnsafeMutablePointer<Float>
    ) {
        let g = geometry
        let col = workspace + worker * workspacePerThread
        let xn = x + n * g.inPlane * g.inChannels
        let yn = y + n * g.outPlane * g.outChannels
        switch method {
        case .phased(let plan):
            for oh in 0..<g.outHeight { plan.computeRow(image: n, row: oh, x: x, y: y, weights: packed, window: col) }
        case .planar(let plan):
            plan.compute(image: n, x: x, y: y, weights: packed, bias: bias.map { UnsafePointer($0) }, planar: col)
            if activation != .none {
                Epilogue.apply(
                    yn, rows: g.outPlane, channels: g.outChannels, stride: g.outChannels, activation: activation)
            }
            return
        case .gemm:
            for group in 0..<g.groups {
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(g.inPlane), Int32(taps * g.outChannelsPerGroup),
                    Int32(g.inChannelsPerGroup), 1, xn + group * g.inChannelsPerGroup, Int32(g.inChannels),
                    packed + group * g.inChannelsPerGroup * taps * g.outChannelsPerGroup,
                    Int32(taps * g.outChannelsPerGroup), 0, col, Int32(taps * g.outChannelsPerGroup))
                gather(col, into: yn, group: group)
            }
        }
        Epilogue.apply(
            yn, rows: g.outPlane, channels: g.outChannels, stride: g.outChannels,
            shift: bias.map { UnsafePointer($0) }, activation: activation)
    }

    /// All images over the pool (convenience; allocates per call).
    public func run(
        x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, batch: Int, pool: ThreadPool,
        workspace: UnsafeMutablePointer<Float>
    ) {
        pool.parallelFor(batch) { n, worker in compute(image: n, x: x, y: y, worker: worker, workspace: workspace) }
    }

    /// Sums, for every output pixel, the contributions of the input pixels whose kernel covers it.
    private func gather(_ col: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, group: Int) {
        let g = geometry
        let coutG = g.outChannelsPerGroup
        for oh in 0..<g.outHeight {
            for ow in 0..<g.outWidth {
                let dst = y + (oh * g.outWidth + ow) * g.outChannels + group * coutG
                dst.update(repeating: 0, count: coutG)
                for kh in 0..<g.kernelHeight {
                    let th = oh + g.padH - kh * g.dilationH
                    guard th >= 0, th % g.strideH == 0, th / g.strideH < g.inHeight else { continue }
                    let ih = th / g.strideH
                    for kw in 0..<g.kernelWidth {
                        let tw = ow + g.padW - kw * g.dilationW
                        guard tw >= 0, tw % g.strideW == 0, tw / g.strideW < g.inWidth else { continue }
                        let src = col + ((ih * g.inWidth + tw / g.strideW) * taps + kh * g.kernelWidth + kw) * coutG
                        Elementwise.add(src, dst, dst, count: coutG)
                    }
                }
            }
        }
    }
}
