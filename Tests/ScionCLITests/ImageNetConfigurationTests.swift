import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

/// The reference's ImageNet-12 configuration (its README: ResNet-34, `--stem 31`, SGD at
/// learning rate 0.1, MultiStepLR) runs end to end on the folder dataset, here a generated
/// 12-class fixture of 40x40 PPM images read at 32x32 so it takes seconds.
@Suite struct ImageNetConfigurationTests {
    let dir = TemporaryDirectory()

    /// `perClass` images of each of 12 classes named like ImageNet's synsets; class k is a
    /// brighter channel k % 3 at level k, with seeded noise.
    func writeFixture(_ folder: String, perClass: Int, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        for k in 0..<12 {
            let path = "\(folder)/n\(String(format: "%08d", k))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for i in 0..<perClass {
                var pixels: [UInt8] = []
                for _ in 0..<(40 * 40) {
                    for c in 0..<3 { pixels.append(UInt8((c == k % 3 ? 40 + 15 * k : 50) + rng.nextInt(below: 40))) }
                }
                try (Data("P6\n40 40\n255\n".utf8) + Data(pixels)).write(to: URL(fileURLWithPath: "\(path)/\(i).ppm"))
            }
        }
    }

    @Test func theReferenceImageNet12ConfigurationRuns() throws {
        try writeFixture(dir.file("data/train"), perClass: 12, seed: 1)
        try writeFixture(dir.file("data/test"), perClass: 4, seed: 2)
        let out = dir.file("run")
        let common = [
            "--ds", "folder", "--data-root", dir.file("data"), "--image-size", "32", "--arch", "ResNet34", "--stem",
            "31",
            "--opt", "sgd", "--lr", "0.1", "--decay", "multisteps", "--pattern", "badnet_grid", "--target", "0",
            "--ratio_holdout", "0.1", "--out", out, "--quiet", "--threads", "2"
        ]
        let trap = try ScionBinary.run(["trap"] + common + ["-b", "16", "-e", "2"])
        #expect(trap.status == 0, "\(trap.stderr)")
        #expect(trap.stderr.contains("130 training (14 poisoned with badnet_grid), 14 holdout"), "\(trap.stderr)")
        let replace = try ScionBinary.run(["replace"] + common + ["-b", "8", "-e", "1"])
        #expect(replace.status == 0, "\(replace.stderr)")

        let trapped = try ModelFile.read("\(out)/trapped.h5")
        #expect(trapped.graph.outputs.contains("reconstruction"))
        let step = try #require(trapped.provenance.lineage.last { $0.operation == "trap" })
        #expect(step.details["arch"] == .string("resnet34"))
        #expect(step.details["stem"] == .number(31))
        #expect(step.details["optimizer"] == .string("sgd"))
        #expect(step.details["lr"] == .number(0.1))
        #expect(step.details["decay"] == .string("multisteps"))
        let sanitized = try ModelFile.read("\(out)/sanitized.h5")
        #expect(sanitized.provenance.headReplaced)
        #expect(sanitized.graph.values["logits"]?.sampleShape == [12])
    }
}
