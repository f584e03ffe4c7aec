import Foundation
import ScionFormat
import ScionGraph
import ScionRuntime
import ScionZoo
import Testing

import ScionONNX

/// Scion → ONNX → Scion gives back the same model: content hash, metadata and cut points.
@Suite struct ONNXRoundTripTests {
    static func model(_ arch: String, decoder: Bool = false, classes: Int = 10) throws -> Model {
        let a = try Architecture(parsing: arch)
        let input = arch == "cnn-small" ? [1, 28, 28] : [3, 32, 32]
        let net =
            decoder
            ? try Zoo.trapModel(a, classes: classes, input: input, stem: a.defaultStem)
            : try Zoo.classifier(a, classes: classes, input: input)
        return try Model(
            graph: net.graph, parameters: net.initialParameters(seed: 5),
            metadata: ModelMetadata(
                modelName: arch, labels: (0..<classes).map { "c\($0)" },
                input: InputSpec(
                    channels: input[0], height: input[1], width: input[2], mean: Array(repeating: 0.5, count: input[0]),
                    std: Array(repeating: 0.25, count: input[0])))
        ).recording(LineageStep(operation: LineageStep.initialize))
    }

    @Test(arguments: [
        ("cnn-small", false), ("wrn16-1", false), ("wrn16-1", true), ("resnet18", false), ("resnet18", true)
    ])
    func roundTripKeepsTheContentHash(arch: String, decoder: Bool) throws {
        let original = try Self.model(arch, decoder: decoder)
        let bytes = try ONNXExport.serialize(original)
        let back = try ONNXImport.model(from: bytes, source: "m.onnx")
        #expect(try ContentHash.of(back) == (try ContentHash.of(original)))
        #expect(back.metadata.labels == original.metadata.labels)
        #expect(back.metadata.input == original.metadata.input)
        #expect(back.graph.cutPoints == original.graph.cutPoints)
        let step = try #require(back.provenance.lineage.last)
        #expect(step.operation == LineageStep.importWeights && back.provenance.lineage.count == 1)
        #expect(step.parents == [Digest.sha256(Array(bytes))])
        #expect(!back.provenance.headReplaced)
    }

    @Test func exportedFileDeclaresOpsetAndIRVersion() throws {
        let onnx = try ONNXExport.proto(try Self.model("wrn16-1", decoder: true))
        #expect(onnx.irVersion == 8)
        #expect(onnx.opsetImport.map(\.version) == [17])
        #expect(onnx.graph.output.map(\.name) == ["logits", "reconstruction"])
        #expect(onnx.graph.input[0].type.tensorType.shape.dim[0].dimParam == "N")
        let keys = Set(onnx.metadataProps.map(\.key))
        #expect(keys.isSuperset(of: ["scion.labels", "scion.input", "scion.lineage", "scion.content_hash"]))
        #expect(Set(onnx.graph.node.map(\.opType)).isSuperset(of: ["Conv", "ConvTranspose", "Sigmoid"]))
    }

    /// An edited ONNX file is imported as what it computes now, not as the graph it carried.
    @Test func anEditedFileIsNotTakenForTheOriginal() throws {
        let original = try Self.model("cnn-small")
        var onnx = try ONNXExport.proto(original)
        let relu = try #require(onnx.graph.node.firstIndex { $0.opType == "Relu" })
        onnx.graph.node[relu].opType = "Sigmoid"
        let back = try ONNXImport.model(from: try onnx.serializedData(), source: "edited.onnx")
        #expect(back.graph.nodes.contains { $0.op == .sigmoid })
        #expect(try ContentHash.of(back) != (try ContentHash.of(original)))
    }

