/// Train-mode BatchNorm over channels-last rows: batch statistics, normalisation, running
/// statistics, and the backward pass. Statistics accumulate in Double per static part of the
/// rows and combine in order (deterministic).
public enum BatchNormTraining {
    /// Scratch Doubles needed: two per channel per part.
    public static func scratchCount(channels: Int, parts: Int) -> Int { 2 * channels * parts }

    /// Phase 1 for part `t`: per-channel sum and sum of squares of the part's rows.
    public static func partialMoments(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, scratch: UnsafeMutablePointer<Double>
    ) {
        let sum = scratch, sq = scratch + c
        sum.update(repeating: 0, count: 2 * c)
        guard c % 16 == 0 else {
            for r in rows {
                let row = x + r * c
                for ch in 0..<c {
                    let v = Double(row[ch])
                    sum[ch] += v
                    sq[ch] += v * v
                }
            }
            return
        }
        blockedSums(rows: rows, channels: c, into: sum, sq) { r, ch in
            let v = load16(x + r * c + ch)
            return (v, v * v)
        }
    }

    /// Per-channel sums of two row functions over `rows` (`c` a multiple of 16): 16 channels per
    /// vector, Float accumulators flushed into the Double sums every 64 rows, which keeps a
    /// Double sum's precision at vector speed.
    @inline(__always)
    static func blockedSums(
        rows: Range<Int>, channels c: Int, into first: UnsafeMutablePointer<Double>,
        _ second: UnsafeMutablePointer<Double>,
        _ terms: (Int, Int) -> (SIMD16<Float>, SIMD16<Float>)
    ) {
        let blocks = c / 16
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 2 * blocks) { acc in
            var r = rows.lowerBound
            while r < rows.upperBound {
                let end = min(rows.upperBound, r + 64)
                acc.initialize(repeating: SIMD16(repeating: 0))
                while r < end {
                    for b in 0..<blocks {
                        let (u, v) = terms(r, b * 16)
                        acc[2 * b] += u
                        acc[2 * b + 1] += v
                    }
                    r += 1
                }
                for b in 0..<blocks {
                    for lane in 0..<16 {
                        first[b * 16 + lane] += Double(acc[2 * b][lane])
                        second[b * 16 + lane] += Double(acc[2 * b + 1][lane])
                    }
                }
            }
        }
    }

    /// Phase 2 (one thread): mean, 1/sqrt(var + eps), and the running-statistics update
    /// (with the unbiased variance, as PyTorch).
    public static func finishMoments(
        scratch: UnsafePointer<Double>, parts: Int, channels c: Int, rows m: Int, epsilon: Float, momentum: Float,
        runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
        mean: UnsafeMutablePointer<Float>, invstd: UnsafeMutablePointer<Float>,
        newMean: UnsafeMutablePointer<Float>, newVar: UnsafeMutablePointer<Float>
    ) {
        for ch in 0..<c {
            var sum = 0.0, sq = 0.0
            for t in 0..<parts {
                sum += scratch[t * 2 * c + ch]
                sq += scratch[t * 2 * c + c + ch]
            }
            let mu = sum / Double(m)
            let variance = max(sq / Double(m) - mu * mu, 0)
            mean[ch] = Float(mu)
            invstd[ch] = Float(1 / (variance + Double(epsilon)).squareRoot())
            newMean[ch] = (1 - momentum) * runningMean[ch] + momentum * Float(mu)
            newVar[ch] =
                (1 - momentum) * runningVar[ch] + momentum * Float(variance * Double(m) / Double(max(m - 1, 1)))
        }
    }

    /// Phase 3: `y = act((x - mean) · invstd · scale + bias)` for `rows`.
    public static func normalize(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Range<Int>, channels c: Int,
        mean: UnsafePointer<Float>, invstd: UnsafePointer<Float>, scale: UnsafePointer<Float>,
        bias: UnsafePointer<Float>,
        activation: KernelActivation = .none, coefficients: UnsafeMutablePointer<Float>
    ) {
        ActivationMask.fill(coefficients, channels: c, mean: mean, invstd: invstd, scale: scale, bias: bias)
        Epilogue.apply(
            y + rows.lowerBound * c, rows: rows.count, channels: c, stride: c, scale: coefficients,
            shift: coefficients + c, activation: activation,
            input: x + rows.lowerBound * c)
    }

    /// Backward phase 1 for part `t`: Σ dy and Σ dy·x̂ per channel (dy masked by `mask` first).
    public static func partialGradientSums(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int,
        mean: UnsafePointer<Float>, invstd: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Double>,
        mask: ActivationMask? = nil
    ) {
        let sumDy = scratch, sumDyXhat = scratch + c
        sumDy.update(repeating: 0, count: 2 * c)
        guard c % 16 == 0 else {
            for r in rows {
                let g = dy + r * c, v = x + r * c
                for ch in 0..<c {
                    let d = Double(mask?.apply(g[ch], x: v[ch], channel: ch) ?? g[ch])
                    sumDy[ch] += d
                    sumDyXhat[ch] += d * Double((v[ch] - mean[ch]) * invstd[ch])
                }
            }
            return
        }
        if let mask {
            blockedSums(rows: rows, channels: c, into: sumDy, sumDyXhat) { r, ch in
                let v = load16(x + r * c + ch)
                let d = mask.apply(load16(dy + r * c + ch), x: v, channel: ch)
                return (d, d * ((v - load16(mean + ch)) * load16(invstd + ch)))
            }
            return
        }
        blockedSums(rows: rows, channels: c, into: sumDy, sumDyXhat) { r, ch in
            let d = load16(dy + r * c + ch)
            return (d, d * ((load16(x + r * c + ch) - load16(mean + ch)) * load16(invstd + ch)))
        }
    }

    /// Backward phase 2 (one thread): combine into dbias = Σ dy and dscale = Σ dy·x̂.
    public static func finishGradientSums(
        scratch: UnsafePointer<Double>, parts: Int, channels c: Int, dscale: UnsafeMutablePointer<Float>,
        dbias: UnsafeMutablePointer<Float>
    ) {
        for ch in 0..<c {
            var sumDy = 0.0, sumDyXhat = 0.0
            for t in 0..<parts {
                sumDy += scratch[t * 2 * c + ch]
                sumDyXhat += scratch[t * 2 * c + c + ch]
            }
            dbias[ch] = Float(sumDy)
            dscale[ch] = Float(sumDyXhat)
        }
    }

    /// Backward phase 3: `dx = scale·invstd/m · (m·dy − Σdy − x̂·Σdy·x̂)` for `rows`, with dy
    /// masked by `mask` and the result added to `residual` when given (`dx` may be `residual`).
    public static func inputGradient(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, rows: Range<Int>,
        channels c: Int,
        totalRows m: Int, scale: UnsafePointer<Float>, mean: UnsafePointer<Float>, invstd: UnsafePointer<Float>,
        dscale: UnsafePointer<Float>, dbias: UnsafePointer<Float>, mask: ActivationMask? = nil,
        residual: UnsafePointer<Float>? = nil
    ) {
        let inverseM = 1 / Float(m)
        if c % 16 == 0 {
            for r in rows {
                let g = dy + r * c, v = x + r * c, out = dx + r * c, res = residual.map { $0 + r * c }
                var ch = 0
                while ch < c {
                    let xv = load16(v + ch)
                    var d = load16(g + ch)
                    if let mask { d = mask.apply(d, x: xv, channel: ch) }
                    let xhat = (xv - load16(mean + ch)) * load16(invstd + ch)
                    let inner = d - inverseM * load16(dbias + ch) - xhat * inverseM * load16(dscale + ch)
                    var result = load16(scale + ch) * load16(invstd + ch) * inner
                    if let res { result = load16(res + ch) + result }
                    store16(result, out + ch)
                    ch += 16
                }
            }
            return
        }
        for r in rows {
            let g = dy + r * c, v = x + r * c, out = dx + r * c
            for ch in 0..<c {
                let d = mask?.apply(g[ch], x: v[ch], channel: ch) ?? g[ch]
                let xhat = (v[ch] - mean[ch]) * invstd[ch]
                let result = scale[ch] * invstd[ch] * (d - inverseM * dbias[ch] - xhat * inverseM * dscale[ch])
                out[ch] = residual.map { $0[r * c + ch] + result } ?? result
            }
        }
    }
}

