import Foundation
import ScionFormat
import ScionGraph
import ScionImage

/// Poisoned datasets as HDF5 (format `scion-dataset` 1.0, see docs/FORMAT.md): groups `train`,
/// `holdout`, `test` and `test_triggered`, each with `images` (uint8 `[N, H, W, C]`) and
/// `labels` (int32 `[N]`); `train/poisoned` lists the poisoned positions. Written atomically and
/// sealed like model files.
public enum PoisonedDataFile {
    public static let formatName = "scion-dataset"

    public static func write(_ data: PoisonedDataset, dataset: DatasetName, to path: String) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File.create(temporary)
            let root = file.root
            try root.setAttribute(.string(formatName), named: "format")
            try root.setAttribute(.ints([1, 0]), named: "format_version")
            try root.setAttribute(.string(dataset.rawValue), named: "dataset")
            try root.setAttribute(.string(data.trigger?.pattern.rawValue ?? "none"), named: "pattern")
            try root.setAttribute(.ints([Int64(data.target)]), named: "target")
            try root.setAttribute(.ints([Int64(data.split.holdoutCount)]), named: "holdout_count")
            if let seed = data.split.shuffleSeed { try root.setAttribute(.string(String(seed)), named: "split_seed") }
            for (key, value) in data.fingerprints { try root.setAttribute(.string(value), named: "fingerprint_\(key)") }
            try root.writeStrings("class_names", data.train.classNames)
            for (name, set) in [
                ("train", data.train), ("holdout", data.holdout), ("test", data.test),
                ("test_triggered", data.triggeredTest)
            ] {
                let group = try root.createGroup(name)
                try group.writeTensor(
                    "images",
                    Tensor(shape: [set.count, set.height, set.width, set.channels], storage: .uint8(set.pixels)))
                try group.writeTensor("labels", Tensor(shape: [set.count], storage: .int32(set.labels)))
                if name == "train" {
                    try group.writeTensor(
                        "poisoned",
                        Tensor(shape: [data.poisoned.count], storage: .int32(data.poisoned.map { Int32($0) })))
                }
            }
            try file.close()
            try FileSeal.seal(temporary)
        }
    }

    /// Reads one split (`train`, `holdout`, `test` or `test_triggered`).
    public static func read(_ path: String, split: String) throws -> ImageSet {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError.missingFile(path: path, expected: "a poisoned dataset (.h5) written by scion poison")
        }
        if case .damaged(let problem) = try FileSeal.verify(path) {
            throw DataError.malformed(path: path, problem: "damaged: \(problem)")
        }
        let file = try HDF5File.open(path)
        defer { try? file.close() }
        guard case .string(formatName)? = try file.root.attribute("format") else {
            throw DataError.malformed(
                path: path, problem: "not a Scion dataset (root attribute 'format' is not \(formatName))")
        }
        guard file.root.contains(split) else { throw DataError.malformed(path: path, problem: "no split '\(split)'") }
        let group = try file.root.openGroup(split)
        let limit = 1 << 31
        let images = try group.readTensor("images", dtype: .uint8, maxElements: limit)
        let labels = try group.readTensor("labels", dtype: .int32, maxElements: limit)
        guard images.shape.count == 4, labels.shape == [images.shape[0]], case .uint8(let pixels) = images.storage,
            case .int32(let values) = labels.storage
        else {
            throw DataError.malformed(path: path, problem: "'\(split)' must hold images [N, H, W, C] and labels [N]")
        }
        let names =
            file.root.contains("class_names")
            ? try file.root.openDataset("class_names").readStrings(maxBytes: 1 << 20) : []
        let classes = max(names.count, Int(values.max() ?? 0) + 1)
        return ImageSet(
            pixels: pixels, labels: values, height: images.shape[1], width: images.shape[2], channels: images.shape[3],
            classes: classes, classNames: names)
    }
}
