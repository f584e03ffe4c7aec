import ScionImage

/// A picture of an attack: clean images in the top row, the same images with the trigger below,
/// scaled up without smoothing so single-pixel triggers stay visible.
public enum Preview {
    public static func grid(clean: ImageSet, triggered: ImageSet, indices: [Int], scale: Int = 4) -> Image {
        let h = clean.height * scale, w = clean.width * scale, gap = 2
        let columns = max(indices.count, 1)
        var canvas = Image(width: columns * (w + gap) + gap, height: 2 * (h + gap) + gap, channels: 3, fill: 255)
        for (column, i) in indices.enumerated() {
            for (row, set) in [clean, triggered].enumerated() {
                for y in 0..<h {
                    for x in 0..<w {
                        for c in 0..<3 {
                            let value = set.pixels[
                                i * set.imageSize + ((y / scale) * set.width + x / scale) * set.channels
                                    + min(c, set.channels - 1)]
                            canvas[gap + column * (w + gap) + x, gap + row * (h + gap) + y, c] = value
                        }
                    }
                }
            }
        }
        return canvas
    }

    /// `indices` of `set` in rows of `columns`, scaled up without smoothing, in order.
    public static func mosaic(_ set: ImageSet, indices: [Int], columns: Int = 8, scale: Int = 4) -> Image {
        let h = set.height * scale, w = set.width * scale, gap = 2
        let across = max(1, min(columns, indices.count)), rows = max(1, (indices.count + across - 1) / across)
        var canvas = Image(width: across * (w + gap) + gap, height: rows * (h + gap) + gap, channels: 3, fill: 255)
        for (n, i) in indices.enumerated() {
            let left = gap + (n % across) * (w + gap), top = gap + (n / across) * (h + gap)
            for y in 0..<h {
                for x in 0..<w {
                    for c in 0..<3 {
                        canvas[left + x, top + y, c] =
                            set.pixels[
                                i * set.imageSize + ((y / scale) * set.width + x / scale) * set.channels
                                    + min(c, set.channels - 1)]
                    }
                }
            }
        }
        return canvas
    }
}
