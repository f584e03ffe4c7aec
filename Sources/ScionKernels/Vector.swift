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
    @inline(__always)
    public static func apply(
        _ y: UnsafeMutablePointer<Float>, rows: Int, channels: Int, stride: Int,
        scale: UnsafePointer<Float>? = nil, shift: UnsafePointer<Float>? = nil,
        residual: UnsafePointer<Float>? = nil, residualStride: Int? = nil,
        activation: KernelActivation, input: UnsafePointer<Float>? = nil
    ) {
        let source = input ?? UnsafePointer(y)
        let rStride = residualStride ?? stride
        let vectorEnd = channels & ~15
        for r in 0..<rows {
            let src = source + r * stride, dst = y + r * stride
            let res = residual.map { $0 + r * rStride }
            var c = 0
            while c < vectorEnd {
                var v = load16(src + c)
                if let scale { v *= load16(scale + c) }
                if let shift { v += load16(shift + c) }
                if let res { v += load16(res + c) }
                store16(activation.apply(v), dst + c)
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
}

/// Elementwise kernels over flat buffers.
public enum Elementwise {
    /// `y = act(x)`; `y` may equal `x`.
    public static func activate(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, _ activation: KernelActivation
    ) {
        var i = 0
        while i + 16 <= count {
            store16(activation.apply(load16(x + i)), y + i)
            i += 16
        }
        while i < count {
            y[i] = activation.apply(x[i])
            i += 1
        }
    }

    /// `y = a + b` (`y` may equal `a` or `b`).
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            store16(load16(a + i) + load16(b + i), y + i)
            i += 16
        }
        while i < count {
            y[i] = a[i] + b[i]
            i += 1
        }
    }

    /// `y = a * b` (`y` may equal `a` or `b`).
    public static func mul(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            store16(load16(a + i) * load16(b + i), y + i)
            i += 16
        }
        while i < count {
            y[i] = a[i] * b[i]
            i += 1
        }
    }

    /// Copies `count` floats (overlap allowed).
    public static func copy(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        if UnsafePointer(y) != x { y.update(from: x, count: count) }
    }
}
