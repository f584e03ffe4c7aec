import ScionFormat
import ScionGraph
import ScionRuntime
import ScionTestSupport
import Testing

/// `pad`, the op added through the schema alone: verified, stored in files, run by its kernel.
@Suite struct PadOpTests {
    func model(pads: [Int]) throws -> Model {
        var b = GraphBuilder(name: "pad")
        let x = b.input("image", .batched([3, 6, 6]))
        let y = b.conv2d(
            b.relu(b.pad(b.conv2d(x, out: 4, kernel: 3, name: "c1"), pads, value: -0.5)), out: 2, kernel: 3, name: "c2")
        b.output(y, as: "y")
        let net = try b.finish()
        return Model(
            graph: net.graph, parameters: net.initialParameters(seed: 2),
            metadata: ModelMetadata(modelName: "pad", labels: [], input: InputSpec(channels: 3, height: 6, width: 6)))
    }

    @Test(arguments: [[1, 2, 0, 1], [-1, 1, 0, -1]])
    func executorMatchesReference(pads: [Int]) throws {
        let m = try model(pads: pads)
        let x = Fixture.input([3, 3, 6, 6])
        let executor = try Executor(model: m, options: .init(maxBatch: 3, threads: 2))
        #expect(executor.fallbackNodes.isEmpty, "\(executor.fallbackNodes)")
        let got = try executor.run(["image": x])["y"],
            expected = try ReferenceInterpreter(model: m).run(["image": x])["y"]
        #expect(maxDifference(got, expected) < 1e-5)
        #expect(got?.shape == [3, 2, 2 + pads[0] + pads[2], 2 + pads[1] + pads[3]])
    }

    @Test func verifierRefusesBadPads() throws {
        var m = try model(pads: [0, 0, 0, 0])
        let i = try #require(m.graph.nodes.firstIndex { $0.op == .pad })
        m.graph.nodes[i].attributes["pads"] = .ints([1, 1])
        #expect { try m.graph.verify() } throws: { "\($0)".contains("4 integers") }
        m.graph.nodes[i].attributes["pads"] = .ints([-2, 0, -2, 0])
        #expect { try m.graph.verify() } throws: { "\($0)".contains("leave nothing") }
    }

    @Test func roundTripsThroughAFile() throws {
        let m = try model(pads: [2, 0, 1, 3])
        let dir = TemporaryDirectory()
        try ModelFile.write(m, to: dir.file("pad.h5"))
        let read = try ModelFile.read(dir.file("pad.h5"))
        #expect(read.graph.nodes.first { $0.op == .pad }?.attributes["pads"] == .ints([2, 0, 1, 3]))
        #expect(try ContentHash.of(read) == ContentHash.of(m))
    }
}
