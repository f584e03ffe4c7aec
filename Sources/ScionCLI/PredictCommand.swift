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
        let image: String
        let top: [RankedClass]
    }

    func run() throws {
        guard !images.isEmpty else { throw UsageError("give at least one image") }
        guard top >= 1 else { throw UsageError("--top must be at least 1") }
        let m = try ModelFile.read(model)
        guard m.graph.inputs.count == 1, let output = m.graph.outputs.first,
            let outType = m.graph.values[output], outType.rank == 2
        else {
            throw UsageError("predict needs a classifier: one image input and logits [N, classes] as the first output")
        }
        let spec = m.metadata.input
        var batch: [Float] = []
        for path in images { batch += Preprocessing.input(from: try ImageCodec.decode(contentsOf: path), spec: spec) }
        let executor = try Executor(model: m, options: .init(maxBatch: images.count, threads: threads))
        let logits = try executor.run([m.graph.inputs[0]: Tensor(shape: [images.count] + spec.shape, values: batch)])[
            output]!
        let classes = logits.shape[1]
        let predictions = images.enumerated().map { i, path in
            Prediction(
                image: path,
                top: RankedClass.top(top, of: logits.floats[i * classes..<(i + 1) * classes], labels: m.metadata.labels)
            )
        }
        if json { return try printJSON(predictions) }
        for p in predictions {
            print(
                p.image + ": "
                    + p.top.map { String(format: "%@ %.3f", $0.label, $0.probability) }.joined(separator: ", "))
        }
    }
}
