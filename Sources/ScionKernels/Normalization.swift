/// Normalisations over NHWC tensors that are not a fixed per-channel affine.
public enum Normalization {
    /// InstanceNorm: each image's channel normalised over its pixels (biased variance), then an
    /// optional per-channel scale and shift, then the activation.
    public static func instance(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, plane: Int, channels c: Int, batch: Int,
        scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?, epsilon: Float, pool: ThreadPool
    ) {
        pool.parallelFor(batch) { n, _ in
            instance(image: n, x, y, plane: plane, channels: c, scale: scale, shift: shift, epsilon: epsilon)
        }
    }

    /// InstanceNorm of image `n`.
    public static func instance(
        image n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, plane: Int, channels c: Int,
        scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?, epsilon: Float
    ) {
        do {
            let xn = x + n * plane * c, yn = y + n * plane * c
            // Stack scratch: no heap allocation per call.
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * c) { stats in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * c) { coefficients in
                    let sum = stats.baseAddress!, sq = sum + c
                    sum.initialize(repeating: 0, count: 2 * c)
                    for p in 0..<plane {
                        for ch in 0..<c {
                            let v = Double(xn[p * c + ch])
                            sum[ch] += v
                            sq[ch] += v * v
                        }
                    }
                    let a = coefficients.baseAddress!, b = a + c
                    for ch in 0..<c {
                        let m = sum[ch] / Double(plane)
                        let variance = Swift.max(sq[ch] / Double(plane) - m * m, 0)
                        let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                        a[ch] = inv * (scale?[ch] ?? 1)
                        b[ch] = (shift?[ch] ?? 0) - Float(m) * a[ch]
                    }
                    Epilogue.apply(
                        yn, rows: plane, channels: c, stride: c, scale: a, shift: b, activation: .none, input: xn)
                }
            }
        }
    }

    /// Softmax over each row of `rows × width`.
    public static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let src = x + r * width, dst = y + r * width
            var m = -Float.infinity
            for i in 0..<width { m = Swift.max(m, src[i]) }
            var sum: Float = 0
            for i in 0..<width {
                dst[i] = expf(src[i] - m)
                sum += dst[i]
            }
            for i in 0..<width { dst[i] /= sum }
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
