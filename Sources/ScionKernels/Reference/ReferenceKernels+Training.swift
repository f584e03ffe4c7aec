/// Naive reference semantics of the training ops (NCHW): the oracles for the fast training
/// kernels, and what the finite-difference tests differentiate.
extension ReferenceKernels {
    /// Train-mode BatchNorm: batch statistics over N·H·W per channel. Returns the output, the
    /// batch mean, 1/sqrt(biased variance + eps), and the updated running statistics (PyTorch:
    /// the running variance is updated with the unbiased variance).
    public static func batchNormTrain(
        _ x: [Float], channels c: Int, plane: Int, scale: [Float], bias: [Float], runningMean: [Float],
        runningVar: [Float], epsilon: Float, momentum: Float
    ) -> (y: [Float], mean: [Float], invstd: [Float], runningMean: [Float], runningVar: [Float]) {
        let n = x.count / (c * plane), m = n * plane
        var mean = [Float](repeating: 0, count: c), invstd = mean, newMean = mean, newVar = mean
        var y = x
        for ch in 0..<c {
            var sum = 0.0, sq = 0.0
            for b in 0..<n { for p in 0..<plane { sum += Double(x[(b * c + ch) * plane + p]) } }
            let mu = sum / Double(m)
            for b in 0..<n { for p in 0..<plane { let d = Double(x[(b * c + ch) * plane + p]) - mu; sq += d * d } }
            let variance = sq / Double(m)
            mean[ch] = Float(mu)
            invstd[ch] = Float(1 / (variance + Double(epsilon)).squareRoot())
            newMean[ch] = (1 - momentum) * runningMean[ch] + momentum * Float(mu)
            newVar[ch] =
                (1 - momentum) * runningVar[ch] + momentum * Float(variance * Double(m) / Double(max(m - 1, 1)))
            for b in 0..<n {
                for p in 0..<plane {
                    let i = (b * c + ch) * plane + p
                    y[i] = (x[i] - mean[ch]) * invstd[ch] * scale[ch] + bias[ch]
                }
            }
        }
        return (y, mean, invstd, newMean, newVar)
    }

    /// Gradients of train-mode BatchNorm with respect to x, scale and bias.
    public static func batchNormTrainGrad(
        _ dy: [Float], _ x: [Float], channels c: Int, plane: Int, scale: [Float], mean: [Float], invstd: [Float]
    ) -> (dx: [Float], dscale: [Float], dbias: [Float]) {
        let n = x.count / (c * plane), m = Float(n * plane)
        var dx = x, dscale = [Float](repeating: 0, count: c), dbias = dscale
        for ch in 0..<c {
            var sumDy: Float = 0, sumDyXhat: Float = 0
            for b in 0..<n {
                for p in 0..<plane {
                    let i = (b * c + ch) * plane + p
                    sumDy += dy[i]
                    sumDyXhat += dy[i] * (x[i] - mean[ch]) * invstd[ch]
                }
            }
            dscale[ch] = sumDyXhat
            dbias[ch] = sumDy
            for b in 0..<n {
                for p in 0..<plane {
                    let i = (b * c + ch) * plane + p
                    let xhat = (x[i] - mean[ch]) * invstd[ch]
                    dx[i] = scale[ch] * invstd[ch] / m * (m * dy[i] - sumDy - xhat * sumDyXhat)
                }
            }
        }
        return (dx, dscale, dbias)
    }

    /// Gradients of InstanceNorm (statistics recomputed from x).
    public static func instanceNormGrad(
        _ dy: [Float], _ x: [Float], channels c: Int, plane: Int, scale: [Float]?, epsilon: Float
    ) -> (dx: [Float], dscale: [Float], dbias: [Float]) {
        var dx = x, dscale = [Float](repeating: 0, count: c), dbias = dscale
        let m = Float(plane)
        for start in stride(from: 0, to: x.count, by: plane) {
            let ch = (start / plane) % c, s = scale?[ch] ?? 1
            let xs = x[start..<start + plane]
            let mean = xs.reduce(0, +) / m
            let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / m
            let invstd = 1 / (variance + epsilon).squareRoot()
            var sumDy: Float = 0, sumDyXhat: Float = 0
            for i in start..<start + plane {
                let xhat = (x[i] - mean) * invstd
                sumDy += dy[i]
                sumDyXhat += dy[i] * xhat
            }
            dscale[ch] += sumDyXhat
            dbias[ch] += sumDy
            for i in start..<start + plane {
                let xhat = (x[i] - mean) * invstd
                dx[i] = s * invstd / m * (m * dy[i] - sumDy - xhat * sumDyXhat)
            }
        }
        return (dx, dscale, dbias)
    }

