import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import ScionZoo
import Testing

/// Each broken file gives its own clear message and a non-zero exit, never a crash; the HDF5
/// library never prints to the terminal.
@Suite struct BadFileTests {
    let dir = TemporaryDirectory()

    func validModel() throws -> Model {
        let net = try Zoo.classifier(.cnnSmall, classes: 3, input: [1, 28, 28])
        return Model(
            graph: net.graph, parameters: net.initialParameters(seed: 1),
            metadata: ModelMetadata(
                modelName: "cnn", labels: ["a", "b", "c"], input: InputSpec(channels: 1, height: 28, width: 28)))
    }

    func expectFailure(_ path: String, saying fragment: String, sourceLocation: SourceLocation = #_sourceLocation)
        throws
    {
        let result = try ScionBinary.run(["inspect", path])
        #expect(result.exitedNormally, "crashed", sourceLocation: sourceLocation)
        #expect(result.status == 1, sourceLocation: sourceLocation)
        #expect(result.stderr.contains(fragment), "stderr was: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(
            !result.stderr.contains("HDF5-DIAG") && !result.stderr.contains("HDF5:"), sourceLocation: sourceLocation)
    }

    @Test func eachBrokenFileHasItsOwnMessage() throws {
        let empty = dir.file("empty.h5")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        try expectFailure(empty, saying: "the file is empty")

        let text = dir.file("text.h5")
        _ = FileManager.default.createFile(atPath: text, contents: Data(repeating: 65, count: 2000))
        try expectFailure(text, saying: "not an HDF5 file")

        let model = try validModel()
        let valid = dir.file("valid.h5")
        try ModelFile.write(model, to: valid)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: valid))

        let truncated = dir.file("truncated.h5")
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: truncated))
        try expectFailure(truncated, saying: "truncated")

        let flipped = dir.file("flipped.h5")
        var corrupt = bytes
        let needle = model.parameters["fc.weight"]!.withRawBytes { Data($0) }
        let range = try #require(corrupt.range(of: needle))
        corrupt[range.lowerBound + 5] ^= 0x40
        try corrupt.write(to: URL(fileURLWithPath: flipped))
        try expectFailure(flipped, saying: "checksum does not match")
        try FileSeal.seal(flipped)
        try expectFailure(flipped, saying: "content hash mismatch")

        var file = try HandWrittenFile(model)
        file.float64Parameter = "block2.conv.weight"
        try file.write(to: dir.file("dtype.h5"))
        try expectFailure(
            dir.file("dtype.h5"),
            saying: "parameter 'block2.conv.weight' is stored as float64, the graph declares float32")

        file = try HandWrittenFile(model)
        file.skipParameter = "fc.bias"
        try file.write(to: dir.file("missing.h5"))
        try expectFailure(
            dir.file("missing.h5"),
            saying: "parameter 'fc.bias' is declared by the graph but '/parameters/fc.bias' is missing")

        file = try HandWrittenFile(model)
        file.graphJSON = file.graphJSON.replacingOccurrences(of: "\"op\":\"relu\"", with: "\"op\":\"swish\"")
        try file.write(to: dir.file("op.h5"))
        try expectFailure(dir.file("op.h5"), saying: "uses unknown op 'swish'")

        file = try HandWrittenFile(model)
        file.formatVersion = [2, 1]
        try file.write(to: dir.file("major.h5"))
        try expectFailure(dir.file("major.h5"), saying: "format version 2.1 is not supported")
    }

    /// Hundreds of random corruptions through the real command: never a crash, and each one
    /// either harmless (it hit the seal's unused padding) or stopped by the seal before libhdf5
    /// parses anything (libhdf5 handles malformed metadata poorly; the seal exists for this).
    @Test func randomCorruptionsThroughTheCommandLine() throws {
        let valid = dir.file("valid.h5")
        try ModelFile.write(try validModel(), to: valid)
        let original = try Data(contentsOf: URL(fileURLWithPath: valid))
        var rng = SeededGenerator(seed: 99)
        for trial in 0..<200 {
            var data = original
            for _ in 0..<(1 + rng.nextInt(below: 3)) {
                data[rng.nextInt(below: data.count)] = UInt8(truncatingIfNeeded: rng.next())
            }
            let path = dir.file("c\(trial % 4).h5")
            try data.write(to: URL(fileURLWithPath: path))
            let result = try ScionBinary.run(["inspect", path])
            #expect(result.exitedNormally, "trial \(trial) crashed")
            #expect(
                result.status == 0 || result.stderr.hasPrefix("Error: \(path): the file is damaged and was not read"),
                "trial \(trial): \(result.stderr)")
        }
    }
}
