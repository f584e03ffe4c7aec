import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

/// `scion export` and `scion import` from the command line: the round trip keeps the content
/// hash, an imported model can be cut at a declared cut point, and bad input is a clear error.
@Suite struct ONNXCommandTests {
    let dir = TemporaryDirectory()

    @Test func exportImportRoundTripThenCut() throws {
        let model = dir.file("wrn.h5"), onnx = dir.file("wrn.onnx"), back = dir.file("back.h5")
        _ = try ScionBinary.run(["init", "--arch", "wrn16-1", "--classes", "10", "--input", "3x32x32", "-o", model])
        let exported = try ScionBinary.run(["export", model, "-o", onnx])
        #expect(exported.status == 0, "\(exported.stderr)")
        let imported = try ScionBinary.run(["import", onnx, "-o", back])
        #expect(imported.status == 0, "\(imported.stderr)")
        let original = try ModelFile.read(model), copy = try ModelFile.read(back)
        #expect(try ContentHash.of(copy) == (try ContentHash.of(original)))
        #expect(copy.provenance.lineage.map(\.operation) == ["import"])
        // A declared cut point is part of the graph (so of the hash): the model can be cut there.
        let withCut = dir.file("cut.h5")
        _ = try ScionBinary.run(["import", onnx, "-o", withCut, "--cut-point", "mine=block2.0.out"])
        let cut = try ScionBinary.run(["cut", withCut, "--at", "mine", "-o", dir.file("stem.h5")])
        #expect(cut.status == 0, "\(cut.stderr)")
    }

    @Test func importErrorsNameTheProblem() throws {
        try Data("definitely not protobuf".utf8).write(to: URL(fileURLWithPath: dir.file("junk.onnx")))
        let junk = try ScionBinary.run(["import", dir.file("junk.onnx"), "-o", dir.file("x.h5")])
        #expect(junk.status != 0 && junk.exitedNormally)
        #expect(junk.stderr.contains("is not an ONNX model"))
        let missing = try ScionBinary.run(["import", dir.file("nowhere.onnx"), "-o", dir.file("x.h5")])
        #expect(missing.stderr.contains("cannot read"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.h5")))
    }
}
