import Foundation
import ScionData
import ScionFormat
import ScionImage
import ScionTestSupport
import Testing

@Suite struct ReaderTests {
    let dir = TemporaryDirectory()

    /// A small GTSRB in the official layout: 3 classes of PPM images of varying size, per-class
    /// CSVs, and a test folder labelled by GT-final_test.csv.
    func makeGTSRB() throws -> String {
        let root = dir.file("gtsrb")
        let fm = FileManager.default
        for c in 0..<3 {
            let folder = "\(root)/GTSRB/Final_Training/Images/\(String(format: "%05d", c))"
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var csv = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
            for i in 0..<(2 + c) {
                let name = String(format: "%05d_%05d.ppm", i, 0)
                try ppm(width: 30 + i * 5, height: 34, value: UInt8(40 * c + i)).write(
                    to: URL(fileURLWithPath: "\(folder)/\(name)"))
                csv += "\(name);\(30 + i * 5);34;5;5;25;29;\(c)\n"
            }
            try csv.write(toFile: "\(folder)/GT-\(String(format: "%05d", c)).csv", atomically: true, encoding: .utf8)
        }
        let test = "\(root)/GTSRB/Final_Test/Images"
        try fm.createDirectory(atPath: test, withIntermediateDirectories: true)
        var csv = "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n"
        for i in 0..<4 {
            try ppm(width: 40, height: 40, value: 200).write(
                to: URL(fileURLWithPath: "\(test)/\(String(format: "%05d", i)).ppm"))
            csv += "\(String(format: "%05d", i)).ppm;40;40;5;5;35;35;\(i % 3)\n"
        }
        try csv.write(toFile: "\(test)/GT-final_test.csv", atomically: true, encoding: .utf8)
        return root
    }

    func ppm(width: Int, height: Int, value: UInt8) -> Data {
        Data("P6\n\(width) \(height)\n255\n".utf8) + Data((0..<(width * height * 3)).map { i in value &+ UInt8(i % 7) })
    }

    @Test func gtsrbReaderReadsTheOfficialLayout() throws {
        let root = try makeGTSRB()
        let d = try DatasetReader.load(.gtsrb, root: root)
        #expect(d.train.count == 9 && d.test.count == 4)
        #expect(d.train.labels == [0, 0, 1, 1, 1, 2, 2, 2, 2])
        #expect(d.test.labels == [0, 1, 2, 0])
        #expect(d.train.height == 32 && d.train.width == 32 && d.train.channels == 3 && d.train.classes == 43)
        // Missing test labels are named.
        try FileManager.default.removeItem(atPath: "\(root)/GTSRB/Final_Test/Images/GT-final_test.csv")
        #expect(throws: DataError.self) { try DatasetReader.load(.gtsrb, root: root) }
    }

