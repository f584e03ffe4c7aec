#if canImport(Glibc)
    import Glibc
#endif

/// Loss functions and their gradients. Values accumulate in Double; the batch is small enough
/// that one thread computes each loss (they are a negligible part of a step).
public enum Losses {
    /// Mean over rows of `Σ_j loss(target_j, p_j)`, `p = softmax(logits)`: `-t·log p` where the
    /// target is positive (soft targets), and `-|t|·log(1 - p)` where it is negative, which
    /// trains a class *away* (unlikelihood: it fades as `p` falls, unlike gradient ascent on
    /// `-log p`, which never stops). A row of zeros adds nothing.
    public static func crossEntropy(
        logits: UnsafePointer<Float>, target: UnsafePointer<Float>, rows: Int, classes k: Int
    ) -> Float {
        var total = 0.0
        for r in 0..<rows {
            let z = logits + r * k, t = target + r * k
            var m = -Float.infinity
            for j in 0..<k { m = max(m, z[j]) }
            var sum = 0.0
            for j in 0..<k { sum += Double(expf(z[j] - m)) }
            let logSum = log(sum) + Double(m)
            for j in 0..<k where t[j] > 0 { total -= Double(t[j]) * (Double(z[j]) - logSum) }
            for j in 0..<k where t[j] < 0 {
                // 1 - p_j summed over the other classes, so it keeps its digits as p_j nears 1.
                var others = 0.0
                for i in 0..<k where i != j { others += Double(expf(z[i] - m)) }
                total += Double(-t[j]) * -(log(max(others, 1e-30)) - log(sum))
            }
        }
        return Float(total / Double(rows))
    }

    /// `scale / rows` times the gradient of `crossEntropy`: `p · P − t⁺` for the positive
    /// targets (mass `P`), plus, per negative target `t_j = −a`, `a·p_j` at `j` and
    /// `−a·p_j·p_i / (1 − p_j)` at every other `i` (bounded by `a·p_j` in all).
    public static func crossEntropyGradient(
        logits: UnsafePointer<Float>, target: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>, rows: Int,
        classes k: Int, scale: Float
    ) {
        let factor = scale / Float(rows)
        for r in 0..<rows {
            let z = logits + r * k, t = target + r * k, g = grad + r * k
            var m = -Float.infinity
            for j in 0..<k { m = max(m, z[j]) }
            var sum: Float = 0, mass: Float = 0
            for j in 0..<k {
                g[j] = expf(z[j] - m)
                sum += g[j]
                mass += max(t[j], 0)
            }
            // Per negative target: its weight a, p_j and 1 - p_j as the other classes' sum.
            var unlearn: [(j: Int, a: Float, p: Float, others: Float)] = []
            for j in 0..<k where t[j] < 0 {
                var others: Float = 0
                for i in 0..<k where i != j { others += g[i] }
                unlearn.append((j, -t[j], g[j] / sum, max(others, .leastNormalMagnitude)))
            }
            for i in 0..<k {
                let e = g[i]
                var value = e / sum * mass - max(t[i], 0)
                for u in unlearn { value += u.j == i ? u.a * u.p : -u.a * u.p * e / u.others }
                g[i] = factor * value
            }
        }
    }

    /// Mean squared (`squared`) or absolute difference.
    public static func meanError(_ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, count: Int, squared: Bool)
        -> Float
    {
        let total = blockSum(count: count) { i in
            let d = load16(p + i) - load16(t + i)
            return squared ? d * d : d.replacing(with: -d, where: d .< 0)
        } scalar: { i in
            let d = p[i] - t[i]
            return squared ? d * d : abs(d)
        }
        return Float(total / Double(count))
    }

    /// `scale` times the gradient of `meanError` with respect to `p`.
    public static func meanErrorGradient(
        _ p: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, count: Int,
        squared: Bool, scale: Float
    ) {
        let factor = scale / Float(count)
        var i = 0
        while squared, i + 16 <= count {
            store16(2 * factor * (load16(p + i) - load16(t + i)), g + i)
            i += 16
        }
        while i < count {
            let d = p[i] - t[i]
            g[i] = squared ? 2 * factor * d : (d > 0 ? factor : d < 0 ? -factor : 0)
            i += 1
        }
    }

    /// Total variation of NHWC images (the reference's definition, divided by N·C·H·W).
    ///
    /// Both differences run along contiguous memory: the vertical one between an image row and
    /// the next, the horizontal one between a row and itself shifted by one pixel (`c` floats).
    public static func totalVariation(_ x: UnsafePointer<Float>, n: Int, h: Int, w: Int, c: Int) -> Float {
        let rowFloats = w * c
        var total = 0.0
        for row in 0..<(n * h) {
            let r = x + row * rowFloats
            if row % h + 1 < h {
                total += blockSum(count: rowFloats) { i in
                    let d = load16(r + rowFloats + i) - load16(r + i)
                    return d * d
                } scalar: { i in
                    let d = r[rowFloats + i] - r[i]
                    return d * d
                }
            }
            total += blockSum(count: rowFloats - c) { i in
                let d = load16(r + c + i) - load16(r + i)
                return d * d
            } scalar: { i in
                let d = r[c + i] - r[i]
                return d * d
            }
        }
        return Float(total / Double(n * c * h * w))
    }

    /// `scale` times the gradient of `totalVariation`: each element gains `k·(x - neighbour)`
    /// for each of its up to four neighbours, `k = 2·scale / (N·C·H·W)`.
    public static func totalVariationGradient(
        _ x: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, n: Int, h: Int, w: Int, c: Int, scale: Float
    ) {
        let k = 2 * scale / Float(n * c * h * w)
        let rowFloats = w * c
        for row in 0..<(n * h) {
            let r = x + row * rowFloats, out = g + row * rowFloats
            let above = row % h > 0 ? r - rowFloats : nil, below = row % h + 1 < h ? r + rowFloats : nil
            let element = { (j: Int) in
                var sum: Float = 0
                if let above { sum += r[j] - above[j] }
                if let below { sum += r[j] - below[j] }
                if j >= c { sum += r[j] - r[j - c] }
                if j + c < rowFloats { sum += r[j] - r[j + c] }
                out[j] = k * sum
            }
            var i = 0
            while i + 16 <= rowFloats {
                // Vectors touching the row's first or last pixel lack a neighbour in some
                // lanes: those run element by element.
                guard i >= c, i + 16 + c <= rowFloats else {
                    for j in i..<(i + 16) { element(j) }
                    i += 16
                    continue
                }
                let v = load16(r + i)
                var sum = (v - load16(r + i - c)) + (v - load16(r + i + c))
                if let above { sum += v - load16(above + i) }
                if let below { sum += v - load16(below + i) }
                store16(k * sum, out + i)
                i += 16
            }
            for j in i..<rowFloats { element(j) }
        }
    }

    /// Σ over `count` elements, 16 at a time in Float, each block of 1,024 added into a Double.
    @inline(__always)
    static func blockSum(count: Int, vector: (Int) -> SIMD16<Float>, scalar: (Int) -> Float) -> Double {
        var total = 0.0, i = 0
        while i + 16 <= count {
            var acc = SIMD16<Float>(repeating: 0)
            let end = min(count & ~15, i + 1024)
            while i < end {
                acc += vector(i)
                i += 16
            }
            total += Double(acc.sum())
        }
        while i < count {
            total += Double(scalar(i))
            i += 1
        }
        return total
    }
}
