/// Naive, obviously-correct kernels over NCHW arrays. They define what each op computes, run
/// the reference interpreter, and are the oracle every fast kernel is tested against. Not for
/// speed.
public enum ReferenceKernels {
    /// Convolution, PyTorch semantics; weight `[O, C/groups, kh, kw]`.
    public static func conv2d(_ x: [Float], _ w: [Float], _ bias: [Float]?, _ g: ConvGeometry) -> [Float] {
        var y = [Float](repeating: 0, count: g.outputCount)
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
        for n in 0..<g.batch {
            for o in 0..<g.outChannels {
                let group = o / coutG
                for oh in 0..<g.outHeight {
                    for ow in 0..<g.outWidth {
                        var acc: Float = bias?[o] ?? 0
                        for ci in 0..<cinG {
                            let c = group * cinG + ci
                            for kh in 0..<g.kernelHeight {
                                let ih = oh * g.strideH - g.padH + kh * g.dilationH
                                guard ih >= 0, ih < g.inHeight else { continue }
                                for kw in 0..<g.kernelWidth {
                                    let iw = ow * g.strideW - g.padW + kw * g.dilationW
                                    guard iw >= 0, iw < g.inWidth else { continue }
                                    acc +=
                                        x[((n * g.inChannels + c) * g.inHeight + ih) * g.inWidth + iw]
                                        * w[((o * cinG + ci) * g.kernelHeight + kh) * g.kernelWidth + kw]
                                }
                            }
                        }
                        y[((n * g.outChannels + o) * g.outHeight + oh) * g.outWidth + ow] = acc
                    }
                }
            }
        }
        return y
    }

    /// Transposed convolution, PyTorch semantics; weight `[C, O/groups, kh, kw]`. Each input
    /// pixel scatters its kernel-weighted value into the output.
    public static func convTranspose2d(_ x: [Float], _ w: [Float], _ bias: [Float]?, _ g: ConvGeometry) -> [Float] {
        var y = [Float](repeating: 0, count: g.outputCount)
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
        for n in 0..<g.batch {
            for c in 0..<g.inChannels {
                let group = c / cinG
                for ih in 0..<g.inHeight {
                    for iw in 0..<g.inWidth {
                        let v = x[((n * g.inChannels + c) * g.inHeight + ih) * g.inWidth + iw]
                        for oc in 0..<coutG {
                            let o = group * coutG + oc
                            for kh in 0..<g.kernelHeight {
                                let oh = ih * g.strideH - g.padH + kh * g.dilationH
                                guard oh >= 0, oh < g.outHeight else { continue }
                                for kw in 0..<g.kernelWidth {
                                    let ow = iw * g.strideW - g.padW + kw * g.dilationW
                                    guard ow >= 0, ow < g.outWidth else { continue }
                                    y[((n * g.outChannels + o) * g.outHeight + oh) * g.outWidth + ow] +=
                                        v * w[((c * coutG + oc) * g.kernelHeight + kh) * g.kernelWidth + kw]
                                }
                            }
                        }
                    }
                }
            }
        }
        if let bias {
            for i in y.indices { y[i] += bias[(i / g.outPlane) % g.outChannels] }
        }
        return y
    }

    /// BatchNorm with running statistics: `(x - mean) / sqrt(var + eps) * scale + bias`.
    public static func batchNorm(
        _ x: [Float], channels: Int, plane: Int, scale: [Float], bias: [Float], mean: [Float], variance: [Float],
        epsilon: Float
    ) -> [Float] {
        x.indices.map { i in
            let c = (i / plane) % channels
            return (x[i] - mean[c]) / (variance[c] + epsilon).squareRoot() * scale[c] + bias[c]
        }
    }

    /// InstanceNorm: each sample's channel normalised over its own plane (biased variance).
    public static func instanceNorm(
        _ x: [Float], channels: Int, plane: Int, scale: [Float]?, bias: [Float]?, epsilon: Float
    ) -> [Float] {
        var y = x
        for start in stride(from: 0, to: x.count, by: plane) {
            let c = (start / plane) % channels
            let values = x[start..<start + plane]
            let mean = values.reduce(0, +) / Float(plane)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(plane)
            let inv = 1 / (variance + epsilon).squareRoot()
            for i in start..<start + plane {
                y[i] = (x[i] - mean) * inv * (scale?[c] ?? 1) + (bias?[c] ?? 0)
            }
        }
        return y
    }

    /// `y = x · Wᵀ + b` for x `[N, in]`, W `[out, in]`.
    public static func linear(
        _ x: [Float], _ w: [Float], _ bias: [Float]?, batch: Int, inFeatures: Int, outFeatures: Int
    )
        -> [Float]
    {
        var y = [Float](repeating: 0, count: batch * outFeatures)
        for n in 0..<batch {
            for o in 0..<outFeatures {
                var acc: Float = bias?[o] ?? 0
                for i in 0..<inFeatures { acc += x[n * inFeatures + i] * w[o * inFeatures + i] }
                y[n * outFeatures + o] = acc
            }
        }
        return y
    }

