#if canImport(Glibc)
    import Glibc
#endif

/// An activation applied by a kernel's epilogue.
public enum KernelActivation: Equatable, Sendable {
    case none
    case relu
    case leakyRelu(Float)
    case sigmoid
    case tanh

    /// Applies the activation to 16 lanes.
    @inline(__always)
    func apply(_ v: SIMD16<Float>) -> SIMD16<Float> {
        switch self {
        case .none: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .leakyRelu(let slope): return v.replacing(with: v * slope, where: v .< 0)
        case .sigmoid: return VectorMath.sigmoid(v)
        case .tanh:
            var out = v
            for i in 0..<16 { out[i] = apply(v[i]) }
            return out
        }
    }

    /// Applies the activation to one value.
    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return x < 0 ? 0 : x
        case .leakyRelu(let slope): return x < 0 ? x * slope : x
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        }
    }
}
