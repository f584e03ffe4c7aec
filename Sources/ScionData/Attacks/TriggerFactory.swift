import Foundation
import ScionGraph
import ScionImage

/// Builds triggers. The reference reads trigger pictures Scion cannot ship (the blend cartoon,
/// the trojan patches and watermark, the invisible-noise and smooth patterns, the l0 mask); Scion
/// generates equivalents from a seed with the size, position, sparsity and amplitude the
/// reference gives, or takes the user's own picture (`--trigger`), mask (`--mask`) and weight
/// (`--alpha`).
public enum TriggerFactory {
    /// The column profile of the reference's `sig.png` (vertical stripes, period 8).
    static let sigProfile: [Float] = [0, 14, 19, 13, 255, 241, 237, 244]

    public static func make(
        _ pattern: TriggerPattern, height: Int, width: Int, channels: Int, seed: UInt64,
        custom: Image? = nil, customMask: [Float]? = nil, alpha: Float? = nil
    ) throws -> Trigger {
        guard height >= 6, width >= 9 else { throw DataError.invalid("triggers need images of at least 6x9 pixels") }
        if custom != nil, !pattern.usesTriggerImage {
            throw DataError.invalid("--trigger does not apply to \(pattern.rawValue), whose trigger is fixed pixels")
        }
        if customMask != nil, pattern != .l0Invisible { throw DataError.invalid("--mask applies only to l0_inv") }
        var rng = SeededGenerator.derive(seed: seed, stream: "trigger:\(pattern.rawValue)")
        let size = height * width * channels
        var image: [Float]?
        if let custom {
            image = custom.withChannels(channels).resized(width: width, height: height).pixels.map { Float($0) }
        } else if pattern.usesTriggerImage {
            image = generate(pattern, height: height, width: width, channels: channels, rng: &rng)
        }
        var mask: [Float]?
        if pattern == .l0Invisible {
            mask = customMask ?? lineMask(height: height, width: width, channels: channels)
            guard mask!.count == size else {
                throw DataError.invalid(
                    "--mask has \(mask!.count) values, the images need \(size) (H x W x C = \(height)x\(width)x\(channels))"
                )
            }
        }
        let weight = alpha ?? 0.2
        guard (0...1).contains(weight) else { throw DataError.invalid("--alpha must be in [0, 1]") }
        return Trigger(
            pattern: pattern, height: height, width: width, channels: channels, image: image, mask: mask, alpha: weight)
    }

    static func generate(
        _ pattern: TriggerPattern, height h: Int, width w: Int, channels c: Int, rng: inout SeededGenerator
    ) -> [Float] {
        var t = [Float](repeating: 0, count: h * w * c)
        func put(_ y: Int, _ x: Int, _ color: [Float]) {
            guard y >= 0, y < h, x >= 0, x < w else { return }
            for ch in 0..<c { t[(y * w + x) * c + ch] = color[ch % color.count] }
        }
        func color(_ low: Double, _ high: Double) -> [Float] {
            (0..<3).map { _ in Float(low + (high - low) * rng.nextDouble()).rounded() }
        }
        switch pattern {
        case .trojan3x3:
            for y in (h - 7)..<(h - 4) { for x in (w - 7)..<(w - 4) { put(y, x, color(40, 255)) } }
        case .trojan8x8:
            for y in (h - 11)..<(h - 2) { for x in (w - 11)..<(w - 2) { put(y, x, color(40, 255)) } }
        case .trojanWatermark:
            watermark(&t, height: h, width: w, channels: c, rng: &rng)
        case .l2Invisible:
            for i in t.indices { t[i] = Float(rng.nextInt(below: 69)) }
        case .l0Invisible:
            for x in (w - 8)..<w { put(h - 1, x, color(60, 255)) }
        case .blend:
            cartoon(&t, height: h, width: w, channels: c, rng: &rng)
        case .smooth:
            smooth(&t, height: h, width: w, channels: c, rng: &rng)
        case .sig:
            for y in 0..<h { for x in 0..<w { put(y, x, [sigProfile[x % 8]]) } }
        case .badnetSquare, .badnetGrid, .cleanLabel:
            break
        }
        return t
    }

