import ArgumentParser
import ScionFormat
import ScionGraph
import ScionZoo

/// `scion init`: a freshly initialised zoo network as a model file.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a model file holding a freshly initialised zoo network.")

    @Option(help: "Architecture: wrn16-1 (any wrn{depth}-{k}), resnet18, resnet34, cnn-small.")
    var arch: String

    @Option(help: "Number of classes.")
    var classes: Int

    @Option(help: "Input shape CxHxW, e.g. 3x32x32.")
    var input: ShapeArgument

    @Option(help: "Seed for the initial weights.")
    var seed: UInt64 = 0

    @Option(help: "Comma-separated class names (default: 0, 1, ...).")
    var labels: String?

    @Flag(help: "Add Trap-and-Replace's stage-1 reconstruction decoder at --stem (output `reconstruction`).")
    var decoder = false

    @Option(help: "Stem (cut point) for --decoder; default: the architecture's reference value (5 for WRN-16).")
    var stem: Int?

    @Option(name: .shortAndLong, help: "Output model file (.h5).")
    var output: String

    func run() throws {
        guard classes >= 1 else { throw UsageError("--classes must be at least 1") }
        let names = labels.map { $0.split(separator: ",").map(String.init) } ?? (0..<classes).map(String.init)
        guard names.count == classes else {
            throw UsageError("--labels lists \(names.count) names but --classes is \(classes)")
        }
        let architecture = try Architecture(parsing: arch)
        let net =
            decoder
            ? try Zoo.trapModel(
                architecture, classes: classes, input: input.dims, stem: stem ?? architecture.defaultStem)
            : try Zoo.classifier(architecture, classes: classes, input: input.dims)
        let step = LineageStep(
            operation: LineageStep.initialize,
            details: [
                "arch": .string(architecture.description), "seed": .number(Double(seed)),
                "classes": .number(Double(classes))
            ].merging(decoder ? ["decoder_stem": .number(Double(stem ?? architecture.defaultStem))] : [:]) { a, _ in a }
        )
        let model = try Model(
            graph: net.graph, parameters: net.initialParameters(seed: seed),
            metadata: ModelMetadata(
                modelName: architecture.description, labels: names,
                input: InputSpec(channels: input.dims[0], height: input.dims[1], width: input.dims[2]))
        ).recording(step)
        try ModelFile.write(model, to: output)
        note("wrote \(output): \(architecture), \(net.graph.parameterCount) parameters, seed \(seed)")
    }
}
