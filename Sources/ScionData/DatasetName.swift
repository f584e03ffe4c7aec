import ScionImage

/// The datasets Scion reads, by their command-line names.
public enum DatasetName: String, CaseIterable, Sendable {
    case cifar10
    case gtsrb
    case fashionMNIST = "fashion-mnist"
    case mnist
    case folder

    public init(parsing text: String) throws {
        guard let name = DatasetName(rawValue: text.lowercased()) else { throw DataError.unknownDataset(text) }
        self = name
    }

    /// The layout `--data-root` must have.
    public var layout: String {
        switch self {
        case .cifar10:
            return
                "CIFAR-10 binary version: data_batch_1.bin ... data_batch_5.bin and test_batch.bin (3,073-byte records: label, then 32x32 R, G, B planes), batches.meta.txt with the class names"
        case .gtsrb:
            return
                "GTSRB/Final_Training/Images/000NN/ (PPM images and GT-000NN.csv, 43 classes) and GTSRB/Final_Test/Images/ (PPM images) with GT-final_test.csv (semicolon CSV, column ClassId); images are resized to 32x32"
        case .fashionMNIST, .mnist:
            return
                "IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (gzipped .gz or not)"
        case .folder:
            return
                "train/<class>/ and test/<class>/ folders of PNG, JPEG or PPM images (classes sorted by name); images are resized to --image-size"
        }
    }

    /// Where `--data-root` points by default (Debian's Fashion-MNIST package).
    public var defaultRoot: String? {
        self == .fashionMNIST ? "/usr/share/datasets/fashion-mnist" : nil
    }

    /// Whether the training files are grouped by class, so the training set must be shuffled
    /// (with a recorded seed) before the holdout split.
    public var groupedByClass: Bool { self == .gtsrb || self == .folder }
}

/// A dataset's training and test sets.
public struct LoadedDataset: Sendable {
    public var name: DatasetName
    public var train: ImageSet
    public var test: ImageSet
    /// Each training image's file, relative to the data root (folder datasets; else empty).
    public var trainFiles: [String]

    public init(name: DatasetName, train: ImageSet, test: ImageSet, trainFiles: [String] = []) {
        self.name = name
        self.train = train
        self.test = test
        self.trainFiles = trainFiles
    }
}
