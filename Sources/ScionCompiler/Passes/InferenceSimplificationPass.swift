import ScionGraph

/// Inference simplification: dropout becomes the identity (its node disappears) and BatchNorm,
/// which at inference uses its running statistics, becomes a per-channel `affine` with
/// `scale = weight / sqrt(running_var + eps)` and `shift = bias - running_mean * scale`.
public struct InferenceSimplificationPass: CompilerPass {
    public let name = "inference-simplification"
    public let summary = "dropout becomes identity; batch_norm becomes a per-channel affine from running statistics"

    public init() {}

    public func run(_ unit: inout CompilationUnit) throws -> Int {
        var rewrites = 0
        var i = 0
        while i < unit.graph.nodes.count {
            let node = unit.graph.nodes[i]
            switch node.op {
            case .dropout where removeIdentity(at: i, &unit.graph):
                rewrites += 1
                continue
            case .batchNorm:
                unit.graph.nodes[i] = affine(for: node, &unit)
                rewrites += 1
            default:
                break
            }
            i += 1
        }
        unit.dropUnusedParameters()
        return rewrites
    }

    /// Removes an identity node by wiring its readers to its input; when its output is a graph
    /// output, the input is renamed instead (if nothing else depends on the input's name).
    private func removeIdentity(at i: Int, _ g: inout Graph) -> Bool {
        let node = g.nodes[i]
        let input = node.inputs[0], output = node.output
        if !g.isObservable(output) {
            g.removeNode(at: i)
            g.replaceUses(of: output, with: input)
            return true
        }
        let producedByNode = g.nodes.contains { $0.outputs.contains(input) }
        guard producedByNode, !g.isObservable(input), g.readers(of: input) == [i] else { return false }
        g.removeNode(at: i)
        // Cannot fail: `output` was just removed and `input` is a node's output.
        do { try g.renameValue(input, to: output) } catch { preconditionFailure("\(error)") }
        return true
    }

    private func affine(for bn: Node, _ unit: inout CompilationUnit) -> Node {
        let gamma = unit.floats(bn.inputs[1]), beta = unit.floats(bn.inputs[2])
        let mean = unit.floats(bn.inputs[3]), variance = unit.floats(bn.inputs[4])
        let eps = Float(bn.view.float("epsilon"))
        let scale = zip(gamma, variance).map { $0 / ($1 + eps).squareRoot() }
        let shift = (0..<scale.count).map { beta[$0] - mean[$0] * scale[$0] }
        let scaleName = unit.addParameter(
            "\(bn.name).scale", Tensor(shape: [scale.count], values: scale), role: .constant)
        let shiftName = unit.addParameter(
            "\(bn.name).shift", Tensor(shape: [shift.count], values: shift), role: .constant)
        return Node(name: bn.name, op: .affine, inputs: [bn.inputs[0], scaleName, shiftName], outputs: bn.outputs)
    }
}