    @Test func cutPointsCanBeDeclaredAtImport() throws {
        var stripped = try ONNXExport.proto(try Self.model("wrn16-1"))
        stripped.metadataProps = []
        let value = try #require(stripped.graph.node.first { $0.opType == "Add" }?.output[0])
        let back = try ONNXImport.model(
            from: try stripped.serializedData(), source: "m.onnx",
            options: .init(cutPoints: [CutPoint(name: "stem", value: value)]))
        #expect(back.graph.cutPoint(named: "stem")?.value == value)
        #expect(throws: ONNXError.invalid("cut point 'x': the graph computes no value named 'nowhere'")) {
            try ONNXImport.model(
                from: try stripped.serializedData(), source: "m.onnx",
                options: .init(cutPoints: [CutPoint(name: "x", value: "nowhere")]))
        }
    }

    /// Older writers: initializers in typed fields (float_data, int64_data) instead of raw_data,
    /// and listed among the graph inputs too (IR < 4).
    @Test func typedFieldsAndInitializersAsInputsAreRead() throws {
        let original = try Self.model("wrn16-1")
        var onnx = try ONNXExport.proto(original)
        for i in onnx.graph.initializer.indices {
            let t = onnx.graph.initializer[i]
            if t.dataType == ONNXTensor.float {
                onnx.graph.initializer[i].floatData = try ONNXTensor.floats(t).floats
            } else {
                onnx.graph.initializer[i].int64Data = try ONNXTensor.integers(t).map(Int64.init)
            }
            onnx.graph.initializer[i].clearRawData()
            onnx.graph.input.append(.with { $0.name = t.name })
        }
        onnx.irVersion = 3
        let back = try ONNXImport.model(from: try onnx.serializedData(), source: "old.onnx")
        #expect(try ContentHash.of(back) == (try ContentHash.of(original)))
    }

    /// A dense layer written as MatMul by a [in, out] matrix plus an Add of the bias (what some
    /// exporters write instead of Gemm) imports as the same linear layer.
    @Test func matMulPlusAddIsALinearLayer() throws {
        let original = try Self.model("cnn-small")
        var onnx = try ONNXExport.proto(original)
        let gemm = try #require(onnx.graph.node.firstIndex { $0.opType == "Gemm" })
        let node = onnx.graph.node[gemm]
        let weight = try #require(onnx.graph.initializer.firstIndex { $0.name == node.input[1] })
        let w = try ONNXTensor.floats(onnx.graph.initializer[weight])
        let (rows, cols) = (w.shape[0], w.shape[1])
        let transposed = (0..<(rows * cols)).map { w.floats[($0 % rows) * cols + $0 / rows] }
        onnx.graph.initializer[weight] = ONNXTensor.floatProto(transposed, dims: [cols, rows], name: node.input[1])
        let product = node.output[0] + ".matmul"
        onnx.graph.node[gemm] = .with {
            $0.name = node.name + ".matmul"
            $0.opType = "MatMul"
            $0.input = [node.input[0], node.input[1]]
            $0.output = [product]
        }
        onnx.graph.node.insert(
            .with {
                $0.name = node.name
                $0.opType = "Add"
                $0.input = [product, node.input[2]]
                $0.output = node.output
            }, at: gemm + 1)
        onnx.metadataProps = []
        let back = try ONNXImport.model(from: try onnx.serializedData(), source: "matmul.onnx")
        let linear = try #require(back.graph.nodes.first { $0.op == .linear })
        #expect(linear.inputs.count == 3, "the Add became the bias")
        #expect(!back.graph.nodes.contains { $0.op == .add })
        let input = Tensor(shape: [2, 1, 28, 28], values: (0..<1568).map { Float($0 % 17) / 17 })
        let want = try ReferenceInterpreter(model: original).run([original.graph.inputs[0]: input])
        let got = try ReferenceInterpreter(model: back).run([back.graph.inputs[0]: input])
        let name = original.graph.outputs[0]
        let a = try #require(want[name]), b = try #require(got[name])
        #expect(zip(a.floats, b.floats).allSatisfy { abs($0 - $1) <= 1e-5 })
    }

    @Test func badFilesGetClearErrors() throws {
        #expect(throws: ONNXError.self) { try ONNXImport.model(from: Data("not a model".utf8), source: "junk.onnx") }
        var onnx = try ONNXExport.proto(try Self.model("cnn-small"))
        onnx.graph.node[1].opType = "Einsum"
        let name = onnx.graph.node[1].name
        #expect(throws: ONNXError.unsupported(node: name, op: "Einsum", direction: "import")) {
            try ONNXImport.model(from: try onnx.serializedData(), source: "m.onnx")
        }
        onnx.opsetImport = [.with { $0.version = 9 }]
        #expect(throws: ONNXError.invalid("opset 9 is not supported (Scion reads opsets 11 to 21)")) {
            try ONNXImport.model(from: try onnx.serializedData(), source: "m.onnx")
        }
    }
}
