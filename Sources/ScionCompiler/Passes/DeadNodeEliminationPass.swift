import ScionGraph

/// Removes nodes none of whose outputs reach a graph output, and parameters no node reads.
/// (The WRN blocks whose `bn1 → relu1` result is unused lose those nodes here.)
public struct DeadNodeEliminationPass: CompilerPass {
    public let name = "dead-node-elimination"
    public let summary = "remove nodes whose results are never used"

    public init() {}

    public func run(_ unit: inout CompilationUnit) throws -> Int {
        var live = Set(unit.graph.outputs)
        var keep = [Bool](repeating: false, count: unit.graph.nodes.count)
        for i in unit.graph.nodes.indices.reversed() {
            let node = unit.graph.nodes[i]
            if node.outputs.contains(where: live.contains) {
                keep[i] = true
                live.formUnion(node.inputs)
            }
        }
        let removed = keep.filter { !$0 }.count
        for i in unit.graph.nodes.indices.reversed() where !keep[i] { unit.graph.removeNode(at: i) }
        unit.graph.cutPoints.removeAll { unit.graph.values[$0.value] == nil }
        unit.dropUnusedParameters()
        return removed
    }
}
