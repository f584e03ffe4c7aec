import ScionTiles

/// Microkernels for layers with few output channels (fewer than 16): the vector runs along a
/// row of output pixels instead of along output channels, over a channel-planar copy of the
/// input (`[C][rows][width]`), so no lane is wasted on channels that do not exist.
public enum PlanarConvolution {
    /// Four output channels for 16 consecutive output pixels:
    /// `out_j[lane] = Σ_k weights[4k + j] · window[offsets[k] + lane]`, `k < taps`.
    @inline(never)
    public static func accumulate16x4(
        window: UnsafePointer<Float>, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>, taps: Int
    ) -> (Vector16, Vector16, Vector16, Vector16) {
        var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
        var w = weights
        for k in 0..<taps {
            let v = load(window + offsets[k])
            a0.addProduct(v, Vector16(repeating: w[0]))
            a1.addProduct(v, Vector16(repeating: w[1]))
            a2.addProduct(v, Vector16(repeating: w[2]))
            a3.addProduct(v, Vector16(repeating: w[3]))
            w += 4
        }
        return (a0, a1, a2, a3)
    }

    /// `accumulate16x4` for two output rows at once (the second reading `rowStride` floats
    /// further on): each weight broadcast then feeds two products, which halves the loads
    /// per multiply-add.
    @inline(never)
    public static func accumulate16x4x2(
        window: UnsafePointer<Float>, rowStride: Int, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
        taps: Int
    ) -> (Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16, Vector16) {
        #if SCION_AVX2
            // Eight accumulators would fill all 16 of AVX2's registers: one row at a time.
            let a = accumulate16x4(window: window, offsets: offsets, weights: weights, taps: taps)
            let b = accumulate16x4(window: window + rowStride, offsets: offsets, weights: weights, taps: taps)
            return (a.0, a.1, a.2, a.3, b.0, b.1, b.2, b.3)
        #else
            var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
            var b0 = Vector16(), b1 = Vector16(), b2 = Vector16(), b3 = Vector16()
            var w = weights
            for k in 0..<taps {
                let p = window + offsets[k]
                let u = load(p), v = load(p + rowStride)
                let w0 = Vector16(repeating: w[0]), w1 = Vector16(repeating: w[1]), w2 = Vector16(repeating: w[2]),
                    w3 = Vector16(repeating: w[3])
                a0.addProduct(u, w0)
                b0.addProduct(v, w0)
                a1.addProduct(u, w1)
                b1.addProduct(v, w1)
                a2.addProduct(u, w2)
                b2.addProduct(v, w2)
                a3.addProduct(u, w3)
                b3.addProduct(v, w3)
                w += 4
            }
            return (a0, a1, a2, a3, b0, b1, b2, b3)
        #endif
    }
}
