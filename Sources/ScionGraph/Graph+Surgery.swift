/// Cutting a graph at a value and grafting two graphs together, as ONNX's `extract_model` and
/// `merge_graphs` do: the operations of Trap-and-Replace's head replacement.
extension Graph {
    /// The part of the graph that computes `value` from the graph inputs: its only output is
    /// `value`. Parameters no kept node reads are dropped.
    public func stem(upTo value: String) throws -> Graph {
        guard values[value] != nil else { throw GraphError.surgery("'\(value)' is not a value of \(name)") }
        let needed = nodesNeeded(for: [value], stoppingAt: [])
        var g = subgraph(keeping: needed, name: "\(name)-stem")
        g.inputs = inputs.filter { input in g.nodes.contains { $0.inputs.contains(input) } || input == value }
        g.outputs = [value]
        g.cutPoints = cutPoints.filter { cut in g.values[cut.value] != nil && cut.value != value }
        return g
    }

    /// The part of the graph after `value`: `value` becomes its only input and `outputs` (default:
    /// every graph output that depends on `value`) its outputs.
    public func head(after value: String, outputs wanted: [String]? = nil) throws -> Graph {
        guard let type = values[value] else { throw GraphError.surgery("'\(value)' is not a value of \(name)") }
        let chosen = wanted ?? outputs
        for output in chosen where !outputs.contains(output) {
            throw GraphError.surgery("'\(output)' is not an output of \(name)")
        }
        let needed = nodesNeeded(for: chosen, stoppingAt: [value])
        // Every kept node must reach the graph inputs only through `value`.
        let produced = Set(needed.flatMap { nodes[$0].outputs })
        for i in needed {
            for input in nodes[i].inputs
            where !produced.contains(input) && input != value && parameter(named: input) == nil {
                throw GraphError.surgery(
                    "the head after '\(value)' also reads '\(input)' (node '\(nodes[i].name)'), so '\(value)' does not separate stem and head"
                )
            }
        }
        var g = subgraph(keeping: needed, name: "\(name)-head")
        g.inputs = [value]
        g.values[value] = type
        g.outputs = chosen.filter { output in needed.contains { nodes[$0].outputs.contains(output) } }
        guard !g.outputs.isEmpty else { throw GraphError.surgery("no output of \(name) depends on '\(value)'") }
        g.cutPoints = []
        return g
    }

    /// `stem` followed by `head`: the stem's single output feeds the head's single input. Their
    /// types must agree and no other name may be defined by both.
    public static func graft(stem: Graph, head: Graph, name: String? = nil) throws -> Graph {
        guard stem.outputs.count == 1, let seam = stem.outputs.first, let seamType = stem.values[seam] else {
            throw GraphError.surgery("the stem must have exactly one output (it has \(stem.outputs.count))")
        }
        guard head.inputs.count == 1, let headInput = head.inputs.first, let headType = head.values[headInput] else {
            throw GraphError.surgery("the head must have exactly one input (it has \(head.inputs.count))")
        }
        guard seamType == headType else {
            throw GraphError.surgery(
                "the seam does not fit: the stem produces \(seam): \(seamType), the head takes \(headInput): \(headType)"
            )
        }
        var h = head
        if headInput != seam {
            guard h.values[seam] == nil else { throw GraphError.surgery("the head already defines '\(seam)'") }
            h.values[seam] = h.values.removeValue(forKey: headInput)
            for i in h.nodes.indices { h.nodes[i].inputs = h.nodes[i].inputs.map { $0 == headInput ? seam : $0 } }
            h.outputs = h.outputs.map { $0 == headInput ? seam : $0 }
        }
        let stemNames = Set(stem.values.keys).union(stem.nodes.map(\.name)),
            headNames = Set(h.values.keys).union(h.nodes.map(\.name))
        let clash = stemNames.intersection(headNames).subtracting([seam])
        guard clash.isEmpty else {
            throw GraphError.surgery(
                "stem and head both define \(clash.sorted().prefix(5).map { "'\($0)'" }.joined(separator: ", "))")
        }
        var g = Graph(name: name ?? stem.name)
        g.inputs = stem.inputs
        g.outputs = h.outputs
        g.parameters = stem.parameters + h.parameters
        g.nodes = stem.nodes + h.nodes
        g.values = stem.values.merging(h.values) { a, _ in a }
        g.cutPoints = stem.cutPoints + [CutPoint(name: "graft", value: seam, summary: "where the head was grafted")]
        try g.verify()
        return g
    }

    /// Indices of the nodes needed to compute `targets`, not looking past `boundary` values.
    private func nodesNeeded(for targets: [String], stoppingAt boundary: Set<String>) -> [Int] {
        let producer = producerIndex()
        var needed = Set<Int>()
        var stack = targets.filter { !boundary.contains($0) }
        while let value = stack.popLast() {
            guard let i = producer[value], needed.insert(i).inserted else { continue }
            stack += nodes[i].inputs.filter { !boundary.contains($0) }
        }
        return needed.sorted()
    }

    /// A copy with only the nodes at `indices` (in order) and the parameters they read.
    private func subgraph(keeping indices: [Int], name: String) -> Graph {
        var g = Graph(name: name)
        g.nodes = indices.map { nodes[$0] }
        let read = Set(g.nodes.flatMap(\.inputs))
        g.parameters = parameters.filter { read.contains($0.name) }
        let defined = Set(g.nodes.flatMap(\.outputs)).union(g.parameters.map(\.name)).union(
            read.filter { inputs.contains($0) })
        g.values = values.filter { defined.contains($0.key) }
        return g
    }
}
