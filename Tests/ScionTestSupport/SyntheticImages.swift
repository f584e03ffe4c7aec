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
}
