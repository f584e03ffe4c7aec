// Elementwise loops and activations (the contracts are on `ElementwiseLoops` in ScionTiles).
// Compiled once per instruction set: ScionAVX512, and through symlinks ScionAVX2 and
// ScionGeneric; ScionKernels' `KernelLoops` picks the copy the CPU runs.
import ScionTiles

#if canImport(Glibc)
    import Glibc
#endif

public enum Loops: ElementwiseLoops {
    public static func epilogue(
        _ y: UnsafeMutablePointer<Float>, rows: Int, channels: Int, stride: Int,
        scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, residualStride: Int,
        activation: KernelActivation, input: UnsafePointer<Float>?
    ) {
        let source = input ?? UnsafePointer(y)
        let vectorEnd = channels & ~15
        for r in 0..<rows {
            let src = source + r * stride, dst = y + r * stride
            let res = residual.map { $0 + r * residualStride }
            var c = 0
            while c < vectorEnd {
                var v = load(src + c)
                if let scale { v *= load(scale + c) }
                if let shift { v += load(shift + c) }
                if let res { v += load(res + c) }
                store(activation.apply(v), dst + c)
                c += 16
            }
            while c < channels {
                var v = src[c]
                if let scale { v *= scale[c] }
                if let shift { v += shift[c] }
                if let res { v += res[c] }
                dst[c] = activation.apply(v)
                c += 1
            }
        }
    }

    public static func activate(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ activation: KernelActivation
    ) {
        map(count, y, vector: { activation.apply(load(x + $0)) }, scalar: { activation.apply(x[$0]) })
    }

    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        map(count, y, vector: { load(a + $0) + load(b + $0) }, scalar: { a[$0] + b[$0] })
    }

    public static func mul(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        map(count, y, vector: { load(a + $0) * load(b + $0) }, scalar: { a[$0] * b[$0] })
    }

    public static func activationGradient(
        _ activation: KernelActivation, dy: UnsafePointer<Float>, y: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        switch activation {
        case .none:
            map(count, dx, vector: { load(dy + $0) }, scalar: { dy[$0] })
        case .relu, .leakyRelu:
            let slope: Float = if case .leakyRelu(let s) = activation { s } else { 0 }
            map(
                count, dx,
                vector: {
                    let g = load(dy + $0)
                    return g.replacing(with: g * slope, where: load(y + $0) .<= 0)
                }, scalar: { y[$0] > 0 ? dy[$0] : dy[$0] * slope })
        case .sigmoid:
            map(
                count, dx,
                vector: {
                    let v = load(y + $0)
                    return load(dy + $0) * v * (1 - v)
                }, scalar: { dy[$0] * y[$0] * (1 - y[$0]) })
        case .tanh:
            map(
                count, dx,
                vector: {
                    let v = load(y + $0)
                    return load(dy + $0) * (1 - v * v)
                }, scalar: { dy[$0] * (1 - y[$0] * y[$0]) })
        }
    }

    /// `out[i] = f(i)` for `i < count`: 16 at a time, then one at a time.
    @inline(__always)
    static func map(
        _ count: Int, _ out: UnsafeMutablePointer<Float>, vector: (Int) -> Vector16, scalar: (Int) -> Float
    ) {
        var i = 0
        while i + 16 <= count {
            store(vector(i), out + i)
            i += 16
        }
        while i < count {
            out[i] = scalar(i)
            i += 1
        }
    }

    /// Cephes' `expf`: a range reduction x = n·ln 2 + r with |r| ≤ ln 2 / 2 split in two
    /// constants for accuracy, a degree-6 polynomial for e^r, and 2^n put straight into the
    /// exponent bits.
    @inline(__always)
    public static func exp(_ v: Vector16) -> Vector16 {
        // The baseline copy has no vector floor or float-to-int rounding; adding 1.5 · 2^23
        // rounds to an integer in the mantissa's low bits instead, which then serve as n.
        let magic = Vector16(repeating: 12582912)
        let x = v.replacing(with: 88, where: v .> 88).replacing(with: -87.33654, where: v .< -87.33654)
        let t = x * 1.442695041 + magic
        let n = t - magic
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var p = Vector16(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * r * r + r + 1
        let exponent =
            (unsafeBitCast(t, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self) &+ 127) &<< 23
        return er * unsafeBitCast(exponent, to: Vector16.self)
    }
}

extension KernelActivation {
    /// The activation on 16 lanes.
    @inline(__always)
    func apply(_ v: Vector16) -> Vector16 {
        switch self {
        case .none: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .leakyRelu(let slope): return v.replacing(with: v * slope, where: v .< 0)
        case .sigmoid: return 1 / (1 + Loops.exp(-v))
        case .tanh:
            var out = v
            for i in 0..<16 { out[i] = tanhf(v[i]) }
            return out
        }
    }

    /// The activation on one value.
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
