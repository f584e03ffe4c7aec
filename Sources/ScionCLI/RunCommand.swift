import ArgumentParser
import Foundation
import ScionFormat
import ScionGraph
import ScionRuntime

/// `scion run`: one forward pass over a `.npy` batch.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a model's compiled forward pass on a float32 NCHW .npy batch.")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Option(help: "Input batch: float32 .npy of shape [N, C, H, W] (or [C, H, W] for one image).")
    var input: String

    @Option(help: "Output .npy; a model with several outputs writes one file per output, named PATH-stem.OUTPUT.npy.")
    var output: String

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    func run() throws {
        let m = try ModelFile.read(model)
        var x = try NPY.read(input)
        guard m.graph.inputs.count == 1, let inputName = m.graph.inputs.first else {
            throw UsageError("this model takes \(m.graph.inputs.count) inputs; scion run feeds exactly one")
        }
        if x.shape.count == 3 { x = x.reshaped([1] + x.shape) }
        if x.dtype != .float32 { x = Tensor(shape: x.shape, values: x.floats) }
        let batch = x.shape.first ?? 1
        let executor = try Executor(model: m, options: .init(maxBatch: batch, threads: threads))
        let outputs = try executor.run([inputName: x])
        for (name, path) in Self.outputPaths(m.graph.outputs, base: output) {
            guard let tensor = outputs[name] else { continue }
            try NPY.write(tensor, to: path)
            note("wrote \(path): \(name) \(tensor.shape)")
        }
    }

    /// One path per output: `base` itself for a single output.
    static func outputPaths(_ names: [String], base: String) -> [(String, String)] {
        guard names.count > 1 else { return names.map { ($0, base) } }
        let stem = base.hasSuffix(".npy") ? String(base.dropLast(4)) : base
        return names.map { ($0, "\(stem).\($0).npy") }
    }
}
