/// The input gradient of a convolution over NHWC tensors, `dx = conv2d_grad_input(dy, W)`.
///
/// A stride-1 layer on a CPU that runs the microkernels runs it as a direct convolution of `dy` with the weights
/// transposed and flipped (padding `k - 1 - pad`), which reads `dy` once and writes `dx` once.
/// Other layers run the transposed convolution: for strided layers with a multiple of 16 input
/// channels, the direct kernels phase by phase; otherwise a GEMM per image, then a gather.
public final class ConvInputGradient: @unchecked Sendable {
    /// The forward convolution's geometry.
    public let geometry: ConvGeometry
    /// How the gradient is computed: a stride-1 forward convolution of the flipped weights over
    /// the padded output gradient, or the transposed convolution (strided or dilated layers).
    enum Method {
        case direct(Conv2D)
        case transposed(ConvTranspose2D)
    }
    let method: Method
    /// The flipped, transposed weights the direct convolution packs from.
    private let flipped: UnsafeMutablePointer<Float>

    /// `weight` is the forward layer's PyTorch `[O, C/groups, kh, kw]`; `precision` applies to
    /// the direct method's convolution (`Conv2D`) where that runs Winograd.
    public init(
        geometry g: ConvGeometry, weight: UnsafePointer<Float>, allowDirect: Bool = true, precision: Precision = .fp32
    ) {
        geometry = g
        let count = g.outChannels * g.inChannelsPerGroup * g.kernelHeight * g.kernelWidth
        flipped = .allocate(capacity: count)
        let padH = g.kernelHeight - 1 - g.padH, padW = g.kernelWidth - 1 - g.padW
        let backward = ConvGeometry(
            batch: g.batch, inChannels: g.outChannels, inHeight: g.outHeight, inWidth: g.outWidth,
            outChannels: g.inChannels,
            outHeight: g.inHeight, outWidth: g.inWidth, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
            strideH: 1, strideW: 1,
            padH: padH, padW: padW)
        let suitable =
            allowDirect && DirectConvPlan.cpuSupported && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1
            && g.dilationW == 1
            && padH >= 0 && padW >= 0 && DirectConvPlan(backward) != nil
        if suitable {
            ConvInputGradient.flip(weight, into: flipped, g)
            method = .direct(
                Conv2D(geometry: backward, weight: flipped, bias: nil, activation: .none, precision: precision))
        } else {
            method = .transposed(
                ConvTranspose2D(
                    geometry: ConvGeometry(
                        batch: g.batch, inChannels: g.outChannels, inHeight: g.outHeight, inWidth: g.outWidth,
                        outChannels: g.inChannels,
                        outHeight: g.inHeight, outWidth: g.inWidth, kernelHeight: g.kernelHeight,
                        kernelWidth: g.kernelWidth, strideH: g.strideH,
                        strideW: g.strideW, padH: g.padH, padW: g.padW, dilationH: g.dilationH, dilationW: g.dilationW,
                        groups: g.groups),
                    weight: weight, bias: nil, activation: .none, allowDirect: allowDirect))
        }
    }

    deinit { flipped.deallocate() }

    /// True when the direct convolution computes the gradient.
    public var isDirect: Bool {
        if case .direct = method { return true }
        return false
    }

    /// `W'[ci][co][y][x] = W[co][ci][kh-1-y][kw-1-x]`.
    static func flip(_ w: UnsafePointer<Float>, into f: UnsafeMutablePointer<Float>, _ g: ConvGeometry) {
        let kh = g.kernelHeight, kw = g.kernelWidth, c = g.inChannels, o = g.outChannels
        for co in 0..<o {
            for ci in 0..<c {
                for y in 0..<kh {
                    for x in 0..<kw {
                        f[((ci * o + co) * kh + y) * kw + x] =
                            w[((co * c + ci) * kh + (kh - 1 - y)) * kw + (kw - 1 - x)]
                    }
                }
            }
        }
    }

    /// Re-packs after the weights changed (an optimizer step).
    public func repack(weight: UnsafePointer<Float>) {
        switch method {
        case .direct(let direct):
            ConvInputGradient.flip(weight, into: flipped, geometry)
            direct.repack(weight: flipped, bias: nil)
        case .transposed(let transposed):
            transposed.repack(weight: weight, bias: nil)
        }
    }

    /// Floats of scratch each thread needs.
    public var workspacePerThread: Int {
        switch method {
        case .direct(let direct): direct.workspacePerThread
        case .transposed(let transposed): transposed.workspacePerThread
        }
    }

    /// How `batch` images split into chunks for `threads` threads (whole images for the
    /// transposed convolution).
    public func chunking(batch: Int, threads: Int) -> Chunking {
        switch method {
        case .direct(let direct): direct.chunking(batch: batch, threads: threads)
        case .transposed: Chunking(rows: batch, maxRows: 1, threads: 1)
        }
    }

    /// Computes chunk `chunk` of `dx` from `dy`.
    public func compute(
        chunk: Int, of chunking: Chunking, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, worker: Int,
        workspace: UnsafeMutablePointer<Float>
    ) {
        switch method {
        case .direct(let direct):
            direct.compute(
                chunk: chunk, of: chunking, x: dy, y: dx, residual: nil, worker: worker, workspace: workspace)
        case .transposed(let transposed) where chunk < chunking.total:
            transposed.compute(image: chunk, x: dy, y: dx, worker: worker, workspace: workspace)
        case .transposed:
            break
        }
    }
}