    public static func relu(_ x: [Float]) -> [Float] { x.map { max($0, 0) } }
    public static func leakyRelu(_ x: [Float], slope: Float) -> [Float] { x.map { $0 >= 0 ? $0 : $0 * slope } }
    public static func sigmoid(_ x: [Float]) -> [Float] { x.map { 1 / (1 + expf(-$0)) } }
    public static func tanh(_ x: [Float]) -> [Float] { x.map { tanhf($0) } }
    public static func add(_ a: [Float], _ b: [Float]) -> [Float] { zip(a, b).map { $0 + $1 } }
    public static func mul(_ a: [Float], _ b: [Float]) -> [Float] { zip(a, b).map { $0 * $1 } }

    /// Concatenation along `axis` of row-major tensors that agree on every other extent;
    /// `outer` is the product of extents before the axis, `inner` the product after it.
    public static func concat(_ parts: [[Float]], axisExtents: [Int], outer: Int, inner: Int) -> [Float] {
        var y: [Float] = []
        y.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for o in 0..<outer {
            for (p, extent) in zip(parts, axisExtents) {
                y += p[(o * extent * inner)..<((o + 1) * extent * inner)]
            }
        }
        return y
    }

    /// Max pooling; padded positions never win.
    public static func maxPool2d(_ x: [Float], _ g: ConvGeometry) -> [Float] {
        pool(x, g) { window in window.max() ?? -.infinity }
    }

    /// Average pooling; `countIncludePad` divides by the full window (PyTorch's default).
    public static func avgPool2d(_ x: [Float], _ g: ConvGeometry, countIncludePad: Bool) -> [Float] {
        pool(x, g, includePadCount: countIncludePad) { window in window.reduce(0, +) }
    }

    private static func pool(
        _ x: [Float], _ g: ConvGeometry, includePadCount: Bool? = nil, reduce: ([Float]) -> Float
    ) -> [Float] {
        var y = [Float](repeating: 0, count: g.batch * g.inChannels * g.outPlane)
        for nc in 0..<(g.batch * g.inChannels) {
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    var window: [Float] = []
                    var padded = 0
                    for kh in 0..<g.kernelHeight {
                        for kw in 0..<g.kernelWidth {
                            let ih = oh * g.strideH - g.padH + kh * g.dilationH
                            let iw = ow * g.strideW - g.padW + kw * g.dilationW
                            // PyTorch counts padding only up to the padded border, not beyond it.
                            if ih >= -g.padH, ih < g.inHeight + g.padH, iw >= -g.padW, iw < g.inWidth + g.padW {
                                padded += 1
                            }
                            guard ih >= 0, ih < g.inHeight, iw >= 0, iw < g.inWidth else { continue }
                            window.append(x[(nc * g.inHeight + ih) * g.inWidth + iw])
                        }
                    }
                    var v = reduce(window)
                    if let includePadCount { v /= Float(includePadCount ? padded : max(window.count, 1)) }
                    y[(nc * g.outHeight + oh) * g.outWidth + ow] = v
                }
            }
        }
        return y
    }

    /// Mean over each `[plane]` slice.
    public static func globalAvgPool(_ x: [Float], plane: Int) -> [Float] {
        stride(from: 0, to: x.count, by: plane).map { x[$0..<$0 + plane].reduce(0, +) / Float(plane) }
    }

    /// NCHW `[planes, h, w]` → `[planes, h + top + bottom, w + left + right]`: `value` outside,
    /// negative pads crop. `pads` is `[top, left, bottom, right]`.
    public static func pad(_ x: [Float], planes: Int, height h: Int, width w: Int, pads p: [Int], value: Float)
        -> [Float]
    {
        let oh = h + p[0] + p[2], ow = w + p[1] + p[3]
        var y = [Float](repeating: value, count: planes * oh * ow)
        for plane in 0..<planes {
            for r in 0..<oh {
                for c in 0..<ow {
                    let ih = r - p[0], iw = c - p[1]
                    if ih >= 0, ih < h, iw >= 0, iw < w { y[(plane * oh + r) * ow + c] = x[(plane * h + ih) * w + iw] }
                }
            }
        }
        return y
    }

    /// Softmax along an axis of extent `extent`, with `inner` elements after it.
    public static func softmax(_ x: [Float], extent: Int, inner: Int) -> [Float] {
        var y = x
        for outer in 0..<(x.count / (extent * inner)) {
            for i in 0..<inner {
                let idx = (0..<extent).map { outer * extent * inner + $0 * inner + i }
                let m = idx.map { x[$0] }.max() ?? 0
                let e = idx.map { expf(x[$0] - m) }
                let s = e.reduce(0, +)
                for (k, j) in idx.enumerated() { y[j] = e[k] / s }
            }
        }
        return y
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
