import ScionGraph

/// Fuses bias, a residual `add` and an activation into the conv2d or linear that produces
/// their input, so the result is written once; also fuses an activation into an `affine` or a
/// train-mode BatchNorm (whose backward reads its input, not its output).
///
/// A consumer is fused only when it is the producer's sole reader, the producer's output is not
/// a graph output, and (for `add`) the other operand already exists when the producer runs.
public struct EpilogueFusionPass: CompilerPass {
    public let name = "epilogue-fusion"
    public let summary =
        "fuse bias, residual add and activation into conv2d/linear; activation into affine and batch_norm_train"

    public init() {}

    public func run(_ unit: inout CompilationUnit) throws -> Int {
        var g = unit.graph
        var rewrites = 0
        for i in g.nodes.indices where g.nodes[i].op == .conv2d || g.nodes[i].op == .linear {
            var node = g.nodes[i]
            node.attributes["has_bias"] = .bool(node.inputs.count > 2)
            node.op = node.op == .conv2d ? .fusedConv2d : .fusedLinear
            g.nodes[i] = node
        }
        var i = 0
        while i < g.nodes.count {
            if fuseResidual(at: i, &g) || fuseActivation(at: i, &g) {
                rewrites += 1
            } else {
                i += 1
            }
        }
        unit.graph = g
        return rewrites
    }

    /// The index of the sole reader of node `i`'s output, if fusion across it is allowed.
    private func soleReader(of i: Int, _ g: Graph) -> Int? {
        let output = g.nodes[i].output
        let readers = g.readers(of: output)
        guard readers.count == 1, !g.isObservable(output) else { return nil }
        return readers[0]
    }

    private func fuseResidual(at i: Int, _ g: inout Graph) -> Bool {
        let node = g.nodes[i]
        guard node.op == .fusedConv2d || node.op == .fusedLinear, !node.view.bool("has_residual"),
            node.view.activation == .none, let r = soleReader(of: i, g), g.nodes[r].op == .add
        else { return false }
        let add = g.nodes[r]
        let other = add.inputs[0] == node.output ? add.inputs[1] : add.inputs[0]
        guard add.inputs[0] != add.inputs[1], g.isAvailable(other, before: i) else { return false }
        g.nodes[i].inputs.append(other)
        g.nodes[i].attributes["has_residual"] = .bool(true)
        g.absorb(consumer: r, into: i)
        return true
    }

    private func fuseActivation(at i: Int, _ g: inout Graph) -> Bool {
        let node = g.nodes[i]
        guard [.fusedConv2d, .fusedLinear, .affine, .batchNormTrain].contains(node.op), node.view.activation == .none,
            let r = soleReader(of: i, g), let activation = Activation(op: g.nodes[r].op)
        else { return false }
        g.nodes[i].attributes["activation"] = .string(activation.rawValue)
        if activation == .leakyRelu { g.nodes[i].attributes["slope"] = .float(g.nodes[r].view.float("slope")) }
        g.absorb(consumer: r, into: i)
        return true
    }
}
