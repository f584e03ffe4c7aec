import ScionGraph
import ScionImage

/// What the loader does to each training image and batch, as the reference's transforms:
/// `RandomCrop(size, padding)` (zero padding), `RandomHorizontalFlip()`, CutMix on every batch
/// (β = 1, probability 1), and label smoothing (timm's LabelSmoothingCrossEntropy).
public struct Augmentation: Sendable, Equatable {
    public var cropPadding: Int
    public var horizontalFlip: Bool
    public var cutMix: Bool
    public var labelSmoothing: Float

    public init(cropPadding: Int = 0, horizontalFlip: Bool = false, cutMix: Bool = false, labelSmoothing: Float = 0) {
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
        self.cutMix = cutMix
        self.labelSmoothing = labelSmoothing
    }

    public static let none = Augmentation()
    /// `RandomCrop(32, padding=4)` + `RandomHorizontalFlip()`: the reference's training transform.
    public static let cropAndFlip = Augmentation(cropPadding: 4, horizontalFlip: true)

    /// Copies image `i` of `set` into `out` (NCHW floats in [0, 1]) shifted by a random crop
    /// offset and maybe mirrored, drawing from `rng` in the reference's order (crop, then flip).
    func apply(_ set: ImageSet, _ i: Int, into out: UnsafeMutablePointer<Float>, rng: inout SeededGenerator) {
        let h = set.height, w = set.width, c = set.channels
        var dy = 0, dx = 0
        if cropPadding > 0 {
            dy = rng.nextInt(below: 2 * cropPadding + 1) - cropPadding
            dx = rng.nextInt(below: 2 * cropPadding + 1) - cropPadding
        }
        let flip = horizontalFlip && rng.nextDouble() < 0.5
        set.pixels.withUnsafeBufferPointer { src in
            let image = src.baseAddress! + i * set.imageSize
            for y in 0..<h {
                let sy = y + dy
                for x in 0..<w {
                    let sx0 = x + dx
                    let sx = flip ? (w - 1 - x) + dx : sx0
                    let inside = sy >= 0 && sy < h && sx >= 0 && sx < w
                    for ch in 0..<c {
                        out[(ch * h + y) * w + x] = inside ? Float(image[(sy * w + sx) * c + ch]) / 255 : 0
                    }
                }
            }
        }
    }
}

/// CutMix as the reference implements it: λ ~ Beta(1, 1), a random permutation of the batch, a
/// box of side `int(size · sqrt(1 − λ))` centred uniformly and clipped, pasted from the permuted
/// images; λ is then reset to the kept fraction of pixels and targets mix as λ·a + (1 − λ)·b.
enum CutMix {
    static func apply(
        images: UnsafeMutablePointer<Float>, targets: UnsafeMutablePointer<Float>, batch: Int, channels: Int,
        height: Int, width: Int, classes: Int, rng: inout SeededGenerator
    ) {
        guard batch > 1 else { return }
        let lambda = rng.nextDouble()
        let permutation = rng.permutation(batch)
        // The reference's rand_bbox takes W = size[2] (rows) and H = size[3] (columns).
        let cutRatio = (1 - lambda).squareRoot()
        let cutRows = Int(Double(height) * cutRatio), cutCols = Int(Double(width) * cutRatio)
        let cr = rng.nextInt(below: height), cc = rng.nextInt(below: width)
        let r1 = min(max(cr - cutRows / 2, 0), height), r2 = min(max(cr + cutRows / 2, 0), height)
        let c1 = min(max(cc - cutCols / 2, 0), width), c2 = min(max(cc + cutCols / 2, 0), width)
        let kept = 1 - Float((r2 - r1) * (c2 - c1)) / Float(height * width)
        let perImage = channels * height * width
        let original = UnsafeMutablePointer<Float>.allocate(capacity: batch * perImage)
        defer { original.deallocate() }
        original.update(from: images, count: batch * perImage)
        let originalTargets = [Float](UnsafeBufferPointer(start: targets, count: batch * classes))
        for n in 0..<batch {
            let source = permutation[n]
            for ch in 0..<channels {
                for r in r1..<max(r1, r2) {
                    let row = (ch * height + r) * width
                    (images + n * perImage + row + c1).update(
                        from: original + source * perImage + row + c1, count: c2 - c1)
                }
            }
            for k in 0..<classes {
                targets[n * classes + k] =
                    kept * originalTargets[n * classes + k] + (1 - kept) * originalTargets[source * classes + k]
            }
        }
    }
}
