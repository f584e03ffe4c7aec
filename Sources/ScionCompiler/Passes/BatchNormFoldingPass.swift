import ScionGraph

/// Folds an inference BatchNorm (an `affine` without activation) into the convolution or
/// linear layer that produces its input: `W'[o] = W[o]·scale[o]`, `b'[o] = b[o]·scale[o] + shift[o]`.
///
/// Fires only when the affine is the producer's sole reader and the producer's output is not a
/// graph output (otherwise the un-normalised value is still needed).
public struct BatchNormFoldingPass: CompilerPass {
    public let name = "batchnorm-folding"
    public let summary = "fold inference BatchNorm into the preceding conv2d or linear"

    public init() {}

    public func run(_ unit: inout CompilationUnit) throws -> Int {
        var rewrites = 0
        var i = 0
        while i < unit.graph.nodes.count {
            if let producer = foldable(at: i, unit.graph) {
                fold(affineAt: i, into: producer, &unit)
                rewrites += 1
            } else {
                i += 1
            }
        }
        unit.dropUnusedParameters()
        return rewrites
    }

    /// The index of the conv/linear the affine at `i` can fold into, if any.
    private func foldable(at i: Int, _ g: Graph) -> Int? {
        let node = g.nodes[i]
        guard node.op == .affine, node.view.activation == .none else { return nil }
        let input = node.inputs[0]
        guard let p = g.nodes.firstIndex(where: { $0.outputs.contains(input) }) else { return nil }
        let producer = g.nodes[p]
        guard producer.op == .conv2d || producer.op == .linear, !g.isObservable(input), g.readers(of: input) == [i]
        else {
            return nil
        }
        return p
    }

    private func fold(affineAt i: Int, into p: Int, _ unit: inout CompilationUnit) {
        let affine = unit.graph.nodes[i], producer = unit.graph.nodes[p]
        let scale = unit.floats(affine.inputs[1]), shift = unit.floats(affine.inputs[2])
        let weight = unit.parameters[producer.inputs[1]]!
        let perOutput = weight.count / scale.count
        let w = weight.floats.enumerated().map { $0.element * scale[$0.offset / perOutput] }
        let b0 = producer.inputs.count > 2 ? unit.floats(producer.inputs[2]) : [Float](repeating: 0, count: scale.count)
        let b = (0..<scale.count).map { b0[$0] * scale[$0] + shift[$0] }
        let wName = unit.addParameter(
            "\(producer.name).weight_folded", Tensor(shape: weight.shape, values: w), role: .constant)
        let bName = unit.addParameter(
            "\(producer.name).bias_folded", Tensor(shape: [b.count], values: b), role: .constant)
        unit.graph.nodes[p].inputs = [producer.inputs[0], wName, bName]
        unit.graph.absorb(consumer: i, into: p)
    }
}
