import Foundation
import ScionImage

/// `train/<class>/` and `test/<class>/` folders of images; classes are the sorted folder names
/// of `train/`, every image is resized to `size` x `size` (3 channels).
enum ImageFolderReader {
    static let extensions = ["png", "jpg", "jpeg", "ppm", "pgm"]

    /// The training and test sets, and each training image's path relative to `root`.
    static func read(root: String, size: Int) throws -> (train: ImageSet, test: ImageSet, trainFiles: [String]) {
        guard size >= 8, size <= 1024 else { throw DataError.invalid("--image-size must be between 8 and 1024") }
        let trainRoot = root + "/train"
        guard GTSRBReader.directoryExists(trainRoot) else {
            throw DataError.missingFolder(path: trainRoot, expected: DatasetName.folder.layout)
        }
        let classes = try FileManager.default.contentsOfDirectory(atPath: trainRoot).filter {
            GTSRBReader.directoryExists(trainRoot + "/" + $0)
        }.sorted()
        guard !classes.isEmpty else { throw DataError.malformed(path: trainRoot, problem: "no class folders") }
        let (train, files) = try set(trainRoot, classes: classes, size: size)
        let testRoot = root + "/test"
        guard GTSRBReader.directoryExists(testRoot) else {
            throw DataError.missingFolder(path: testRoot, expected: DatasetName.folder.layout)
        }
        return (train, try set(testRoot, classes: classes, size: size).images, files.map { "train/" + $0 })
    }

    /// The images of `folder/<class>/` for the given class names, labelled by their position,
    /// with their paths relative to `folder`.
    static func set(_ folder: String, classes: [String], size: Int) throws -> (images: ImageSet, files: [String]) {
        var pixels: [UInt8] = [], labels: [Int32] = [], paths: [String] = []
        for (label, name) in classes.enumerated() {
            let path = folder + "/" + name
            guard GTSRBReader.directoryExists(path) else { continue }
            let files = try FileManager.default.contentsOfDirectory(atPath: path)
                .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            for file in files {
                pixels += try ImageCodec.decode(contentsOf: path + "/" + file).withChannels(3).resized(
                    width: size, height: size
                ).pixels
                labels.append(Int32(label))
                paths.append(name + "/" + file)
            }
        }
        guard !labels.isEmpty else {
            throw DataError.malformed(path: folder, problem: "no images (PNG, JPEG or PPM) in the class folders")
        }
        return (
            ImageSet(
                pixels: pixels, labels: labels, height: size, width: size, channels: 3, classes: classes.count,
                classNames: classes), paths
        )
    }
}
