import ScionGraph

/// Fuses memory-bound passes of a training graph's backward half into the kernels next to
/// them, so each large gradient is read and written fewer times:
///
/// - BatchNorm's backward absorbs the gradient of the ReLU or leaky ReLU that followed the
///   forward BatchNorm (fused into it by `EpilogueFusionPass`): it recomputes the activation's
///   mask from its input x, which it reads anyway, with the coefficients the forward pass used,
///   so the result is bit-identical;
/// - BatchNorm's backward absorbs the `add` that sums its input gradient with another gradient
///   of the same value that already exists (a residual branch's), also bit-identical;
/// - a convolution's weight gradient also produces its bias gradient, the channel sums of the
///   same dy (`conv2d_grad_weight_bias`), summed while each piece of dy is in cache; Double
///   partial sums grouped otherwise may round differently in the last bit.
///
/// Run after `EpilogueFusionPass`.
public struct GradientFusionPass: CompilerPass {
    public let name = "gradient-fusion"
    public let summary =
        "fuse activation gradients and gradient sums into batch_norm_train_grad, bias gradients into conv2d_grad_weight"

    public init() {}

    public func run(_ unit: inout CompilationUnit) throws -> Int {
        var g = unit.graph
        var rewrites = 0
        var i = 0
        while i < g.nodes.count {
            guard g.nodes[i].op == .batchNormTrainGrad else {
                i += 1
                continue
            }
            if let (gradient, forward) = fusibleActivationGradient(before: i, g) {
                fuseActivationGradient(gradient, forward: forward, into: i, &g)
                i -= 1
                rewrites += 1
            }
            if fuseGradientSum(at: i, &g) { rewrites += 1 }
            i += 1
        }
        i = 0
        while i < g.nodes.count {
            if fuseBiasGradient(at: i, &g) { rewrites += 1 }
            i += 1
        }
        unit.graph = g
        return rewrites
    }

    /// Makes weight gradient `i` also produce the output of a `channel_sum` of its dy, when
    /// nothing reads that sum before `i`.
    private func fuseBiasGradient(at i: Int, _ g: inout Graph) -> Bool {
        let node = g.nodes[i]
        guard node.op == .conv2dGradWeight,
            let s = g.nodes.firstIndex(where: { $0.op == .channelSum && $0.inputs == [node.inputs[1]] }),
            g.readers(of: g.nodes[s].output).allSatisfy({ $0 > i })
        else { return false }
        let sum = g.nodes[s].output, type = g.values[sum]
        g.removeNode(at: s)
        g.values[sum] = type
        let w = s < i ? i - 1 : i
        g.nodes[w].op = .conv2dGradWeightBias
        g.nodes[w].outputs.append(sum)
        return true
    }

    /// The indices of the relu/leaky-relu gradient feeding BatchNorm backward `i` and of the
    /// forward BatchNorm, when that activation was fused into the very BatchNorm `i`
    /// differentiates and the masked gradient has no other reader.
    private func fusibleActivationGradient(before i: Int, _ g: Graph) -> (Int, Int)? {
        let node = g.nodes[i]
        guard node.view.activation == .none, !node.view.bool("has_residual"),
            let p = g.nodes.firstIndex(where: { $0.outputs.contains(node.inputs[0]) }),
            [.reluGrad, .leakyReluGrad].contains(g.nodes[p].op), g.readers(of: node.inputs[0]) == [i],
            !g.isObservable(node.inputs[0]),
            let f = g.nodes.firstIndex(where: { $0.outputs.first == g.nodes[p].inputs[1] })
        else { return nil }
        let forward = g.nodes[f], gradient = g.nodes[p]
        let activation: Activation = gradient.op == .reluGrad ? .relu : .leakyRelu
        guard forward.op == .batchNormTrain, forward.view.activation == activation,
            activation == .relu || forward.view.float("slope") == gradient.view.float("slope"),
            forward.inputs[0] == node.inputs[1], forward.inputs[1] == node.inputs[2],
            forward.outputs[1] == node.inputs[3], forward.outputs[2] == node.inputs[4]
        else { return nil }
        return (p, f)
    }

    private func fuseActivationGradient(_ p: Int, forward f: Int, into i: Int, _ g: inout Graph) {
        let gradient = g.nodes[p], forward = g.nodes[f]
        g.nodes[i].inputs[0] = gradient.inputs[0]
        g.nodes[i].inputs.append(forward.inputs[2])
        g.nodes[i].attributes["activation"] = .string(gradient.op == .reluGrad ? "relu" : "leaky_relu")
        if gradient.op == .leakyReluGrad { g.nodes[i].attributes["slope"] = .float(gradient.view.float("slope")) }
        g.removeNode(at: p)
    }

    /// Makes BatchNorm backward `i` write `dx + other` when its dx is read only by an `add` of
    /// it and a gradient `other` that already exists.
    private func fuseGradientSum(at i: Int, _ g: inout Graph) -> Bool {
        let node = g.nodes[i], dx = node.outputs[0]
        let readers = g.readers(of: dx)
        guard !node.view.bool("has_residual"), readers.count == 1, !g.isObservable(dx), g.nodes[readers[0]].op == .add
        else { return false }
        let add = g.nodes[readers[0]]
        let other = add.inputs[0] == dx ? add.inputs[1] : add.inputs[0]
        guard add.inputs.count == 2, add.inputs[0] != add.inputs[1], g.isAvailable(other, before: i),
            g.values[other] == g.values[dx]
        else { return false }
        g.nodes[i].inputs.append(other)
        g.nodes[i].attributes["has_residual"] = .bool(true)
        g.absorb(consumer: readers[0], into: i)
        return true
    }
}
