import Foundation
import ScionImage

/// MNIST and Fashion-MNIST in IDX format (gzipped or not): bytes 0-1 zero, byte 2 the type
/// (0x08, unsigned bytes), byte 3 the rank, the extents as big-endian uint32, then the data.
enum IDXReader {
    static let fashionNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
    ]

    static func read(root: String, names: [String]?) throws -> (ImageSet, ImageSet) {
        func set(_ images: String, _ labels: String) throws -> ImageSet {
            let (imageShape, imageBytes) = try file(root, images)
            let (labelShape, labelBytes) = try file(root, labels)
            guard imageShape.count == 3, labelShape.count == 1, imageShape[0] == labelShape[0] else {
                throw DataError.malformed(
                    path: "\(root)/\(images)",
                    problem: "expected images [N, H, W] matching labels [N]; got \(imageShape) and \(labelShape)")
            }
            guard let maxLabel = labelBytes.max(), maxLabel < 100 else {
                throw DataError.malformed(path: "\(root)/\(labels)", problem: "labels are out of range")
            }
            let classes = max(Int(maxLabel) + 1, names?.count ?? 0)
            return ImageSet(
                pixels: imageBytes, labels: labelBytes.map { Int32($0) }, height: imageShape[1], width: imageShape[2],
                channels: 1, classes: classes, classNames: names ?? [])
        }
        return (
            try set("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
            try set("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
        )
    }

    /// The shape and bytes of IDX file `name` (or `name.gz`) in `root`.
    static func file(_ root: String, _ name: String) throws -> ([Int], [UInt8]) {
        let plain = "\(root)/\(name)", gz = plain + ".gz"
        let path = FileManager.default.fileExists(atPath: gz) ? gz : plain
        var data = try DatasetReader.contents(path, expected: "an IDX file (\(name) or \(name).gz)")
        if Gzip.isCompressed(data) { data = try Gzip.decompress(data, path: path) }
        let bytes = [UInt8](data)
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08, (1...4).contains(bytes[3]) else {
            throw DataError.malformed(path: path, problem: "not an IDX file of unsigned bytes (magic 00 00 08 0n)")
        }
        let rank = Int(bytes[3])
        guard bytes.count >= 4 + 4 * rank else { throw DataError.malformed(path: path, problem: "truncated header") }
        let shape = (0..<rank).map { d in (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * d + $1]) } }
        let count = shape.reduce(1, *)
        guard bytes.count == 4 + 4 * rank + count else {
            throw DataError.malformed(
                path: path,
                problem: "shape \(shape) needs \(count) data bytes, the file has \(bytes.count - 4 - 4 * rank)")
        }
        return (shape, Array(bytes[(4 + 4 * rank)...]))
    }
}