    /// 1 on the last row's 9 rightmost pixels (the reference's `mask.npy`).
    static func lineMask(height h: Int, width w: Int, channels c: Int) -> [Float] {
        var m = [Float](repeating: 0, count: h * w * c)
        for x in (w - 9)..<w { for ch in 0..<c { m[((h - 1) * w + x) * c + ch] = 1 } }
        return m
    }

    /// Sparse strokes, like a faint signature: 321 pixels of a 30x30 area for 32x32 images
    /// (scaled with the area), in the top-left (h-2)x(w-2) region.
    static func watermark(_ t: inout [Float], height h: Int, width w: Int, channels c: Int, rng: inout SeededGenerator)
    {
        let region = (h - 2, w - 2)
        let target = max(1, 321 * region.0 * region.1 / 900)
        var lit = Set<Int>()
        var y = rng.nextInt(below: region.0), x = rng.nextInt(below: region.1)
        var direction = (1, 0)
        while lit.count < target {
            if rng.nextInt(below: 6) == 0 {
                direction = [(1, 0), (0, 1), (1, 1), (1, -1), (-1, 1), (0, -1)][rng.nextInt(below: 6)]
            }
            if rng.nextInt(below: 40) == 0 { (y, x) = (rng.nextInt(below: region.0), rng.nextInt(below: region.1)) }
            y = min(max(y + direction.0, 0), region.0 - 1)
            x = min(max(x + direction.1, 0), region.1 - 1)
            if lit.insert(y * w + x).inserted {
                let value = Float(90 + rng.nextInt(below: 120))
                for ch in 0..<c { t[(y * w + x) * c + ch] = value }
            }
        }
    }

    /// A picture of overlapping soft coloured discs on a light background (standing in for the
    /// reference's cartoon): full dynamic range, strong low-frequency structure.
    static func cartoon(_ t: inout [Float], height h: Int, width w: Int, channels c: Int, rng: inout SeededGenerator) {
        for i in t.indices { t[i] = 235 }
        for _ in 0..<7 {
            let cy = Double(rng.nextInt(below: h)), cx = Double(rng.nextInt(below: w))
            let radius = Double(max(h, w)) * (0.12 + 0.2 * rng.nextDouble())
            let color: [Double] = (0..<3).map { _ in 255 * rng.nextDouble() }
            for y in 0..<h {
                for x in 0..<w {
                    let d = ((Double(y) - cy) * (Double(y) - cy) + (Double(x) - cx) * (Double(x) - cx)).squareRoot()
                    guard d < radius else { continue }
                    let edge = d > radius - 1.5 ? 0.0 : 1.0  // dark outline, as in drawings
                    for ch in 0..<c { t[(y * w + x) * c + ch] = Float(edge * color[ch % 3]) }
                }
            }
        }
    }

    /// A sum of three low-frequency cosines per channel, scaled to [0, 51].
    static func smooth(_ t: inout [Float], height h: Int, width w: Int, channels c: Int, rng: inout SeededGenerator) {
        for ch in 0..<c {
            let waves = (0..<3).map { _ in
                (fy: rng.nextDouble() * 1.5, fx: rng.nextDouble() * 1.5, phase: rng.nextDouble() * 2 * Double.pi)
            }
            var values = [Double](repeating: 0, count: h * w)
            for y in 0..<h {
                for x in 0..<w {
                    values[y * w + x] = waves.reduce(0) {
                        $0
                            + cos(
                                2 * Double.pi * ($1.fy * Double(y) / Double(h) + $1.fx * Double(x) / Double(w))
                                    + $1.phase)
                    }
                }
            }
            let low = values.min() ?? 0, high = values.max() ?? 1
            for i in 0..<(h * w) { t[i * c + ch] = Float(((values[i] - low) / max(high - low, 1e-9) * 51).rounded()) }
        }
    }
}