/// The derivative of a ReLU or leaky ReLU that followed a train-mode BatchNorm, recomputed from
/// the BatchNorm's input with the coefficients its forward pass used (`normalize`), so the mask
/// is exactly the one the stored activation would give: the gradient is scaled by `slope`
/// where the BatchNorm output `x · a + b` is not positive.
public struct ActivationMask {
    /// Per channel: `a = invstd · scale` and `b = bias − mean · a`, `2 · channels` floats.
    public let coefficients: UnsafePointer<Float>
    public let channels: Int
    public let slope: Float

    public init(coefficients: UnsafePointer<Float>, channels: Int, slope: Float) {
        (self.coefficients, self.channels, self.slope) = (coefficients, channels, slope)
    }

    /// Fills `coefficients` (2 · channels floats) as `BatchNormTraining.normalize` does.
    public static func fill(
        _ coefficients: UnsafeMutablePointer<Float>, channels c: Int, mean: UnsafePointer<Float>,
        invstd: UnsafePointer<Float>,
        scale: UnsafePointer<Float>, bias: UnsafePointer<Float>
    ) {
        for ch in 0..<c {
            coefficients[ch] = invstd[ch] * scale[ch]
            coefficients[c + ch] = bias[ch] - mean[ch] * coefficients[ch]
        }
    }

    @inline(__always)
    func apply(_ d: SIMD16<Float>, x: SIMD16<Float>, channel ch: Int) -> SIMD16<Float> {
        var v = x
        v *= load16(coefficients + ch)
        v += load16(coefficients + channels + ch)
        return d.replacing(with: d * slope, where: v .<= 0)
    }

    @inline(__always)
    func apply(_ d: Float, x: Float, channel ch: Int) -> Float {
        var v = x
        v *= coefficients[ch]
        v += coefficients[channels + ch]
        return v <= 0 ? d * slope : d
    }
}
