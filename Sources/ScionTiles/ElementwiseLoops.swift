/// An activation applied by a kernel's epilogue.
public enum KernelActivation: Equatable, Sendable {
    case none
    case relu
    case leakyRelu(Float)
    case sigmoid
    case tanh
}

/// The derivative of a ReLU or leaky ReLU that followed a train-mode BatchNorm, recomputed from
/// the BatchNorm's input with the coefficients its forward pass used, so the mask is exactly the
/// one the stored activation would give: the gradient is scaled by `slope` where the BatchNorm
/// output `x · a + b` is not positive.
public struct ActivationMask {
    /// Per channel: `a = invstd · scale` and `b = bias − mean · a`, `2 · channels` floats.
    public let coefficients: UnsafePointer<Float>
    public let channels: Int
    public let slope: Float

    public init(coefficients: UnsafePointer<Float>, channels: Int, slope: Float) {
        (self.coefficients, self.channels, self.slope) = (coefficients, channels, slope)
    }
}

/// The elementwise, BatchNorm and reduction loops. Like the convolution microkernels they are
/// compiled once per instruction set from the same file (`Loops` in ScionAVX512, ScionAVX2 and
/// ScionGeneric, the last for the architecture's baseline); ScionKernels calls the copy the CPU
/// runs. Every copy computes the same IEEE operations in the same order (Swift does not fuse
/// multiply and add on its own), so the copies agree bit for bit; only their speed differs.
///
/// Layouts are channels last: `rows × channels` with the stated strides. Pointers may alias
/// where a contract says so.
public protocol ElementwiseLoops: SendableMetatype {
    /// `y = act(x · scale + shift + residual)` per row (`x` is `input`, or `y` itself), each term
    /// optional; `scale` and `shift` per channel, `residual` laid out like `y` with its own stride.
    static func epilogue(
        _ y: UnsafeMutablePointer<Float>, rows: Int, channels: Int, stride: Int,
        scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, residualStride: Int,
        activation: KernelActivation, input: UnsafePointer<Float>?)

    /// `y = act(x)`; `y` may equal `x`.
    static func activate(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ activation: KernelActivation)

    /// `y = a + b` (`y` may equal `a` or `b`).
    static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)

    /// `y = a * b` (`y` may equal `a` or `b`).
    static func mul(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int)

    /// `dx = dy · act'(y)` from the activation's output `y` (`.none` copies `dy`).
    static func activationGradient(
        _ activation: KernelActivation, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int)

    /// Per-channel Σx into `sums[0..<c]` and Σx² into `sums[c..<2c]` over `rows` (overwritten),
    /// accumulated in Double.
    static func channelMoments(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, into sums: UnsafeMutablePointer<Double>)

    /// Per-channel Σdy into `sums[0..<c]` and Σdy·x̂ into `sums[c..<2c]` over `rows`
    /// (overwritten), `x̂ = (x − mean) · invstd`, dy masked by `mask` first.
    static func gradientSums(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int,
        mean: UnsafePointer<Float>, invstd: UnsafePointer<Float>, mask: ActivationMask?,
        into sums: UnsafeMutablePointer<Double>)

    /// BatchNorm's input gradient for `rows`: `dx = scale·invstd · (dy − Σdy/m − x̂·Σdy·x̂/m)`,
    /// dy masked by `mask`, added to `residual` when given (`dx` may be `residual`).
    static func batchNormInputGradient(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Range<Int>,
        channels c: Int, totalRows m: Int, scale: UnsafePointer<Float>, mean: UnsafePointer<Float>,
        invstd: UnsafePointer<Float>, dscale: UnsafePointer<Float>, dbias: UnsafePointer<Float>,
        mask: ActivationMask?, residual: UnsafePointer<Float>?)

    /// Adds the per-channel sums of `x` over `rows` to `partial` (Double).
    static func addChannelSums(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, into partial: UnsafeMutablePointer<Double>)

    /// e^x on 16 lanes to within 2 ulp for x in [-87.3, 88] (clamped outside it).
    static func exp(_ v: Vector16) -> Vector16
}
