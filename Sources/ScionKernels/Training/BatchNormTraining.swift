import ScionTiles

/// Train-mode BatchNorm over channels-last rows: batch statistics, normalisation, running
/// statistics, and the backward pass. Statistics accumulate in Double per static part of the
/// rows and combine in order (deterministic). The per-row loops are `KernelLoops`'.
public enum BatchNormTraining {
    /// Scratch Doubles needed: two per channel per part.
    public static func scratchCount(channels: Int, parts: Int) -> Int { 2 * channels * parts }

    /// Phase 1 for part `t`: per-channel sum and sum of squares of the part's rows.
    public static func partialMoments(
        _ x: UnsafePointer<Float>, rows: Range<Int>, channels c: Int, scratch: UnsafeMutablePointer<Double>
    ) {
        KernelLoops.active.channelMoments(x, rows: rows, channels: c, into: scratch)
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
        KernelLoops.active.gradientSums(
            dy, x, rows: rows, channels: c, mean: mean, invstd: invstd, mask: mask, into: scratch)
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
        KernelLoops.active.batchNormInputGradient(
            dy, x, dx, rows: rows, channels: c, totalRows: m, scale: scale, mean: mean, invstd: invstd,
            dscale: dscale, dbias: dbias, mask: mask, residual: residual)
    }
}

extension ActivationMask {
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
}
