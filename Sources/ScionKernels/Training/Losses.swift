#if canImport(Glibc)
    import Glibc
#endif

/// Loss functions and their gradients. Values accumulate in Double; the batch is small enough
/// that one thread computes each loss (they are a negligible part of a step).
public enum Losses {
    /// Mean over rows of `-Σ target · log softmax(logits)`.
    public static func crossEntropy(logits: UnsafePointer<Float>, target: UnsafePointer<Float>, rows: Int, classes k: Int) -> Float {
        var total = 0.0
        for r in 0..<rows {
            let z = logits + r * k, t = target + r * k
            var m = -Float.infinity
            for j in 0..<k { m = max(m, z[j]) }
            var sum = 0.0
            for j in 0..<k { sum += Double(expf(z[j] - m)) }
            let logSum = log(sum) + Double(m)
            for j in 0..<k where t[j] != 0 { total -= Double(t[j]) * (Double(z[j]) - logSum) }
        }
        return Float(total / Double(rows))
    }

    /// `scale · (softmax(logits) · Σtarget − target) / rows`.
    public static func crossEntropyGradient(logits: UnsafePointer<Float>, target: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, rows: Int, classes k: Int, scale: Float) {
        for r in 0..<rows {
            let z = logits + r * k, t = target + r * k, g = grad + r * k
            var m = -Float.infinity
            for j in 0..<k { m = max(m, z[j]) }
            var sum: Float = 0, mass: Float = 0
            for j in 0..<k {
                g[j] = expf(z[j] - m)
                sum += g[j]
                mass += t[j]
            }
            let factor = scale / Float(rows)
            for j in 0..<k { g[j] = factor * (g[j] / sum * mass - t[j]) }
        }
    }

    /// Mean squared (`squared`) or absolute difference.
    public static func meanError(_ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, count: Int, squared: Bool) -> Float {
        var total = 0.0
        for i in 0..<count {
            let d = Double(p[i] - t[i])
            total += squared ? d * d : abs(d)
        }
        return Float(total / Double(count))
    }

    /// `scale` times the gradient of `meanError` with respect to `p`.
    public static func meanErrorGradient(_ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, count: Int, squared: Bool, scale: Float) {
        let factor = scale / Float(count)
        for i in 0..<count {
            let d = p[i] - t[i]
            g[i] = squared ? 2 * factor * d : (d > 0 ? factor : d < 0 ? -factor : 0)
        }
    }

    /// Total variation of NHWC images (the reference's definition, divided by N·C·H·W).
    public static func totalVariation(_ x: UnsafePointer<Float>, n: Int, h: Int, w: Int, c: Int) -> Float {
        var total = 0.0
        for b in 0..<n {
            for y in 0..<h {
                for xx in 0..<w {
                    let i = ((b * h + y) * w + xx) * c
                    for ch in 0..<c {
                        if y + 1 < h { let d = Double(x[i + w * c + ch] - x[i + ch]); total += d * d }
                        if xx + 1 < w { let d = Double(x[i + c + ch] - x[i + ch]); total += d * d }
                    }
                }
            }
        }
        return Float(total / Double(n * c * h * w))
    }

    /// `scale` times the gradient of `totalVariation`.
    public static func totalVariationGradient(_ x: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, c: Int, scale: Float) {
        g.update(repeating: 0, count: n * h * w * c)
        let k = 2 * scale / Float(n * c * h * w)
        for b in 0..<n {
            for y in 0..<h {
                for xx in 0..<w {
                    let i = ((b * h + y) * w + xx) * c
                    for ch in 0..<c {
                        if y + 1 < h {
                            let d = k * (x[i + w * c + ch] - x[i + ch])
                            g[i + w * c + ch] += d
                            g[i + ch] -= d
                        }
                        if xx + 1 < w {
                            let d = k * (x[i + c + ch] - x[i + ch])
                            g[i + c + ch] += d
                            g[i + ch] -= d
                        }
                    }
                }
            }
        }
    }
}
