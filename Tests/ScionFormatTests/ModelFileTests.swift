import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

@Suite struct ModelFileTests {
    let dir = TemporaryDirectory()

    @Test(arguments: [
        ("wrn16-1", [3, 32, 32]), ("wrn28-2", [3, 32, 32]), ("resnet18", [3, 32, 32]),
        ("resnet34", [3, 64, 64]), ("cnn-small", [1, 28, 28])
    ])
    func everyZooModelRoundTrips(arch: String, input: [Int]) throws {
        let model = try Fixtures.model(arch, input: input)
        let path = dir.file("\(arch).h5")
        try ModelFile.write(model, to: path)
        let loaded = try ModelFile.read(path)
        #expect(loaded.graph == model.graph)
        #expect(loaded.metadata == model.metadata)
        #expect(loaded.provenance == model.provenance)
        for (name, tensor) in model.parameters {
            let a = tensor.floats.map(\.bitPattern), b = loaded.parameters[name]?.floats.map(\.bitPattern)
            #expect(a == b, "parameter \(name) differs")
        }
        #expect(try ContentHash.of(loaded) == ContentHash.of(model))
    }

    @Test func writeIsAtomicAndLeavesNoTemporaryFiles() throws {
        let model = try Fixtures.tiny()
        let path = dir.file("m.h5")
        try ModelFile.write(model, to: path)
        try ModelFile.write(model, to: path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.h5"])
        #expect(throws: FileError.missingFolder(dir.file("no/such"))) {
            try ModelFile.write(model, to: dir.file("no/such/m.h5"))
        }
    }

    @Test func missingEmptyAndNonHDF5FilesAreNamed() throws {
        let missing = dir.file("missing.h5")
        #expect(throws: ModelFileError.missingFile(path: missing)) { try ModelFile.read(missing) }
        let empty = dir.file("empty.h5")
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(throws: ModelFileError.emptyFile(path: empty)) { try ModelFile.read(empty) }
        let text = dir.file("text.h5")
        _ = FileManager.default.createFile(atPath: text, contents: Data("hello, not a model\n".utf8))
        #expect(throws: ModelFileError.notHDF5(path: text)) { try ModelFile.read(text) }
    }

    @Test func truncatedFileIsAnError() throws {
        let path = dir.file("t.h5")
        try ModelFile.write(try Fixtures.model("wrn16-1"), to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        #expect {
            try ModelFile.read(path)
        } throws: { error in
            guard case ModelFileError.damaged(_, let problem) = error else { return false }
            return problem.contains("truncated")
        }
    }

    /// Flips a few bytes of fc.weight's data in the file at `path`.
    func flipParameterBytes(_ model: Model, at path: String) throws {
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        let needle = model.parameters["fc.weight"]!.withRawBytes { Data($0) }
        let range = try #require(data.range(of: needle))
        for i in stride(from: range.lowerBound + 8, to: range.lowerBound + 64, by: 8) { data[i] ^= 0xFF }
        try data.write(to: URL(fileURLWithPath: path))
    }

    @Test func flippedParameterBytesBreakTheSeal() throws {
        let model = try Fixtures.model("wrn16-1")
        let path = dir.file("f.h5")
        try ModelFile.write(model, to: path)
        try flipParameterBytes(model, at: path)
        #expect(throws: ModelFileError.damaged(path: path, problem: "the checksum does not match (bytes were changed)"))
        {
            try ModelFile.read(path)
        }
    }

    /// A tool that edits parameter data and re-seals the file, without updating the content
    /// hash, is caught by the content hash.
    @Test func alteredAndResealedParametersFailTheContentHash() throws {
        let model = try Fixtures.model("wrn16-1")
        let path = dir.file("f.h5")
        try ModelFile.write(model, to: path)
        try flipParameterBytes(model, at: path)
        try FileSeal.seal(path)
        #expect {
            try ModelFile.read(path)
        } throws: { error in
            guard case ModelFileError.hashMismatch = error else { return false }
            return "\(error)".contains("content hash mismatch")
        }
    }

    @Test func wrongDTypeIsNamed() throws {
        var file = try HandWrittenFile(try Fixtures.tiny())
        file.float64Parameter = "fc.weight"
        let path = dir.file("dtype.h5")
        try file.write(to: path)
        #expect(throws: ModelFileError.wrongDType(path: path, name: "fc.weight", expected: "float32", found: "float64"))
        {
            try ModelFile.read(path)
        }
    }

    @Test func missingParameterIsNamed() throws {
        var file = try HandWrittenFile(try Fixtures.tiny())
        file.skipParameter = "bn.running_var"
        let path = dir.file("missing-param.h5")
        try file.write(to: path)
        #expect(throws: ModelFileError.missingParameter(path: path, name: "bn.running_var")) {
            try ModelFile.read(path)
        }
    }

    /// A metadata attribute of the wrong type (as an h5py edit makes it) is named with what was
    /// expected, not reported as missing and not with HDF5's own words.
    @Test func wronglyTypedAttributeIsNamed() throws {
        var file = try HandWrittenFile(try Fixtures.tiny())
        file.metadataOverrides = ["model_name": .ints([5])]
        let path = dir.file("typed.h5")
        try file.write(to: path)
        #expect(
            throws: ModelFileError.malformed(
                path: path, object: "/metadata", problem: "attribute 'model_name' must be a string, found integers")
        ) { try ModelFile.read(path) }
    }

    @Test func unknownOpIsNamed() throws {
        var file = try HandWrittenFile(try Fixtures.tiny())
        file.graphJSON = file.graphJSON.replacingOccurrences(of: "\"op\":\"relu\"", with: "\"op\":\"gelu\"")
        let path = dir.file("op.h5")
        try file.write(to: path)
        #expect {
            try ModelFile.read(path)
        } throws: { error in
            guard case ModelFileError.invalidGraph(_, .unknownOp(_, "gelu")) = error else { return false }
            return true
        }
        // A newer minor version naming an unknown op says to upgrade.
        file.formatVersion = [1, 7]
        try file.write(to: path)
        #expect(throws: ModelFileError.newerMinorWithUnknownOp(path: path, version: "1.7", op: "gelu")) {
            try ModelFile.read(path)
        }
    }

    @Test func newerMinorWithKnownOpsIsAccepted() throws {
        var file = try HandWrittenFile(try Fixtures.tiny())
        file.formatVersion = [1, 3]
        let path = dir.file("minor.h5")
        try file.write(to: path)
        #expect(try ModelFile.read(path).graph == file.model.graph)
    }

    @Test func unknownMajorVersionIsRefused() throws {
        var file = try HandWrittenFile(try Fixtures.tiny())
        file.formatVersion = [2, 0]
        let path = dir.file("v2.h5")
        try file.write(to: path)
        #expect(throws: ModelFileError.unsupportedVersion(path: path, found: "2.0", supported: "1.0 to 1.1")) {
            try ModelFile.read(path)
        }
    }

    @Test func otherHDF5FilesAreNotModels() throws {
        let path = dir.file("other.h5")
        let file = try HDF5File.create(path, userBlock: false)
        try file.root.setAttribute(.string("keras"), named: "format")
        try file.close()
        #expect(throws: ModelFileError.notAScionModel(path: path, found: "string(\"keras\")")) {
            try ModelFile.read(path)
        }
    }
}
