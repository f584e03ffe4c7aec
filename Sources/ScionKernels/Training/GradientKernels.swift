import CBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// Elementwise gradients of activations, given dy and the activation's output y.
public enum ActivationGradient {
    public enum Kind: Sendable, Equatable { case relu, leakyRelu(Float), sigmoid, tanh }

    public static func apply(
        _ kind: Kind, dy: UnsafePointer<Float>, y: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        let activation: KernelActivation =
            switch kind {
            case .relu: .relu
            case .leakyRelu(let slope): .leakyRelu(slope)
            case .sigmoid: .sigmoid
            case .tanh: .tanh
            }
        KernelLoops.active.activationGradient(activation, dy: dy, y: y, dx: dx, count: count)
    }
}

/// Gradients of pooling over NHWC tensors; each image is independent (parallel over images).
public enum PoolingGradient {
    /// Max pooling: each output's gradient goes to the first maximum of its window (per channel;
    /// none where the window holds only -infinity or NaN, as the reference loops).
    public static func max(
        image n: Int, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        _ g: ConvGeometry
    ) {
        let c = g.inChannels, vectorEnd = c & ~15
        let dxn = dx + n * g.inPlane * c, xn = x + n * g.inPlane * c
        // Where the windows tile the image (2x2 stride 2), each window zeroes its own cells just
        // before writing them, while they are in cache, instead of a separate pass over dx.
        let tiles =
            g.kernelHeight == g.strideH && g.kernelWidth == g.strideW && g.padH == 0 && g.padW == 0
            && g.dilationH == 1 && g.dilationW == 1 && g.outHeight * g.strideH == g.inHeight
            && g.outWidth * g.strideW == g.inWidth
        if !tiles { dxn.update(repeating: 0, count: g.inPlane * c) }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: g.kernelHeight * g.kernelWidth) { buffer in
            guard let cells = buffer.baseAddress else { return }
            for oh in 0..<g.outHeight {
                for ow in 0..<g.outWidth {
                    let grad = dy + ((n * g.outHeight + oh) * g.outWidth + ow) * c
                    let inside = Pooling.windowCells(oh, ow, g, into: cells)
                    if tiles { for i in 0..<inside { (dxn + cells[i] * c).update(repeating: 0, count: c) } }
                    var ch = 0
                    while ch < vectorEnd {
                        maxWindow16(ch, cells, inside, grad: grad, xn, dxn, channels: c)
                        ch += 16
                    }
                    while ch < c {
                        var best = -Float.infinity, at = -1
                        for i in 0..<inside where xn[cells[i] * c + ch] > best {
                            (best, at) = (xn[cells[i] * c + ch], cells[i] * c + ch)
                        }
                        if at >= 0 { dxn[at] += grad[ch] }
                        ch += 1
                    }
                }
            }
        }
    }

    /// Channels `ch ..< ch + 16` of one window: the maximum first, then the gradient added at
    /// the first cell equal to it (strictly above -infinity, so an empty or all-NaN window
    /// passes nothing, as a strict `>` scan from -infinity would).
    @inline(__always)
    private static func maxWindow16(
        _ ch: Int, _ cells: UnsafePointer<Int>, _ inside: Int, grad: UnsafePointer<Float>, _ xn: UnsafePointer<Float>,
        _ dxn: UnsafeMutablePointer<Float>, channels c: Int
    ) {
        var best = SIMD16<Float>(repeating: -.infinity)
        for i in 0..<inside {
            let v = load16(xn + cells[i] * c + ch)
            best.replace(with: v, where: v .> best)
        }
        let g = load16(grad + ch)
        var open = best .> SIMD16(repeating: -.infinity)
        for i in 0..<inside {
            let at = cells[i] * c + ch
            let first = open .& (load16(xn + at) .== best)
            guard any(first) else { continue }
            store16(load16(dxn + at) + SIMD16(repeating: 0).replacing(with: g, where: first), dxn + at)
            open = open .& .!first
        }
    }

    /// Average pooling: each output's gradient spread over its window.
    public static func average(
        image n: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
        countIncludePad: Bool
    ) {
        let c = g.inChannels
        let dxn = dx + n * g.inPlane * c
        dxn.update(repeating: 0, count: g.inPlane * c)
        for oh in 0..<g.outHeight {
            for ow in 0..<g.outWidth {
                let h0 = oh * g.strideH - g.padH, w0 = ow * g.strideW - g.padW
                let hEnd = Swift.min(h0 + g.kernelHeight, g.inHeight + g.padH),
                    wEnd = Swift.min(w0 + g.kernelWidth, g.inWidth + g.padW)
                let ha = Swift.max(h0, 0), hb = Swift.min(hEnd, g.inHeight), wa = Swift.max(w0, 0),
                    wb = Swift.min(wEnd, g.inWidth)
                let divisor = Float(countIncludePad ? (hEnd - h0) * (wEnd - w0) : Swift.max((hb - ha) * (wb - wa), 1))
                let grad = dy + ((n * g.outHeight + oh) * g.outWidth + ow) * c
                for ih in ha..<Swift.max(ha, hb) {
                    for iw in wa..<Swift.max(wa, wb) {
                        let dst = dxn + (ih * g.inWidth + iw) * c
                        for ch in 0..<c { dst[ch] += grad[ch] / divisor }
                    }
                }
            }
        }
    }

    /// Global average pooling: dy[n, c] / (H·W) to every pixel.
    public static func globalAverage(
        image n: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, plane: Int, channels c: Int
    ) {
        let scale = 1 / Float(plane)
        let src = dy + n * c
        for p in 0..<plane {
            let dst = dx + (n * plane + p) * c
            for ch in 0..<c { dst[ch] = src[ch] * scale }
        }
    }
}

/// Gradients of a linear layer `y = x · Wᵀ`.
public enum LinearGradient {
    /// `dx = dy · W` for rows `rows` of the batch.
    public static func input(
        dy: UnsafePointer<Float>, weight: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Range<Int>,
        inFeatures: Int, outFeatures: Int
    ) {
        guard !rows.isEmpty else { return }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), Int32(inFeatures), Int32(outFeatures), 1,
            dy + rows.lowerBound * outFeatures, Int32(outFeatures), weight, Int32(inFeatures), 0,
            dx + rows.lowerBound * inFeatures, Int32(inFeatures))
    }

    /// Rows `outputs` of `dW = dyᵀ · x` (each part owns whole rows of dW: no reduction).
    public static func weight(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>, outputs: Range<Int>,
        batch: Int, inFeatures: Int, outFeatures: Int
    ) {
        guard !outputs.isEmpty else { return }
        cblas_sgemm(
            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outputs.count), Int32(inFeatures), Int32(batch), 1,
            dy + outputs.lowerBound, Int32(outFeatures), x, Int32(inFeatures), 0, dw + outputs.lowerBound * inFeatures,
            Int32(inFeatures))
    }
}
