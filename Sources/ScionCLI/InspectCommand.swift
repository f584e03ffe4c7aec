import ArgumentParser
import ScionFormat
import ScionGraph

/// `scion inspect`: what a model file holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Show a model's graph, parameters, cost, cut points, metadata and lineage.")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Flag(help: "Print a JSON object instead of text.")
    var json = false

    func run() throws {
        let m = try ModelFile.read(model)
        let report = try ModelReport(m)
        if json { try printJSON(report) } else { print(report.text) }
    }
}

/// The facts `inspect` shows, in the shape of its JSON output.
struct ModelReport: Encodable {
    struct Cut: Encodable {
        let name: String
        let value: String
        let shape: String
        let summary: String
    }
    struct Metadata: Encodable {
        let model_name: String
        let labels: [String]
        let input_shape: [Int]
        let mean: [Float]
        let std: [Float]
        let producer: String
        let producer_version: String
        let created: String
    }

    let name: String
    let content_hash: String
    let nodes: Int
    let values: Int
    let parameters: Int
    let parameter_tensors: Int
    let buffers: Int
    let macs: Int
    let inputs: [String: String]
    let outputs: [String: String]
    let ops: [String: Int]
    let cut_points: [Cut]
    let metadata: Metadata
    let head_replaced: Bool
    /// What `Provenance.check` found: consistent, unchecked (older file) or broken, with why.
    let lineage_check: String
    let provenance: [LineageStep]

    init(_ m: Model) throws {
        let g = m.graph
        name = g.name
        content_hash = try ContentHash.of(m)
        nodes = g.nodes.count
        values = g.values.count
        parameters = g.parameterCount
        parameter_tensors = g.parameters.count
        buffers = g.parameters.filter { $0.role == .runningMean || $0.role == .runningVar }.reduce(0) {
            $0 + $1.elementCount
        }
        macs = g.forwardMACs()
        inputs = Dictionary(uniqueKeysWithValues: g.inputs.map { ($0, g.values[$0]?.description ?? "?") })
        outputs = Dictionary(uniqueKeysWithValues: g.outputs.map { ($0, g.values[$0]?.description ?? "?") })
        ops = Dictionary(g.nodes.map { ($0.op.rawValue, 1) }, uniquingKeysWith: +)
        cut_points = g.cutPoints.map {
            Cut(name: $0.name, value: $0.value, shape: g.values[$0.value]?.description ?? "?", summary: $0.summary)
        }
        let md = m.metadata
        metadata = Metadata(
            model_name: md.modelName, labels: md.labels, input_shape: md.input.shape, mean: md.input.mean,
            std: md.input.std,
            producer: md.producer, producer_version: md.producerVersion, created: md.createdAt)
        head_replaced = m.provenance.headReplaced
        lineage_check = m.provenance.check(contentHash: content_hash).description
        provenance = m.provenance.lineage
    }

    var text: String {
        var lines = [
            "model        \(name) (\(metadata.model_name))",
            "content hash \(content_hash)",
            "graph        \(nodes) nodes, \(values) values; ops: "
                + ops.keys.sorted().map { "\($0)×\(ops[$0]!)" }.joined(separator: " "),
            "parameters   \(parameters.formatted) in \(parameter_tensors) tensors (+\(buffers.formatted) BatchNorm statistics)",
            "cost         \(macs.formatted) MACs per image",
            "inputs       " + inputs.keys.sorted().map { "\($0): \(inputs[$0]!)" }.joined(separator: ", "),
            "outputs      " + outputs.keys.sorted().map { "\($0): \(outputs[$0]!)" }.joined(separator: ", "),
            "input image  \(metadata.input_shape.map(String.init).joined(separator: "x")), mean \(metadata.mean), std \(metadata.std)",
            "labels       " + metadata.labels.prefix(12).joined(separator: ", ")
                + (metadata.labels.count > 12 ? ", ..." : ""),
            "produced by  \(metadata.producer) \(metadata.producer_version) at \(metadata.created)",
            "sanitized    " + (head_replaced ? "yes (a head was grafted)" : "no (no head replacement in the lineage)"),
            "lineage      \(lineage_check)"
        ]
        if !cut_points.isEmpty {
            lines.append("cut points")
            lines += cut_points.map {
                "  \($0.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \($0.value) \($0.shape)  \($0.summary)"
            }
        }
        lines.append("lineage")
        lines += provenance.map { step in
            let details = step.details.keys.sorted().map { "\($0)=\(step.details[$0]!)" }.joined(separator: " ")
            return "  \(step.time) \(step.operation) \(details)"
        }
        return lines.joined(separator: "\n")
    }
}

extension Int {
    /// `175626` as `175,626`.
    var formatted: String {
        let digits = String(abs(self))
        var out = ""
        for (i, ch) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (self < 0 ? "-" : "") + String(out.reversed())
    }
}
