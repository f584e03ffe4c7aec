import Foundation
import ScionTestSupport
import Testing

/// `scion defend --pattern none` on a user's own folder dataset, where nobody told Scion the
/// trigger: a yellow plus sign (not one of Scion's patterns) planted in 10 % of the training
/// images, relabelled to class `a_red`, and a separate trusted holdout folder.
@Suite struct FolderDefenseTests {
    /// SplitMix64: the images' noise, the same on every run.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    let dir = TemporaryDirectory()
    static let classes = ["a_red", "b_green", "c_blue", "d_white"]
    static let side = 12

    /// A 12x12 image of class k (channel k bright, or all for d_white), optionally with the plus.
    static func ppm(_ k: Int, _ rng: inout SplitMix, plus: Bool) -> Data {
        var pixels: [UInt8] = []
        for y in 0..<side {
            for x in 0..<side {
                let onPlus = plus && ((x == 2 && (1...3).contains(y)) || (y == 2 && (1...3).contains(x)))
                for c in 0..<3 {
                    let bright = c == k || k == 3
                    pixels.append(
                        onPlus ? (c == 2 ? 0 : 255) : UInt8((bright ? 170 : 60) + Int.random(in: 0..<50, using: &rng)))
                }
            }
        }
        return Data("P6\n\(side) \(side)\n255\n".utf8) + Data(pixels)
    }

    func write(_ folder: String, perClass: Int, planted: Int = 0, seed: UInt64) throws -> [String] {
        var rng = SplitMix(state: seed)
        var plantedFiles: [String] = []
        for (k, name) in Self.classes.enumerated() {
            let path = "\(folder)/\(name)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for i in 0..<perClass {
                try Self.ppm(k, &rng, plus: false).write(to: URL(fileURLWithPath: "\(path)/\(i).ppm"))
            }
        }
        // Poisons: images of the other classes with the plus, filed under a_red.
        for i in 0..<planted {
            let file = "\(Self.classes[0])/upload_\(i).ppm"
            try Self.ppm(1 + i % 3, &rng, plus: true).write(to: URL(fileURLWithPath: "\(folder)/\(file)"))
            plantedFiles.append("train/" + file)
        }
        return plantedFiles
    }

    @Test func defendFindsAnUnknownTriggerInAFolderDataset() throws {
        let planted = try write(dir.file("data/train"), perClass: 150, planted: 60, seed: 1)
        _ = try write(dir.file("data/test"), perClass: 40, seed: 2)
        _ = try write(dir.file("trusted"), perClass: 25, seed: 3)
        let out = dir.file("run")
        let result = try ScionBinary.run([
            "defend", "--ds", "folder", "--data-root", dir.file("data"), "--holdout", dir.file("trusted"), "--pattern",
            "none",
            "--image-size", "12", "--arch", "cnn-small", "--trap-epochs", "40", "--replace-epochs", "10",
            "--recover-epochs", "4",
            "--out", out, "--quiet", "--threads", "2"
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("660 training (0 poisoned with none), 100 holdout"), "\(result.stderr)")
        let rows = try String(contentsOfFile: "\(out)/suspects.csv", encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        #expect(rows.first == ["index", "file", "label", "relabel", "score", "trapped_loss", "verdict", "planted"])
        // The most suspect 60 training files are mostly the planted ones, named as on disk.
        let top = Set(rows.dropFirst().prefix(60).map { String($0[1]) })
        let found = planted.filter(top.contains).count
        #expect(found >= 48, "\(found) of the 60 planted files among the 60 most suspect")
        #expect(rows.dropFirst().allSatisfy { $0[7].isEmpty })
        #expect(FileManager.default.fileExists(atPath: "\(out)/suspects.png"))
        let report =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/report.json")))
            as? [String: Any]
        #expect(report?["final"] as? String == "recovered.h5")
    }
}
