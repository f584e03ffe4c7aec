/// The geometry each microkernel call takes. The microkernels are compiled once per instruction
/// set (modules ScionAVX512 and ScionAVX2, built from the same files); these plain structs live
/// in a module of their own so both copies, and ScionKernels which picks one at run time,
/// share one type.
public typealias Vector16 = SIMD16<Float>

/// What a forward (direct-convolution) microkernel call needs.
public struct ForwardTile: Sendable {
    public var channels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var rowStride: Int
    public var outStride: Int

    public init(channels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, rowStride: Int, outStride: Int) {
        (self.channels, self.kernelHeight, self.kernelWidth, self.stride, self.rowStride, self.outStride) =
            (channels, kernelHeight, kernelWidth, stride, rowStride, outStride)
    }
}

/// What a weight-gradient microkernel call needs: `dW[kh][kw][ci][co] += Σ x[r·s+kh][p·s+kw][ci]
/// · dy[r][p][co]` over a tile of `rows` output rows of `pixels` pixels.
public struct GradientTile: Sendable {
    public var channels: Int
    public var outChannels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var stride: Int
    public var rowStride: Int
    public var rows: Int
    public var pixels: Int
    /// Floats from one output pixel's inputs to the next's: `stride · channels`, unless the
    /// caller folds the kernel's width into the channels (`channels = kw · C`, `kernelWidth =
    /// 1`, `pixelStep = stride · C`), which keeps the vectors full when C is small.
    public var pixelStep: Int

    public init(
        channels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int, rowStride: Int, rows: Int,
        pixels: Int,
        pixelStep: Int? = nil
    ) {
        (
            self.channels, self.outChannels, self.kernelHeight, self.kernelWidth, self.stride, self.rowStride,
            self.rows, self.pixels
        ) =
            (channels, outChannels, kernelHeight, kernelWidth, stride, rowStride, rows, pixels)
        self.pixelStep = pixelStep ?? stride * channels
    }
}
