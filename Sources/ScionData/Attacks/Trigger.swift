import Foundation
import ScionGraph
import ScionImage

/// A trigger for images of one size, and how it is stamped, exactly as the reference does:
/// on the uint8 image before augmentation, in float, then clipped to [0, 255] and truncated to
/// uint8. Placements are relative to the bottom-right corner, so any size and channel count
/// works (28x28 gray, 32x32 RGB, larger).
public struct Trigger: Sendable, Equatable {
    public let pattern: TriggerPattern
    public let height: Int
    public let width: Int
    public let channels: Int
    /// The trigger picture in [0, 255], HWC (for the patterns that use one).
    public let image: [Float]?
    /// For `l0_inv`: 1 where the trigger overwrites the image.
    public let mask: [Float]?
    /// Weight of the trigger in `blend` and `sig` (0.2 in the reference).
    public let alpha: Float

    public init(
        pattern: TriggerPattern, height: Int, width: Int, channels: Int, image: [Float]?, mask: [Float]?, alpha: Float
    ) {
        self.pattern = pattern
        self.height = height
        self.width = width
        self.channels = channels
        self.image = image
        self.mask = mask
        self.alpha = alpha
    }

    /// Stamps the trigger on one HWC uint8 image in place.
    public func stamp(_ pixels: UnsafeMutablePointer<UInt8>) {
        let count = height * width * channels
        switch pattern {
        case .badnetSquare:
            for y in (height - 5)..<(height - 1) { for x in (width - 5)..<(width - 1) { set(pixels, y, x, 255) } }
        case .badnetGrid:
            grid(pixels, rows: [height - 1, height - 2, height - 3], cols: [width - 1, width - 2, width - 3])
        case .cleanLabel:
            grid(pixels, rows: [height - 1, height - 2, height - 3], cols: [width - 1, width - 2, width - 3])
            grid(pixels, rows: [height - 1, height - 2, height - 3], cols: [2, 1, 0])
            grid(pixels, rows: [2, 1, 0], cols: [2, 1, 0])
            grid(pixels, rows: [2, 1, 0], cols: [width - 1, width - 2, width - 3])
        case .blend, .sig:
            combine(pixels, count) { v, t, _ in (1 - alpha) * v + alpha * t }
        case .l0Invisible:
            combine(pixels, count) { v, t, i in v * (1 - (mask?[i] ?? 0)) + t }
        case .smooth:
            var values = (0..<count).map { Float(pixels[$0]) + (image?[$0] ?? 0) }
            let low = values.min() ?? 0, high = values.max() ?? 0
            if high > low { values = values.map { ($0 - low) / (high - low) * 255 } }
            for i in 0..<count { pixels[i] = Self.toByte(values[i]) }
        case .trojan3x3, .trojan8x8, .trojanWatermark, .l2Invisible:
            combine(pixels, count) { v, t, _ in v + t }
        }
    }

    /// The reference's 3x3 grid (NAD/ABL's "gridTrigger"). `rows` and `cols` list the grid's
    /// pixels from the image border inward; the reference writes the same table in all four
    /// corners of `cl` with the lists taken from each border: at the bottom-right,
    /// (31,31)=255 (31,30)=0 (31,29)=255 / (30,31)=0 (30,30)=255 (30,29)=0 / (29,31)=255 (29,30)=0 (29,29)=0.
    private func grid(_ pixels: UnsafeMutablePointer<UInt8>, rows: [Int], cols: [Int]) {
        let values: [[UInt8]] = [[255, 0, 255], [0, 255, 0], [255, 0, 0]]
        for (r, y) in rows.enumerated() {
            for (c, x) in cols.enumerated() { set(pixels, y, x, values[r][c]) }
        }
    }

    private func set(_ pixels: UnsafeMutablePointer<UInt8>, _ y: Int, _ x: Int, _ value: UInt8) {
        guard y >= 0, y < height, x >= 0, x < width else { return }
        for c in 0..<channels { pixels[(y * width + x) * channels + c] = value }
    }

    private func combine(_ pixels: UnsafeMutablePointer<UInt8>, _ count: Int, _ f: (Float, Float, Int) -> Float) {
        guard let image else { return }
        for i in 0..<count { pixels[i] = Self.toByte(f(Float(pixels[i]), image[i], i)) }
    }

    /// numpy's `clip(0, 255).astype(uint8)`: clipped, then truncated toward zero.
    static func toByte(_ v: Float) -> UInt8 {
        UInt8(min(max(v, 0), 255).rounded(.towardZero))
    }
}
