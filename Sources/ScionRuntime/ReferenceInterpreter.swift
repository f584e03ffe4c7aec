import ScionGraph
import ScionKernels

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
    public func run(_ inputs: [String: Tensor], keep: Set<String> = []) throws -> [String: Tensor] {
        let batch = try InputCheck.batch(of: inputs, for: graph)
        var env: [String: [Float]] = inputs.mapValues(\.floats)
        for (name, t) in parameters { env[name] = t.floats }
        let lastUse = lastUses()
        for (index, node) in graph.nodes.enumerated() {
            let args = node.inputs.map { env[$0] ?? [] }
            let types = node.inputs.map { graph.values[$0]! }
            let outType = graph.values[node.output]!
            env[node.output] = try evaluate(node, args, types, outType, batch: batch)
            for input in node.inputs where lastUse[input] == index && !keep.contains(input) && parameters[input] == nil {
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

    private func evaluate(_ node: Node, _ a: [[Float]], _ t: [TensorType], _ out: TensorType, batch: Int) throws
        -> [Float]
    {
        let xs = t[0].resolvedShape(batch: batch)
        let ys = out.resolvedShape(batch: batch)
        switch node.op {
        case .conv2d:
            return ReferenceKernels.conv2d(a[0], a[1], a.count > 2 ? a[2] : nil, Geometry.conv(node, xs, ys, t[1]))
        case .convTranspose2d:
            return ReferenceKernels.convTranspose2d(a[0], a[1], a.count > 2 ? a[2] : nil, Geometry.conv(node, xs, ys, t[1]))
        case .batchNorm:
            return ReferenceKernels.batchNorm(
                a[0], channels: xs[1], plane: xs.dropFirst(2).reduce(1, *), scale: a[1], bias: a[2], mean: a[3],
                variance: a[4], epsilon: Float(node.float("epsilon") ?? 1e-5))
        case .instanceNorm:
            return ReferenceKernels.instanceNorm(
                a[0], channels: xs[1], plane: xs[2] * xs[3], scale: a.count > 1 ? a[1] : nil,
                bias: a.count > 2 ? a[2] : nil, epsilon: Float(node.float("epsilon") ?? 1e-5))
        case .linear:
            return ReferenceKernels.linear(a[0], a[1], a.count > 2 ? a[2] : nil, batch: xs[0], inFeatures: xs[1], outFeatures: ys[1])
        case .relu: return ReferenceKernels.relu(a[0])
        case .leakyRelu: return ReferenceKernels.leakyRelu(a[0], slope: Float(node.float("slope") ?? 0.01))
        case .sigmoid: return ReferenceKernels.sigmoid(a[0])
        case .tanh: return ReferenceKernels.tanh(a[0])
        case .add: return ReferenceKernels.add(a[0], a[1])
        case .mul: return ReferenceKernels.mul(a[0], a[1])
        case .concat:
            let axis = node.int("axis") ?? 1
            let shapes = t.map { $0.resolvedShape(batch: batch) }
            return ReferenceKernels.concat(
                a, axisExtents: shapes.map { $0[axis] }, outer: xs[..<axis].reduce(1, *),
                inner: xs[(axis + 1)...].reduce(1, *))
        case .maxPool2d: return ReferenceKernels.maxPool2d(a[0], Geometry.pool(node, xs, ys))
        case .avgPool2d:
            return ReferenceKernels.avgPool2d(a[0], Geometry.pool(node, xs, ys), countIncludePad: node.bool("count_include_pad") ?? true)
        case .globalAvgPool: return ReferenceKernels.globalAvgPool(a[0], plane: xs[2] * xs[3])
        case .flatten, .reshape, .dropout: return a[0]
        case .softmax:
            let axis = node.int("axis") ?? 1
            return ReferenceKernels.softmax(a[0], extent: xs[axis], inner: xs[(axis + 1)...].reduce(1, *))
        default:
            throw RuntimeError.unsupportedOp(node: node.name, op: node.op.rawValue)
        }
    }
}
