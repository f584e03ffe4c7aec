/// Loads and stores of 16 floats at any alignment.
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Row-wise epilogues over `rows × channels` matrices in channels-last layout: the tail of
/// every convolution, linear layer and per-channel affine.
public enum Epilogue {
    /// `y = act(y * scale + shift + bias + residual)` per row, each term optional. `scale`,
    /// `shift` and `bias` are per channel; `residual` has the layout of `y`.
    public static func apply(
        _ y: UnsafeMutablePointer<Float>, rows: Int, channels: Int, stride: Int,
        scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil,
        residual: UnsafePointer<Float>? = nil, residualStride: Int? = nil,
        activation: KernelActivation, input: UnsafePointer<Float>? = nil
    ) {
        KernelLoops.active.epilogue(
            y, rows: rows, channels: channels, stride: stride, scale: scale, shift: shift, residual: residual,
            residualStride: residualStride ?? stride, activation: activation, input: input)
    }
}

/// Elementwise kernels over flat buffers (`KernelLoops` states their contracts).
public enum Elementwise {
    public static func activate(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ activation: KernelActivation
    ) {
        KernelLoops.active.activate(x, y, count: count, activation)
    }

    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        KernelLoops.active.add(a, b, y, count: count)
    }

    public static func mul(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        KernelLoops.active.mul(a, b, y, count: count)
    }

    /// Copies `count` floats (overlap allowed).
    public static func copy(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        if UnsafePointer(y) != x { y.update(from: x, count: count) }
    }
}
