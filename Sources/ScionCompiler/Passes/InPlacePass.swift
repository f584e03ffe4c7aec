import ScionGraph

/// Lets elementwise ops write over their input when no one reads that input afterwards, and a
/// fused conv/linear write over its residual. Records aliases for the memory planner; the graph
/// itself is unchanged.
public struct InPlacePass: CompilerPass {
    public let name = "in-place"
    public let summary = "compute elementwise ops over an input that dies there"

    public init() {}

    static let elementwise: Set<OpType> = [.affine, .relu, .leakyRelu, .sigmoid, .tanh, .add, .mul, .dropout]

    public func run(_ unit: inout CompilationUnit) throws -> Int {
        let g = unit.graph
        var lastUse: [String: Int] = [:]
        for (i, node) in g.nodes.enumerated() { for input in node.inputs { lastUse[input] = i } }
        let protected = Set(g.inputs + g.outputs + g.parameters.map(\.name))
        unit.aliases = [:]
        for (i, node) in g.nodes.enumerated() {
            let candidates: [String]
            if Self.elementwise.contains(node.op) {
                candidates = node.op == .affine ? [node.inputs[0]] : node.inputs
            } else if let residual = node.view.input("residual") {
                candidates = [residual]
            } else {
                continue
            }
            let reused = Set(unit.aliases.values)
            let dying = candidates.first { input in
                lastUse[input] == i && !protected.contains(input) && !reused.contains(input)
                    && g.values[input] == g.values[node.output] && node.inputs.filter { $0 == input }.count == 1
            }
            if let input = dying, !g.isObservable(node.output) {
                unit.aliases[node.output] = input
            }
        }
        return unit.aliases.count
    }
}
