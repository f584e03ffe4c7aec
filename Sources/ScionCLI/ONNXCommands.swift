import ArgumentParser
import Foundation
import ScionFormat
import ScionGraph
import ScionONNX

/// `scion export`: a model as ONNX, for ONNX Runtime and the tools that read it.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model as ONNX (opset 17, IR version 8), labels and lineage in its metadata.",
        discussion: """
            Every value keeps its Scion name; the batch dimension is the symbol N. Labels,
            preprocessing, cut points, the lineage and the content hash go into metadata_props
            (scion.* keys), so `scion import` gives back the same model (same content hash).
            """)

    @Argument(help: "Model file (.h5).")
    var model: String

    @Option(name: .shortAndLong, help: "Output file (.onnx).")
    var output: String

    func run() throws {
        let m = try ModelFile.read(model)
        let bytes = try ONNXExport.serialize(m)
        try AtomicFile.write(bytes, to: output)
        note(
            "wrote \(output): \(m.graph.nodes.count) nodes, \(m.graph.parameterCount) parameters, opset \(ONNXExport.opsetVersion)"
        )
    }
}

/// `scion import`: an ONNX model (what torch.onnx.export writes for CNNs) as a Scion model.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read an ONNX model (opsets 11 to 21) into a Scion model file.",
        discussion: """
            Imports CNNs as torch.onnx.export writes them with either exporter: Conv, ConvTranspose,
            BatchNormalization, InstanceNormalization, Relu, LeakyRelu, Sigmoid, Tanh, Add, Mul,
            Concat, MaxPool, AveragePool, GlobalAveragePool, ReduceMean over H and W, Flatten, Gemm,
            MatMul + Add, Pad, Softmax, Dropout, Reshape, and shape arithmetic (Shape, Gather,
            Unsqueeze, Concat, Slice, Cast, Constant, Identity) folded at import. Another op is an
            error naming the node. The model's lineage starts with an `import` step holding the
            file's SHA-256; it is not sanitized. Declare where its stem ends with --cut-point to
            cut and graft it (value names: scion inspect).
            """)

    @Argument(help: "ONNX file.")
    var source: String

    @Option(name: .shortAndLong, help: "Output model file (.h5).")
    var output: String

    @Option(help: "Model name (default: the file's, or the ONNX graph's name).")
    var name: String?

    @Option(help: "Comma-separated class names, one per output (default: the file's, or 0, 1, ...).")
    var labels: String?

    @Option(help: "Comma-separated per-channel means of the input normalisation, pixels scaled to [0, 1].")
    var mean: String?

    @Option(help: "Comma-separated per-channel standard deviations of the input normalisation.")
    var std: String?

    @Option(help: "A cut point NAME=VALUE: the stem ends at value VALUE. Repeat for several.")
    var cutPoint: [String] = []

    func run() throws {
        guard let bytes = FileManager.default.contents(atPath: source) else {
            throw UsageError("cannot read \(source)")
        }
        let options = ONNXImport.Options(
            modelName: name, labels: labels.map { $0.split(separator: ",").map(String.init) },
            mean: try floats(mean, "mean"), std: try floats(std, "std"), cutPoints: try cutPoint.map(parseCut))
        let folder = URL(fileURLWithPath: source).deletingLastPathComponent().path
        let m = try ONNXImport.model(from: bytes, source: source, folder: folder, options: options)
        try ModelFile.write(m, to: output)
        note(
            "wrote \(output): \(m.graph.nodes.count) nodes, \(m.graph.parameterCount) parameters, outputs \(m.graph.outputs.joined(separator: ", "))"
        )
    }

    func floats(_ list: String?, _ what: String) throws -> [Float]? {
        try list.map { text in
            try text.split(separator: ",").map {
                guard let v = Float($0.trimmingCharacters(in: .whitespaces)) else {
                    throw UsageError("--\(what): '\($0)' is not a number")
                }
                return v
            }
        }
    }

    func parseCut(_ text: String) throws -> CutPoint {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw UsageError("--cut-point expects NAME=VALUE, got '\(text)'")
        }
        return CutPoint(name: parts[0], value: parts[1])
    }
}
