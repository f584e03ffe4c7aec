/// Pooling over NHWC tensors, vectorised across channels; rows of output pixels are spread over
/// the thread pool.
public enum Pooling {
    /// Max pooling; windows that fall entirely in the padding produce -infinity, as PyTorch would.
    public static func max(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry, batch: Int, pool: ThreadPool
    ) {
        pool.parallelFor(batch * g.outHeight) { row, _ in maxRow(row, x, y, g) }
    }

    /// Average pooling; `countIncludePad` divides by the window clipped to the padded image
    /// (PyTorch's default), otherwise by the pixels inside the image.
    public static func average(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry, countIncludePad: Bool,
        batch: Int, pool: ThreadPool
    ) {
        pool.parallelFor(batch * g.outHeight) { row, _ in averageRow(row, x, y, g, countIncludePad: countIncludePad) }
    }

    /// Max pooling of output row `row` (image `row / outHeight`).
    public static func maxRow(
        _ row: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry
    ) {
        window(
            row, x, y, g, initial: -.infinity, combine: { $0.replacing(with: $1, where: $1 .> $0) },
            combineScalar: { Swift.max($0, $1) }, finish: nil)
    }

    /// Average pooling of output row `row`.
    public static func averageRow(
        _ row: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
        countIncludePad: Bool
    ) {
        window(row, x, y, g, initial: 0, combine: { $0 + $1 }, combineScalar: { $0 + $1 }) { oh, ow, inside in
            if !countIncludePad { return Float(inside) }
            let h0 = oh * g.strideH - g.padH, w0 = ow * g.strideW - g.padW
            let h1 = Swift.min(h0 + g.kernelHeight, g.inHeight + g.padH),
                w1 = Swift.min(w0 + g.kernelWidth, g.inWidth + g.padW)
            return Float((h1 - h0) * (w1 - w0))
        }
    }

    @inline(__always)
    private static func window(
        _ row: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
        initial: Float, combine: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>,
        combineScalar: (Float, Float) -> Float,
        finish: ((Int, Int, Int) -> Float)?
    ) {
        let c = g.inChannels
        let vectorEnd = c & ~15
        do {
            let n = row / g.outHeight, oh = row % g.outHeight
            for ow in 0..<g.outWidth {
                let dst = y + ((n * g.outHeight + oh) * g.outWidth + ow) * c
                dst.update(repeating: initial, count: c)
                var inside = 0
                for kh in 0..<g.kernelHeight {
                    let ih = oh * g.strideH - g.padH + kh * g.dilationH
                    guard ih >= 0, ih < g.inHeight else { continue }
                    for kw in 0..<g.kernelWidth {
                        let iw = ow * g.strideW - g.padW + kw * g.dilationW
                        guard iw >= 0, iw < g.inWidth else { continue }
                        inside += 1
                        let src = x + ((n * g.inHeight + ih) * g.inWidth + iw) * c
                        var ch = 0
                        while ch < vectorEnd {
                            store16(combine(load16(dst + ch), load16(src + ch)), dst + ch)
                            ch += 16
                        }
                        while ch < c {
                            dst[ch] = combineScalar(dst[ch], src[ch])
                            ch += 1
                        }
                    }
                }
                if let finish {
                    let divisor = finish(oh, ow, inside)
                    for ch in 0..<c { dst[ch] /= divisor }
                }
            }
        }
    }

    /// Mean over each image's pixels: `[N, H, W, C]` → `[N, C]`.
    public static func globalAverage(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, plane: Int, channels c: Int, batch: Int,
        pool: ThreadPool
    ) {
        pool.parallelFor(batch) { n, _ in globalAverage(image: n, x, y, plane: plane, channels: c) }
    }

    /// Mean over image `n`'s pixels.
    public static func globalAverage(
        image n: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, plane: Int, channels c: Int
    ) {
        let dst = y + n * c
        dst.update(repeating: 0, count: c)
        for p in 0..<plane { Elementwise.add(dst, x + (n * plane + p) * c, dst, count: c) }
        let scale = 1 / Float(plane)
        for ch in 0..<c { dst[ch] *= scale }
    }
}
