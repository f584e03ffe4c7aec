import Foundation
import ScionImage

/// CIFAR-10's binary version: 3,073-byte records (label, then the 32x32 red, green and blue
/// planes), converted to channels-last.
enum CIFAR10Reader {
    static let recordSize = 3073
    static let defaultNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    static func read(root: String) throws -> (ImageSet, ImageSet) {
        let names =
            (try? String(contentsOfFile: root + "/batches.meta.txt", encoding: .utf8))
            .map { $0.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty } } ?? defaultNames
        let trainFiles = (1...5).map { "\(root)/data_batch_\($0).bin" }
        let train = try trainFiles.map { try batch($0) }.reduce(into: ([UInt8](), [Int32]())) {
            $0.0 += $1.0; $0.1 += $1.1
        }
        let test = try batch("\(root)/test_batch.bin")
        let classes = names.count == 10 ? names : defaultNames
        return (
            ImageSet(
                pixels: train.0, labels: train.1, height: 32, width: 32, channels: 3, classes: 10, classNames: classes),
            ImageSet(
                pixels: test.0, labels: test.1, height: 32, width: 32, channels: 3, classes: 10, classNames: classes)
        )
    }

    static func batch(_ path: String) throws -> ([UInt8], [Int32]) {
        let data = try DatasetReader.contents(path, expected: "a CIFAR-10 binary batch (records of 3,073 bytes)")
        guard !data.isEmpty, data.count % recordSize == 0 else {
            throw DataError.malformed(
                path: path, problem: "size \(data.count) is not a multiple of the 3,073-byte CIFAR-10 record")
        }
        let count = data.count / recordSize
        var pixels = [UInt8](repeating: 0, count: count * 3072)
        var labels = [Int32](repeating: 0, count: count)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            for r in 0..<count {
                let record = r * recordSize
                guard bytes[record] < 10 else {
                    throw DataError.malformed(
                        path: path, problem: "record \(r) has label \(bytes[record]), expected 0-9")
                }
                labels[r] = Int32(bytes[record])
                for p in 0..<1024 {
                    for c in 0..<3 { pixels[r * 3072 + p * 3 + c] = bytes[record + 1 + c * 1024 + p] }
                }
            }
        }
        return (pixels, labels)
    }
}
