/// Labelled 8-bit images in memory, channels last: image `i` is `pixels[i·H·W·C ..< (i+1)·H·W·C]`
/// laid out `[H][W][C]`. Datasets load into this; attacks stamp triggers on it; the batch loader
/// reads it.
public struct ImageSet: Sendable, Equatable {
    public var pixels: [UInt8]
    public var labels: [Int32]
    public let height: Int
    public let width: Int
    public let channels: Int
    public let classes: Int
    public var classNames: [String]

    public init(
        pixels: [UInt8], labels: [Int32], height: Int, width: Int, channels: Int, classes: Int,
        classNames: [String] = []
    ) {
        precondition(pixels.count == labels.count * height * width * channels, "pixels do not match labels and size")
        self.pixels = pixels
        self.labels = labels
        self.height = height
        self.width = width
        self.channels = channels
        self.classes = classes
        self.classNames = classNames.isEmpty ? (0..<classes).map(String.init) : classNames
    }

    public var count: Int { labels.count }
    public var imageSize: Int { height * width * channels }

    /// The images at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageSet {
        var p = [UInt8](repeating: 0, count: indices.count * imageSize)
        pixels.withUnsafeBufferPointer { src in
            p.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    (dst.baseAddress! + k * imageSize).update(from: src.baseAddress! + i * imageSize, count: imageSize)
                }
            }
        }
        return ImageSet(
            pixels: p, labels: indices.map { labels[$0] }, height: height, width: width, channels: channels,
            classes: classes, classNames: classNames)
    }

    /// `first` followed by `second` (same size and classes).
    public static func + (first: ImageSet, second: ImageSet) -> ImageSet {
        ImageSet(
            pixels: first.pixels + second.pixels, labels: first.labels + second.labels, height: first.height,
            width: first.width,
            channels: first.channels, classes: first.classes, classNames: first.classNames)
    }

    /// Image `i` as NCHW floats in [0, 1], appended to `out`.
    public func appendFloats(_ i: Int, to out: UnsafeMutablePointer<Float>) {
        let plane = height * width
        pixels.withUnsafeBufferPointer { src in
            let image = src.baseAddress! + i * imageSize
            for p in 0..<plane {
                for c in 0..<channels { out[c * plane + p] = Float(image[p * channels + c]) / 255 }
            }
        }
    }
}
