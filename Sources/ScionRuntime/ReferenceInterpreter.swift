import ScionCompiler
import ScionGraph

/// Runs a graph node by node with the naive reference kernels, in inference mode (dropout is
/// the identity, BatchNorm uses running statistics). It defines what a graph computes: the
/// compiled executor is tested against it.
///
/// ```swift
/// let outputs = try ReferenceInterpreter(model: model).run(["image": batch])
/// ```
public struct ReferenceInterpreter: Sendable {
    public let graph: Graph
    let parameters: [String: Tensor]

    public init(model: Model) throws {
        try model.graph.verify()
        for p in model.graph.parameters where model.parameters[p.name] == nil {
            throw RuntimeError.missingParameter(p.name)
        }
        graph = model.graph
        parameters = model.parameters
    }

    /// Runs the graph; returns every graph output by name. With `keep`, also returns those
    /// intermediate values.
    public func run(_ inputs: [String: Tensor], keep: Set<String> = [], seed: UInt64 = 0) throws -> [String: Tensor] {
        let batch = try InputCheck.batch(of: inputs, for: graph)
        var env: [String: [Float]] = inputs.mapValues(\.floats)
        for (name, t) in parameters { env[name] = t.floats }
        let lastUse = lastUses()
        for (index, node) in graph.nodes.enumerated() {
            let args = node.inputs.map { env[$0] ?? [] }
            let types = node.inputs.map { graph.values[$0]! }
            let outTypes = node.outputs.map { graph.values[$0]! }
            let results = try NodeEvaluator.evaluate(node, args, types, outTypes, batch: batch, seed: seed)
            for (name, value) in zip(node.outputs, results) { env[name] = value }
            for input in node.inputs where lastUse[input] == index && !keep.contains(input) && parameters[input] == nil
            {
                if !graph.outputs.contains(input) { env[input] = nil }
            }
        }
        var out: [String: Tensor] = [:]
        for name in graph.outputs + keep.sorted() {
            guard let type = graph.values[name], let data = env[name] else { continue }
            out[name] = Tensor(shape: type.resolvedShape(batch: batch), values: data)
        }
        return out
    }

    private func lastUses() -> [String: Int] {
        var last: [String: Int] = [:]
        for (i, node) in graph.nodes.enumerated() { for input in node.inputs { last[input] = i } }
        return last
    }
}
