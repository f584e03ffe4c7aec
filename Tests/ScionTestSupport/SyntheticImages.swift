import ScionGraph
import ScionImage

/// Small deterministic image sets for data and attack tests.
public enum SyntheticImages {
    /// `count` 12x12x3 images with labels cycling through 4 classes; `offset` varies the pixels.
    public static func cycling(_ count: Int, offset: Int) -> ImageSet {
        ImageSet(
            pixels: (0..<(count * 432)).map { UInt8(($0 * 31 + offset) % 200) },
            labels: (0..<count).map { Int32($0 % 4) },
            height: 12, width: 12, channels: 3, classes: 4)
    }

    /// A two-class toy problem: `count` 8x8 grey images of horizontal stripes (class 0) or
    /// vertical stripes (class 1), with seeded noise.
    public static func stripes(count: Int, seed: UInt64) -> ImageSet {
        var rng = SeededGenerator(seed: seed)
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for i in 0..<count {
            let label = Int32(i % 2)
            for y in 0..<8 {
                for x in 0..<8 {
                    let bright = (label == 0 ? y : x) % 2 == 0
                    pixels.append(UInt8(clamping: (bright ? 180 : 60) + rng.nextInt(below: 60) - 30))
                }
            }
            labels.append(label)
        }
        return ImageSet(pixels: pixels, labels: labels, height: 8, width: 8, channels: 1, classes: 2)
    }
}