    @Test func malformedGTSRBCSVIsNamed() throws {
        let root = try makeGTSRB()
        try "Name;Label\nx;1\n".write(
            toFile: "\(root)/GTSRB/Final_Test/Images/GT-final_test.csv", atomically: true, encoding: .utf8)
        #expect {
            try DatasetReader.load(.gtsrb, root: root)
        } throws: { "\($0)".contains("Filename and ClassId") }
    }

    @Test func missingAndCorruptFilesAreNamed() throws {
        #expect(throws: DataError.missingFolder(path: dir.file("nope"), expected: DatasetName.cifar10.layout)) {
            try DatasetReader.load(.cifar10, root: dir.file("nope"))
        }
        let cifar = dir.file("cifar")
        try FileManager.default.createDirectory(atPath: cifar, withIntermediateDirectories: true)
        #expect { try DatasetReader.load(.cifar10, root: cifar) } throws: {
            "\($0)".contains("data_batch_1.bin: file not found")
        }
        for i in 1...5 { try Data(count: 3073 * 2).write(to: URL(fileURLWithPath: "\(cifar)/data_batch_\(i).bin")) }
        try Data(count: 100).write(to: URL(fileURLWithPath: "\(cifar)/test_batch.bin"))
        #expect { try DatasetReader.load(.cifar10, root: cifar) } throws: {
            "\($0)".contains("test_batch.bin: size 100 is not a multiple")
        }
        let idx = dir.file("idx")
        try FileManager.default.createDirectory(atPath: idx, withIntermediateDirectories: true)
        try Data([1, 2, 3, 4, 5]).write(to: URL(fileURLWithPath: "\(idx)/train-images-idx3-ubyte"))
        #expect { try DatasetReader.load(.mnist, root: idx) } throws: { "\($0)".contains("not an IDX file") }
        try Data([0x1F, 0x8B, 0, 0]).write(to: URL(fileURLWithPath: "\(idx)/train-images-idx3-ubyte.gz"))
        #expect { try DatasetReader.load(.mnist, root: idx) } throws: { "\($0)".contains("gzip") }
    }

    @Test func folderDatasetKnowsItsFilesAndATrustedHoldoutMustNameItsClasses() throws {
        let fm = FileManager.default
        for (split, classes) in [
            ("data/train", ["cat", "dog"]), ("data/test", ["cat", "dog"]), ("trusted", ["dog"]), ("odd", ["cow"])
        ] {
            for c in classes {
                try fm.createDirectory(atPath: dir.file("\(split)/\(c)"), withIntermediateDirectories: true)
                for i in 0..<2 {
                    try ppm(width: 9, height: 9, value: UInt8(i * 50)).write(
                        to: URL(fileURLWithPath: dir.file("\(split)/\(c)/\(i).ppm")))
                }
            }
        }
        let d = try DatasetReader.load(.folder, root: dir.file("data"), imageSize: 8)
        #expect(d.trainFiles == ["train/cat/0.ppm", "train/cat/1.ppm", "train/dog/0.ppm", "train/dog/1.ppm"])
        let trusted = try DatasetReader.loadHoldout(dir.file("trusted"), like: d.train)
        #expect(trusted.labels == [1, 1] && trusted.height == 8)
        #expect(throws: DataError.self) { try DatasetReader.loadHoldout(dir.file("odd"), like: d.train) }
        #expect(throws: DataError.self) { try DatasetReader.loadHoldout(dir.file("nowhere"), like: d.train) }
        // With a trusted holdout the whole training folder is the (untrusted) train split.
        let split = try Poisoning.apply(d, ratioHoldout: 0.05, splitSeed: 0, attack: nil, trustedHoldout: trusted)
        #expect(
            split.train.count == 4 && split.holdout.count == 2 && split.triggeredTest.count == 0 && split.trigger == nil
        )
        #expect(Set(split.trainFiles) == Set(d.trainFiles))
    }

    @Test func idxReaderReadsGzippedAndPlainFiles() throws {
        let idx = dir.file("mnist")
        try FileManager.default.createDirectory(atPath: idx, withIntermediateDirectories: true)
        func write(_ name: String, _ header: [UInt8], _ body: [UInt8], gzip: Bool) throws {
            let path = "\(idx)/\(name)"
            try Data(header + body).write(to: URL(fileURLWithPath: path))
            if gzip {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                p.arguments = ["gzip", "-f", path]
                try p.run()
                p.waitUntilExit()
            }
        }
        let n: UInt8 = 3
        try write(
            "train-images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, n, 0, 0, 0, 28, 0, 0, 0, 28],
            (0..<(3 * 784)).map { UInt8($0 % 256) }, gzip: true)
        try write("train-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, n], [0, 1, 2], gzip: true)
        try write(
            "t10k-images-idx3-ubyte", [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28],
            [UInt8](repeating: 7, count: 784), gzip: false)
        try write("t10k-labels-idx1-ubyte", [0, 0, 8, 1, 0, 0, 0, 1], [2], gzip: false)
        let d = try DatasetReader.load(.mnist, root: idx)
        #expect(d.train.count == 3 && d.train.height == 28 && d.train.channels == 1 && d.test.labels == [2])
        #expect(d.train.pixels[785] == UInt8(785 % 256))
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(atPath: SharedData.root + "/cifar-10-batches-bin/data_batch_1.bin"),
            "the shared CIFAR-10 data is not on this machine"))
    func cifarReaderReadsTheSharedData() throws {
        let d = try DatasetReader.load(.cifar10, root: SharedData.root + "/cifar-10-batches-bin")
        #expect(d.train.count == 50_000 && d.test.count == 10_000 && d.train.classNames[0] == "airplane")
    }

    @Test func poisonedDatasetFilesRoundTrip() throws {
        let data = PoisoningTests.dataset()
        let trigger = try TriggerFactory.make(.blend, height: 12, width: 12, channels: 3, seed: 0)
        let p = try Poisoning.apply(
            data, ratioHoldout: 0.05, splitSeed: nil, attack: AttackConfiguration(trigger: trigger, target: 1))
        let path = dir.file("poisoned.h5")
        try PoisonedDataFile.write(p, dataset: .cifar10, to: path)
        #expect(try PoisonedDataFile.read(path, split: "train") == p.train)
        #expect(try PoisonedDataFile.read(path, split: "test_triggered") == p.triggeredTest)
        #expect(throws: DataError.self) { try PoisonedDataFile.read(path, split: "validation") }
    }
}
