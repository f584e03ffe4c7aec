import Foundation
import ScionImage

/// Reads any supported dataset from its root folder.
///
/// ```swift
/// let cifar = try DatasetReader.load(.cifar10, root: "../shared/data/cifar-10-batches-bin")
/// ```
public enum DatasetReader {
    public static func load(_ name: DatasetName, root: String?, imageSize: Int = 32) throws -> LoadedDataset {
        guard let root = root ?? name.defaultRoot else {
            throw DataError.invalid("--data-root is required for \(name.rawValue) (\(name.layout))")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.missingFolder(path: root, expected: name.layout)
        }
        let (train, test): (ImageSet, ImageSet)
        switch name {
        case .cifar10: (train, test) = try CIFAR10Reader.read(root: root)
        case .gtsrb: (train, test) = try GTSRBReader.read(root: root, size: 32)
        case .fashionMNIST, .mnist:
            (train, test) = try IDXReader.read(root: root, names: name == .fashionMNIST ? IDXReader.fashionNames : nil)
        case .folder:
            let read = try ImageFolderReader.read(root: root, size: imageSize)
            return LoadedDataset(name: name, train: read.train, test: read.test, trainFiles: read.trainFiles)
        }
        return LoadedDataset(name: name, train: train, test: test)
    }

    /// A trusted clean holdout given as its own folder: `<class>/` subfolders named as
    /// `like`'s classes (a class may be missing), images resized to `like`'s size.
    public static func loadHoldout(_ folder: String, like train: ImageSet) throws -> ImageSet {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.missingFolder(
                path: folder, expected: "<class>/ folders of trusted clean images, named as the training set's classes")
        }
        let unknown = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { GTSRBReader.directoryExists(folder + "/" + $0) && !train.classNames.contains($0) }
        guard unknown.isEmpty else {
            throw DataError.malformed(
                path: folder,
                problem:
                    "class folders \(unknown.sorted()) are not classes of the training set (\(train.classNames.joined(separator: ", ")))"
            )
        }
        return try ImageFolderReader.set(folder, classes: train.classNames, size: train.height).images
    }

    /// Contents of `path`, or an error naming what was expected there.
    static func contents(_ path: String, expected: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.missingFile(path: path, expected: expected)
        }
        return data
    }
}
