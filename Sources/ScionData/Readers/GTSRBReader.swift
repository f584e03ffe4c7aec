import Foundation
import ScionImage

/// GTSRB in its official release layout: `Final_Training/Images/000NN/*.ppm` (read in class and
/// file-name order, as torchvision's ImageFolder does) and `Final_Test/Images/*.ppm` labelled by
/// `GT-final_test.csv`. Every image is resized to `size` x `size` without ROI cropping, as the
/// reference does.
enum GTSRBReader {
    static func read(root: String, size: Int) throws -> (ImageSet, ImageSet) {
        let base = FileManager.default.fileExists(atPath: root + "/GTSRB") ? root + "/GTSRB" : root
        let trainRoot = base + "/Final_Training/Images", testRoot = base + "/Final_Test/Images"
        guard directoryExists(trainRoot) else {
            throw DataError.missingFolder(path: trainRoot, expected: DatasetName.gtsrb.layout)
        }
        guard directoryExists(testRoot) else {
            throw DataError.missingFolder(path: testRoot, expected: DatasetName.gtsrb.layout)
        }
        let classFolders = try FileManager.default.contentsOfDirectory(atPath: trainRoot).filter {
            directoryExists(trainRoot + "/" + $0)
        }.sorted()
        guard !classFolders.isEmpty else {
            throw DataError.malformed(path: trainRoot, problem: "no class folders (000NN)")
        }
        var pixels: [UInt8] = [], labels: [Int32] = []
        for folder in classFolders {
            guard let label = Int(folder) else {
                throw DataError.malformed(
                    path: "\(trainRoot)/\(folder)", problem: "class folders are named by number (00000 to 00042)")
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: trainRoot + "/" + folder).filter {
                $0.lowercased().hasSuffix(".ppm")
            }.sorted()
            for file in files {
                pixels += try image("\(trainRoot)/\(folder)/\(file)", size: size)
                labels.append(Int32(label))
            }
        }
        let csv = try labelsCSV(testRoot + "/GT-final_test.csv", fallback: base + "/GT-final_test.csv")
        var testPixels: [UInt8] = [], testLabels: [Int32] = []
        for (file, label) in csv {
            testPixels += try image("\(testRoot)/\(file)", size: size)
            testLabels.append(Int32(label))
        }
        let classes = max(43, (labels.max().map { Int($0) + 1 } ?? 0))
        return (
            ImageSet(pixels: pixels, labels: labels, height: size, width: size, channels: 3, classes: classes),
            ImageSet(pixels: testPixels, labels: testLabels, height: size, width: size, channels: 3, classes: classes)
        )
    }

    static func image(_ path: String, size: Int) throws -> [UInt8] {
        let decoded = try ImageCodec.decode(contentsOf: path)
        return decoded.withChannels(3).resized(width: size, height: size).pixels
    }

    /// `Filename;...;ClassId` rows of the test CSV, in file order.
    static func labelsCSV(_ path: String, fallback: String) throws -> [(String, Int)] {
        let chosen = FileManager.default.fileExists(atPath: path) ? path : fallback
        let data = try DatasetReader.contents(
            chosen, expected: "GT-final_test.csv (semicolon-separated, columns Filename and ClassId)")
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        guard let header = lines.first?.split(separator: ";").map({ String($0) }),
            let fileColumn = header.firstIndex(of: "Filename"), let classColumn = header.firstIndex(of: "ClassId")
        else {
            throw DataError.malformed(path: chosen, problem: "the header must name the columns Filename and ClassId")
        }
        return try lines.dropFirst().enumerated().map { i, line in
            let fields = line.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard fields.count > max(fileColumn, classColumn), let label = Int(fields[classColumn]), label >= 0 else {
                throw DataError.malformed(path: chosen, problem: "row \(i + 2) is not Filename;...;ClassId")
            }
            return (fields[fileColumn], label)
        }
    }

    static func directoryExists(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