    /// dW of a convolution (weight `[O, C/g, kh, kw]`): the correlation of x with dy.
    public static func conv2dGradWeight(_ x: [Float], _ dy: [Float], _ g: ConvGeometry) -> [Float] {
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
        var dw = [Float](repeating: 0, count: g.outChannels * cinG * g.kernelHeight * g.kernelWidth)
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                let group = o / coutG
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        let d = dy[((n * g.outChannels + o) * g.outHeight + oh) * g.outWidth + ow]
                        for ci in 0..<cinG {
                            for kh in 0..<g.kernelHeight {
                                let ih = oh * g.strideH - g.padH + kh * g.dilationH
                                guard ih >= 0, ih < g.inHeight else { continue }
                                for kw in 0..<g.kernelWidth {
                                    let iw = ow * g.strideW - g.padW + kw * g.dilationW
                                    guard iw >= 0, iw < g.inWidth else { continue }
                                    dw[((o * cinG + ci) * g.kernelHeight + kh) * g.kernelWidth + kw] +=
                                        d
                                        * x[((n * g.inChannels + group * cinG + ci) * g.inHeight + ih) * g.inWidth + iw]
                                }
                            }
                        }
                    }
                }
            }
        }
        return dw
    }

    /// Sum over every axis but the channel axis of `[N, C, rest...]`.
    public static func channelSum(_ x: [Float], channels c: Int, plane: Int) -> [Float] {
        var out = [Float](repeating: 0, count: c)
        for i in x.indices { out[(i / plane) % c] += x[i] }
        return out
    }

    /// Max-pooling gradient: each output's gradient goes to the first maximum of its window.
    public static func maxPool2dGrad(_ dy: [Float], _ x: [Float], _ g: ConvGeometry) -> [Float] {
        var dx = [Float](repeating: 0, count: x.count)
        for nc in 0..<(g.batch * g.inChannels) {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    var best = -Float.infinity, at = -1
                    for kh in 0..<g.kernelHeight {
                        for kw in 0..<g.kernelWidth {
                            let ih = oh * g.strideH - g.padH + kh * g.dilationH,
                                iw = ow * g.strideW - g.padW + kw * g.dilationW
                            guard ih >= 0, ih < g.inHeight, iw >= 0, iw < g.inWidth else { continue }
                            let i = (nc * g.inHeight + ih) * g.inWidth + iw
                            if x[i] > best { (best, at) = (x[i], i) }
                        }
                    }
                    if at >= 0 { dx[at] += dy[(nc * g.outHeight + oh) * g.outWidth + ow] }
                }
            }
        }
        return dx
    }

    /// Average-pooling gradient: each output's gradient spread evenly over its window.
    public static func avgPool2dGrad(_ dy: [Float], _ g: ConvGeometry, countIncludePad: Bool) -> [Float] {
        var dx = [Float](repeating: 0, count: g.batch * g.inChannels * g.inPlane)
        for nc in 0..<(g.batch * g.inChannels) {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    var cells: [Int] = []
                    var padded = 0
                    for kh in 0..<g.kernelHeight {
                        for kw in 0..<g.kernelWidth {
                            let ih = oh * g.strideH - g.padH + kh, iw = ow * g.strideW - g.padW + kw
                            if ih >= -g.padH, ih < g.inHeight + g.padH, iw >= -g.padW, iw < g.inWidth + g.padW {
                                padded += 1
                            }
                            guard ih >= 0, ih < g.inHeight, iw >= 0, iw < g.inWidth else { continue }
                            cells.append((nc * g.inHeight + ih) * g.inWidth + iw)
                        }
                    }
                    let share =
                        dy[(nc * g.outHeight + oh) * g.outWidth + ow]
                        / Float(countIncludePad ? padded : max(cells.count, 1))
                    for i in cells { dx[i] += share }
                }
            }
        }
        return dx
    }

    /// Mean over the batch of the cross-entropy between softmax(logits) and soft targets, where a
    /// negative target `-a` adds `-a·log(1 - p)` instead (unlikelihood).
    public static func crossEntropy(_ logits: [Float], _ target: [Float], classes k: Int) -> Float {
        let n = logits.count / k
        var total: Float = 0
        for b in 0..<n {
            let p = softmax(Array(logits[b * k..<(b + 1) * k]), extent: k, inner: 1)
            for j in 0..<k {
                let t = target[b * k + j]
                if t > 0 { total -= t * log(p[j]) }
                if t < 0 { total += t * log(1 - p[j]) }
            }
        }
        return total / Float(n)
    }

    /// `scale` times the gradient of `crossEntropy` with respect to the logits, by the chain rule
    /// through the softmax: `∂p_j/∂z_i = p_j(δ_ij − p_i)`.
    public static func crossEntropyGrad(_ logits: [Float], _ target: [Float], classes k: Int, scale: Float) -> [Float] {
        let n = logits.count / k
        var grad = logits
        for b in 0..<n {
            let p = softmax(Array(logits[b * k..<(b + 1) * k]), extent: k, inner: 1)
            for i in 0..<k {
                var d: Float = 0
                for j in 0..<k {
                    let t = target[b * k + j], dp = p[j] * ((i == j ? 1 : 0) - p[i])
                    // d(-t log p_j) = -t dp / p_j; d(-a log(1 - p_j)) = a dp / (1 - p_j), t = -a.
                    if t > 0 { d -= t * dp / p[j] }
                    if t < 0 { d -= t * dp / (1 - p[j]) }
                }
                grad[b * k + i] = scale * d / Float(n)
            }
        }
        return grad
    }

    /// Total variation as the reference defines it: squared differences of vertical and
    /// horizontal neighbours, summed, divided by N·C·H·W.
    public static func totalVariation(_ x: [Float], n: Int, c: Int, h: Int, w: Int) -> Float {
        var total: Float = 0
        for nc in 0..<(n * c) {
            for y in 0..<h {
                for xx in 0..<w {
                    let i = (nc * h + y) * w + xx
                    if y + 1 < h { let d = x[i + w] - x[i]; total += d * d }
                    if xx + 1 < w { let d = x[i + 1] - x[i]; total += d * d }
                }
            }
        }
        return total / Float(n * c * h * w)
    }

    /// `scale` times the gradient of `totalVariation`.
    public static func totalVariationGrad(_ x: [Float], n: Int, c: Int, h: Int, w: Int, scale: Float) -> [Float] {
        var grad = [Float](repeating: 0, count: x.count)
        let k = 2 * scale / Float(n * c * h * w)
        for nc in 0..<(n * c) {
            for y in 0..<h {
                for xx in 0..<w {
                    let i = (nc * h + y) * w + xx
                    if y + 1 < h { let d = x[i + w] - x[i]; grad[i + w] += k * d; grad[i] -= k * d }
                    if xx + 1 < w { let d = x[i + 1] - x[i]; grad[i + 1] += k * d; grad[i] -= k * d }
                }
            }
        }
        return grad
    }

    /// A dropout keep-mask value for element `index` of a tensor under `key`: `1 / (1 - p)` or 0.
    /// Counter-based (a hash of key and index), so any layout or thread split draws the same mask.
    @inline(__always)
    public static func dropoutMask(key: UInt64, index: Int, p: Float) -> Float {
        var z = key &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        let u = Float(z >> 40) * 0x1.0p-24
        return u < p ? 0 : 1 / (1 - p)
    }
}

#if canImport(Glibc)
    import Glibc
#endif
