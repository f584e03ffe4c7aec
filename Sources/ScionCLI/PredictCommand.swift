import ArgumentParser
import Foundation
import ScionFormat
import ScionGraph
import ScionImage
import ScionRuntime

/// `scion predict`: classify image files.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify PNG, JPEG or PPM images: top-k labels with probabilities.",
        discussion: "Images are resized and normalised as the model's metadata says (input shape, mean, std).")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Argument(help: "Image files.")
    var images: [String]

    @Option(help: "How many labels to show per image.")
    var top: Int = 3

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(help: "Print JSON.")
    var json = false

    struct Prediction: Encodable {
        struct Label: Encodable {
            let label: String
            let index: Int
            let probability: Float
        }
        let image: String
        let top: [Label]
    }

    func run() throws {
        guard !images.isEmpty else { throw UsageError("give at least one image") }
        guard top >= 1 else { throw UsageError("--top must be at least 1") }
        let m = try ModelFile.read(model)
        guard m.graph.inputs.count == 1, let output = m.graph.outputs.first,
            let outType = m.graph.values[output], outType.rank == 2
        else { throw UsageError("predict needs a classifier: one image input and logits [N, classes] as the first output") }
        let spec = m.metadata.input
        var batch: [Float] = []
        for path in images { batch += Preprocessing.input(from: try ImageCodec.decode(contentsOf: path), spec: spec) }
        let executor = try Executor(model: m, options: .init(maxBatch: images.count, threads: threads))
        let logits = try executor.run([m.graph.inputs[0]: Tensor(shape: [images.count] + spec.shape, values: batch)])[output]!
        let classes = logits.shape[1]
        let predictions = images.enumerated().map { i, path in
            let probabilities = Self.softmax(Array(logits.floats[i * classes..<(i + 1) * classes]))
            let best = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
            return Prediction(image: path, top: best.map {
                .init(label: $0 < m.metadata.labels.count ? m.metadata.labels[$0] : String($0), index: $0, probability: probabilities[$0])
            })
        }
        if json { return try printJSON(predictions) }
        for p in predictions {
            print(p.image + ": " + p.top.map { String(format: "%@ %.3f", $0.label, $0.probability) }.joined(separator: ", "))
        }
    }

    static func softmax(_ x: [Float]) -> [Float] {
        let m = x.max() ?? 0
        let e = x.map { expf($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
