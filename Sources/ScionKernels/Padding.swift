/// Constant padding (or cropping, for negative pads) of the spatial axes of channels-last
/// tensors: each output row is a fill, or a fill, one contiguous copy of the input row and a
/// fill, so the kernel runs at memory speed.
public enum Padding {
    /// `x` `[n, h, w, c]` → `y` `[n, h + top + bottom, w + left + right, c]`; `pads` is
    /// `[top, left, bottom, right]`.
    public static func nhwc(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, height h: Int, width w: Int,
        channels c: Int,
        pads p: [Int], value: Float
    ) {
        let oh = h + p[0] + p[2], ow = w + p[1] + p[3]
        // Output columns [first, last) read input columns [first - left, last - left).
        let first = min(max(0, p[1]), ow), last = max(first, min(ow, w + p[1]))
        for image in 0..<n {
            for r in 0..<oh {
                let row = y + (image * oh + r) * ow * c, ih = r - p[0]
                guard ih >= 0, ih < h else {
                    row.update(repeating: value, count: ow * c)
                    continue
                }
                row.update(repeating: value, count: first * c)
                let source = x + ((image * h + ih) * w + first - p[1]) * c
                (row + first * c).update(from: source, count: (last - first) * c)
                (row + last * c).update(repeating: value, count: (ow - last) * c)
            }
        }
    }
}
