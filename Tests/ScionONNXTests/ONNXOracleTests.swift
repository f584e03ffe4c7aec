import Foundation
import ScionFormat
import ScionGraph
import ScionRuntime
import ScionTestSupport
import Testing

import ScionONNX

/// Scion's outputs against ONNX Runtime's, the oracle for both directions.
enum ONNXOracle {
    static let fixtures = SharedData.packageRoot + "/Tests/ScionONNXTests/Fixtures"

    /// onnx and onnxruntime importable by python3 (.ci/run installs them).
    static let available: Bool = {
        (try? ScionBinary.runTool(["python3", "-c", "import onnx, onnxruntime, numpy"]))?.status == 0
    }()

    /// The model's outputs on `input` through Scion's compiled executor.
    static func scionOutputs(_ model: Model, _ input: Tensor) throws -> [String: Tensor] {
        let executor = try Executor(model: model, options: .init(maxBatch: input.shape[0], threads: 2))
        return try executor.run([model.graph.inputs[0]: input])
    }

    static func largestDifference(_ a: Tensor, _ b: Tensor) -> Float {
        guard a.shape == b.shape else { return .infinity }
        return zip(a.floats, b.floats).map { abs($0 - $1) }.max() ?? 0
    }

    static func cases() throws -> [String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixtures + "/cases.json"))
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return (json?["cases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
    }
}

/// torch.onnx.export's files (tools/make_onnx_fixtures.py; ONNX Runtime's outputs stored beside
/// them) imported and run by Scion: needs no Python.
@Suite struct ONNXImportFixtureTests {
    @Test(arguments: try ONNXOracle.cases())
    func importedModelMatchesONNXRuntime(name: String) throws {
        let base = ONNXOracle.fixtures + "/" + name
        let bytes = try Data(contentsOf: URL(fileURLWithPath: base + ".onnx"))
        let model = try ONNXImport.model(from: bytes, source: name + ".onnx", folder: ONNXOracle.fixtures)
        let input = try NPY.read(base + ".input.npy"), expected = try NPY.read(base + ".output.npy")
        let got = try #require(try ONNXOracle.scionOutputs(model, input)[model.graph.outputs[0]])
        #expect(ONNXOracle.largestDifference(got, expected) <= 1e-4, "\(name)")
        #expect(model.provenance.lineage.map(\.operation) == ["import"])
    }

    /// The imported model survives a Scion file and an ONNX round trip unchanged.
    @Test func importedModelRoundTrips() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: ONNXOracle.fixtures + "/resnet-dynamo-opset18.onnx"))
        let model = try ONNXImport.model(from: bytes, source: "resnet.onnx", folder: ONNXOracle.fixtures)
        let again = try ONNXImport.model(from: try ONNXExport.serialize(model), source: "again.onnx")
        #expect(try ContentHash.of(again) == (try ContentHash.of(model)))
    }
}

/// Scion's exports checked by onnx.checker (full_check) and run by ONNX Runtime.
@Suite(.enabled(if: ONNXOracle.available, "onnx or onnxruntime is not installed (pip install onnx onnxruntime)"))
struct ONNXExportOracleTests {
    @Test(arguments: [
        ("cnn-small", false), ("wrn16-1", false), ("wrn16-1", true), ("resnet18", false), ("resnet18", true)
    ])
    func exportedModelMatchesONNXRuntime(arch: String, decoder: Bool) throws {
        let dir = TemporaryDirectory()
        let model = try ONNXRoundTripTests.model(arch, decoder: decoder)
        let path = dir.file("m.onnx")
        try ONNXExport.serialize(model).write(to: URL(fileURLWithPath: path))
        let sample = model.metadata.input.shape
        var rng = SeededGenerator(seed: 9)
        let input = Tensor(
            shape: [3] + sample,
            values: (0..<(3 * sample.reduce(1, *))).map { _ in Float.random(in: -1...1, using: &rng) })
        try NPY.write(input, to: dir.file("input.npy"))
        let result = try ScionBinary.runTool([
            "python3", SharedData.packageRoot + "/tools/onnx_check.py", path, dir.file("input.npy"), dir.file("ort")
        ])
        try #require(result.status == 0, "\(result.stderr)")
        let scion = try ONNXOracle.scionOutputs(model, input)
        for name in model.graph.outputs {
            let ort = try NPY.read(dir.file("ort.\(name).npy"))
            let ours = try #require(scion[name])
            #expect(ONNXOracle.largestDifference(ours, ort) <= 1e-4, "\(arch) \(name)")
        }
    }
}
