import ScionGraph
import ScionKernels

/// What one node computes, with the naive reference kernels: the semantics every faster path
/// is checked against. Inference mode: dropout is the identity, BatchNorm uses running statistics.
public enum NodeEvaluator {
    /// Evaluates `node` on `args` (one flat NCHW array per input, of types `types`) at `batch`,
    /// producing each of its outputs (`outs` are their types). `seed` keys random ops (dropout).
    public static func evaluate(
        _ node: Node, _ a: [[Float]], _ t: [TensorType], _ outs: [TensorType], batch: Int, seed: UInt64 = 0
    ) throws -> [[Float]] {
        let view = node.view
        if view.schema.trainingOnly {
            return try evaluateTraining(view, a, t, outs, batch: batch, seed: seed)
        }
        return [try evaluateForward(view, a, t, outs[0], batch: batch)]
    }

    static func evaluateForward(
        _ node: OpView, _ a: [[Float]], _ t: [TensorType], _ out: TensorType, batch: Int
    ) throws -> [Float] {
        let xs = t[0].resolvedShape(batch: batch)
        let ys = out.resolvedShape(batch: batch)
        switch node.op {
        case .conv2d:
            return ReferenceKernels.conv2d(a[0], a[1], node.argument("bias", in: a), Geometry.conv(node, xs, ys, t[1]))
        case .convTranspose2d:
            return ReferenceKernels.convTranspose2d(
                a[0], a[1], node.argument("bias", in: a), Geometry.conv(node, xs, ys, t[1]))
        case .batchNorm:
            return ReferenceKernels.batchNorm(
                a[0], channels: xs[1], plane: xs.dropFirst(2).reduce(1, *), scale: a[1], bias: a[2], mean: a[3],
                variance: a[4], epsilon: Float(node.float("epsilon")))
        case .instanceNorm:
            return ReferenceKernels.instanceNorm(
                a[0], channels: xs[1], plane: xs[2] * xs[3], scale: node.argument("scale", in: a),
                bias: node.argument("bias", in: a), epsilon: Float(node.float("epsilon")))
        case .linear:
            return ReferenceKernels.linear(
                a[0], a[1], node.argument("bias", in: a), batch: xs[0], inFeatures: xs[1], outFeatures: ys[1])
        case .relu, .leakyRelu, .sigmoid, .tanh:
            return activate(
                a[0], Activation(op: node.op) ?? .none, slope: node.op == .leakyRelu ? node.float("slope") : 0)
        case .add: return ReferenceKernels.add(a[0], a[1])
        case .mul: return ReferenceKernels.mul(a[0], a[1])
        case .concat:
            let axis = node.int("axis")
            let shapes = t.map { $0.resolvedShape(batch: batch) }
            return ReferenceKernels.concat(
                a, axisExtents: shapes.map { $0[axis] }, outer: xs[..<axis].reduce(1, *),
                inner: xs[(axis + 1)...].reduce(1, *))
        case .maxPool2d: return ReferenceKernels.maxPool2d(a[0], Geometry.pool(node, xs, ys))
        case .avgPool2d:
            return ReferenceKernels.avgPool2d(
                a[0], Geometry.pool(node, xs, ys), countIncludePad: node.bool("count_include_pad"))
        case .globalAvgPool: return ReferenceKernels.globalAvgPool(a[0], plane: xs[2] * xs[3])
        case .flatten, .reshape, .dropout: return a[0]
        case .softmax:
            let axis = node.int("axis")
            return ReferenceKernels.softmax(a[0], extent: xs[axis], inner: xs[(axis + 1)...].reduce(1, *))
        case .pad:
            return ReferenceKernels.pad(
                a[0], planes: xs[0] * xs[1], height: xs[2], width: xs[3], pads: node.ints("pads"),
                value: Float(node.float("value")))
        case .affine:
            let plane = xs.dropFirst(2).reduce(1, *)
            let y = a[0].indices.map { i in a[0][i] * a[1][(i / plane) % xs[1]] + a[2][(i / plane) % xs[1]] }
            return epilogue(node, y)
        case .fusedConv2d, .fusedLinear:
            let bias = node.argument("bias", in: a)
            var y =
                node.op == .fusedConv2d
                ? ReferenceKernels.conv2d(a[0], a[1], bias, Geometry.conv(node, xs, ys, t[1]))
                : ReferenceKernels.linear(a[0], a[1], bias, batch: xs[0], inFeatures: xs[1], outFeatures: ys[1])
            if let residual = node.argument("residual", in: a) { y = ReferenceKernels.add(y, residual) }
            return epilogue(node, y)
        default:
            throw EvaluationError.unsupported(node: node.name, op: node.op.rawValue)
        }
    }

    static func epilogue(_ node: OpView, _ y: [Float]) -> [Float] {
        activate(y, node.activation, slope: node.float("slope"))
    }

    static func activate(_ x: [Float], _ activation: Activation, slope: Double) -> [Float] {
        switch activation {
        case .none: return x
        case .relu: return ReferenceKernels.relu(x)
        case .leakyRelu: return ReferenceKernels.leakyRelu(x, slope: Float(slope))
        case .sigmoid: return ReferenceKernels.sigmoid(x)
        case .tanh: return ReferenceKernels.tanh(x)
        }
    }
}

/// A node the reference semantics do not cover.
public enum EvaluationError: Error, Equatable, CustomStringConvertible {
    case unsupported(node: String, op: String)

    public var description: String {
        switch self {
        case .unsupported(let node, let op): return "node '\(node)': op '\(op)' has no reference implementation"
        }
    }
}
