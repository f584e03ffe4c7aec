import Foundation
import ScionFormat
import ScionGraph
import SwiftProtobuf

/// Reads an ONNX model (opset 11 to 21, any IR version from 3) into a Scion model: what
/// `torch.onnx.export` writes for ResNet- and WRN-style CNNs with either of its exporters, and
/// what `ONNXExport` writes. Shape computations (`Shape → Gather → Concat → Reshape`) are folded
/// at import; an op Scion cannot run is an error naming the node and the op.
///
/// The model gets a fresh lineage: one `import` step whose parent is the source file's SHA-256.
/// It is not sanitized, whatever the source's own lineage claimed (kept in the step's details).
public enum ONNXImport {
    public static let opsets: ClosedRange<Int64> = 11...21

    /// What ONNX files do not say, or what the user wants to set.
    public struct Options: Sendable {
        public var modelName: String?
        public var labels: [String]?
        /// Per-channel normalisation of the input (`x = (pixel / 255 - mean) / std`).
        public var mean: [Float]?
        public var std: [Float]?
        /// Cut points to declare, by the name of the value where the stem ends.
        public var cutPoints: [CutPoint]

        public init(
            modelName: String? = nil, labels: [String]? = nil, mean: [Float]? = nil, std: [Float]? = nil,
            cutPoints: [CutPoint] = []
        ) {
            self.modelName = modelName
            self.labels = labels
            self.mean = mean
            self.std = std
            self.cutPoints = cutPoints
        }
    }

    /// The model in `bytes`, an ONNX file read from `source` (named in errors and the lineage).
    /// Tensors stored in external data files are read from `folder` (the source's folder).
    public static func model(from bytes: Data, source: String, folder: String? = nil, options: Options = Options())
        throws -> Model
    {
        var onnx: Onnx_ModelProto
        do {
            onnx = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw ONNXError.invalid("\(source) is not an ONNX model (\(error))")
        }
        let opset = try defaultOpset(onnx)
        try ONNXExternalData.resolve(&onnx.graph.initializer, folder: folder)
        var importer = try GraphImporter(onnx.graph, opset: opset)
        for node in onnx.graph.node { try importer.translate(node) }
        var (graph, parameters) = try importer.finish()
        let stored = ONNXMetadata.read(onnx.metadataProps)
        if let original = stored.graph, ONNXRoundTrip.matches(original, derived: graph) { graph = original }
        graph.cutPoints += try cutPoints(options.cutPoints, in: graph)
        try graph.verify()
        let model = Model(
            graph: graph, parameters: parameters,
            metadata: try metadata(onnx, stored: stored, graph: graph, options: options))
        try model.validateParameters()
        var details: [String: JSONValue] = [
            "source": .string((source as NSString).lastPathComponent), "opset": .number(Double(opset)),
            "producer": .string("\(onnx.producerName) \(onnx.producerVersion)".trimmingCharacters(in: .whitespaces))
        ]
        if !stored.provenance.lineage.isEmpty {
            details["source_lineage"] = .array(stored.provenance.lineage.map { .string($0.operation) })
        }
        if let hash = stored.contentHash { details["source_content_hash"] = .string(hash) }
        return try model.recording(
            LineageStep(
                operation: LineageStep.importWeights, parents: [Digest.sha256(Array(bytes))], details: details))
    }

    /// The version of the default ("" or "ai.onnx") domain, checked against `opsets`.
    static func defaultOpset(_ onnx: Onnx_ModelProto) throws -> Int64 {
        guard onnx.hasGraph else { throw ONNXError.invalid("the file has no graph") }
        guard let version = onnx.opsetImport.first(where: { $0.domain == "" || $0.domain == "ai.onnx" })?.version
        else { throw ONNXError.invalid("the file imports no version of the default ONNX opset") }
        guard opsets.contains(version) else {
            throw ONNXError.invalid(
                "opset \(version) is not supported (Scion reads opsets \(opsets.lowerBound) to \(opsets.upperBound))")
        }
        return version
    }

    static func cutPoints(_ requested: [CutPoint], in graph: Graph) throws -> [CutPoint] {
        try requested.map { cut in
            guard graph.values[cut.value] != nil, !graph.inputs.contains(cut.value),
                graph.parameter(named: cut.value) == nil
            else {
                throw ONNXError.invalid("cut point '\(cut.name)': the graph computes no value named '\(cut.value)'")
            }
            guard graph.cutPoint(named: cut.name) == nil else {
                throw ONNXError.invalid("cut point '\(cut.name)' is already declared")
            }
            return cut
        }
    }

    /// The stored metadata where the file has it, else what the options and the input say.
    static func metadata(_ onnx: Onnx_ModelProto, stored: ONNXMetadata.Stored, graph: Graph, options: Options)
        throws -> ModelMetadata
    {
        guard let input = graph.inputs.first.flatMap({ graph.values[$0] }) else {
            throw ONNXError.invalid("the graph has no input")
        }
        let sample = input.shape.dropFirst().compactMap(\.fixedValue)
        let classes = graph.outputs.first.flatMap { graph.values[$0]?.shape.last?.fixedValue } ?? 0
        var metadata =
            stored.metadata
            ?? ModelMetadata(
                modelName: onnx.graph.name.isEmpty ? "imported" : onnx.graph.name,
                labels: (0..<classes).map(String.init),
                input: InputSpec(
                    channels: sample.count == 3 ? sample[0] : 1, height: sample.count == 3 ? sample[1] : 1,
                    width: sample.count == 3 ? sample[2] : 1))
        if let name = options.modelName { metadata.modelName = name }
        if let labels = options.labels {
            guard labels.count == classes else {
                throw ONNXError.invalid("\(labels.count) labels given for a model with \(classes) outputs")
            }
            metadata.labels = labels
        }
        for (values, what) in [(options.mean, "mean"), (options.std, "std")] {
            guard let values else { continue }
            guard values.count == metadata.input.channels else {
                throw ONNXError.invalid("--\(what) needs \(metadata.input.channels) values, got \(values.count)")
            }
            if what == "mean" { metadata.input.mean = values } else { metadata.input.std = values }
        }
        return metadata
    }
}
