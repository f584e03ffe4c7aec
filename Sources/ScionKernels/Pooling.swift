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

    /// The input offsets (in pixels, within image `n`) of output pixel (`oh`, `ow`)'s window
    /// cells that fall inside the image, in window order; returns how many.
    @inline(__always)
    static func windowCells(_ oh: Int, _ ow: Int, _ g: ConvGeometry, into cells: UnsafeMutablePointer<Int>) -> Int {
        var count = 0
        for kh in 0..<g.kernelHeight {
            let ih = oh * g.strideH - g.padH + kh * g.dilationH
            guard ih >= 0, ih < g.inHeight else { continue }
            for kw in 0..<g.kernelWidth {
                let iw = ow * g.strideW - g.padW + kw * g.dilationW
                guard iw >= 0, iw < g.inWidth else { continue }
                cells[count] = ih * g.inWidth + iw
                count += 1
            }
        }
        return count
    }

    /// One output row: each window is reduced 16 channels at a time in registers (one store per
    /// output vector), then the scalar tail channels.
    @inline(__always)
    private static func window(
        _ row: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ g: ConvGeometry,
        initial: Float, combine: (SIMD16<Float>, SIMD16<Float>) -> SIMD16<Float>,
        combineScalar: (Float, Float) -> Float,
        finish: ((Int, Int, Int) -> Float)?
    ) {
        let c = g.inChannels, vectorEnd = c & ~15
        let n = row / g.outHeight, oh = row % g.outHeight
        let xn = x + n * g.inPlane * c
        withUnsafeTemporaryAllocation(of: Int.self, capacity: g.kernelHeight * g.kernelWidth) { buffer in
            guard let cells = buffer.baseAddress else { return }
            for ow in 0..<g.outWidth {
                let dst = y + ((n * g.outHeight + oh) * g.outWidth + ow) * c
                let inside = windowCells(oh, ow, g, into: cells)
                let divisor = finish.map { $0(oh, ow, inside) }
                var ch = 0
                while ch < vectorEnd {
                    var acc = SIMD16<Float>(repeating: initial)
                    for i in 0..<inside { acc = combine(acc, load16(xn + cells[i] * c + ch)) }
                    store16(divisor.map { acc / SIMD16(repeating: $0) } ?? acc, dst + ch)
                    ch += 16
                }
                while ch < c {
                    var acc = initial
                    for i in 0..<inside { acc = combineScalar(acc, xn[cells[i] * c + ch]) }
                    dst[ch] = divisor.map { acc / $0 } ?? acc
                    ch += 1
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
