import ArgumentParser
import ScionDefense
import ScionFormat

/// `scion cut`: split a model into stem and head at a cut point.
struct CutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cut", abstract: "Cut a model into stem and head at a cut point.")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Option(help: "Cut point (e.g. stem5; see scion inspect) or a value name.")
    var at: String

    @Option(name: .shortAndLong, help: "Where to write the stem (.h5).")
    var output: String

    @Option(help: "Where to write the head (.h5).")
    var head: String?

    @Option(help: "Comma-separated outputs the head keeps (default: every output after the cut).")
    var outputs: String?

    func run() throws {
        let m = try ModelFile.read(model)
        let parts = try ModelSurgery.cut(
            m, at: at, headOutputs: outputs.map { $0.split(separator: ",").map(String.init) })
        try ModelFile.write(parts.stem, to: output)
        note(
            "wrote \(output): stem, \(parts.stem.graph.parameterCount) parameters, output \(parts.stem.graph.outputs[0])"
        )
        if let head {
            try ModelFile.write(parts.head, to: head)
            note(
                "wrote \(head): head, \(parts.head.graph.parameterCount) parameters, outputs \(parts.head.graph.outputs.joined(separator: ", "))"
            )
        }
    }
}

/// `scion graft`: join a stem and a head.
struct GraftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graft", abstract: "Graft a head onto a stem; the seam's shape and dtype must match.")

    @Argument(help: "Stem model (.h5), one output.")
    var stem: String

    @Argument(help: "Head model (.h5), one input.")
    var head: String

    @Option(name: .shortAndLong, help: "Output model (.h5).")
    var output: String

    func run() throws {
        let joined = try ModelSurgery.graft(stem: try ModelFile.read(stem), head: try ModelFile.read(head))
        try ModelFile.write(joined, to: output)
        note("wrote \(output): \(joined.graph.parameterCount) parameters")
    }
}
