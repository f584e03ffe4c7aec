import ScionGraph

/// Evaluates nodes whose inputs are all parameters and replaces their outputs by constants.
public struct ConstantFoldingPass: CompilerPass {
    public let name = "constant-folding"
    public let summary = "evaluate nodes whose inputs are all constants"

    public init() {}

    public func run(_ unit: inout CompilationUnit) throws -> Int {
        var rewrites = 0
        var i = 0
        while i < unit.graph.nodes.count {
            let node = unit.graph.nodes[i]
            let constant = node.inputs.allSatisfy { unit.parameters[$0] != nil }
            guard constant, node.outputs.count == 1, !unit.graph.isObservable(node.output),
                let type = unit.graph.values[node.output], !type.isBatched
            else {
                i += 1
                continue
            }
            let args = node.inputs.map { unit.floats($0) }
            let types = node.inputs.map { unit.graph.values[$0]! }
            guard OpRegistry.schema(for: node.op)?.trainingOnly != true else {
                i += 1
                continue
            }
            let value = try NodeEvaluator.evaluate(node, args, types, [type], batch: 1)[0]
            let name = unit.addParameter(
                "\(node.name).folded", Tensor(shape: type.resolvedShape(batch: 1), values: value), role: .constant)
            unit.graph.removeNode(at: i)
            unit.graph.replaceUses(of: node.output, with: name)
            rewrites += 1
        }
        unit.dropUnusedParameters()
        return rewrites
    }
}
