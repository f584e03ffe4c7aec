import ScionCompiler
import ScionGraph
import ScionKernels

/// Runs a node that has no fast kernel with its reference semantics: inputs are read into
/// logical NCHW arrays, evaluated, and written back in the output's physical layout. Correct
/// for every op, but it allocates and is slow; `Executor.fallbackNodes` lists where it is used.
final class FallbackStep: ExecutionStep {
    let node: Node
    let inputs: [(pointer: FloatPointer, type: TensorType)]
    let outputs: [(pointer: FloatPointer, type: TensorType)]
    /// Set by the executor before each run (keys random ops).
    var seed: UInt64 = 0

    init(node: Node, inputs: [(FloatPointer, TensorType)], outputs: [(FloatPointer, TensorType)]) {
        self.node = node
        self.inputs = inputs.map { (pointer: $0.0, type: $0.1) }
        self.outputs = outputs.map { (pointer: $0.0, type: $0.1) }
    }

    func run(batch: Int, pool: ThreadPool) {
        let args = inputs.map { PhysicalLayout.readLogical($0.pointer, $0.type, batch: batch) }
        // Types were verified when the plan was built, so evaluation cannot fail here.
        guard
            let ys = try? NodeEvaluator.evaluate(
                node, args, inputs.map(\.type), outputs.map(\.type), batch: batch, seed: seed)
        else { return }
        for (y, output) in zip(ys, outputs) {
            PhysicalLayout.writeLogical(y, output.pointer, output.type, batch: batch)
        }
    }
}

/// How values are stored in the arena: batched four-dimensional values (activations) channels-last
/// (NHWC), all others (including unbatched ones such as weight gradients) row-major in their
/// logical order.
enum PhysicalLayout {
    static func isChannelsLast(_ type: TensorType) -> Bool { type.rank == 4 && type.isBatched }

    /// The value's elements in logical (NCHW) order.
    static func readLogical(_ p: FloatPointer, _ type: TensorType, batch: Int) -> [Float] {
        let shape = type.resolvedShape(batch: batch)
        let count = shape.reduce(1, *)
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buffer in
            if isChannelsLast(type) {
                Layout.nhwcToNCHW(p, buffer.baseAddress!, n: shape[0], c: shape[1], plane: shape[2] * shape[3])
            } else {
                buffer.baseAddress!.update(from: p, count: count)
            }
        }
        return out
    }

    /// Stores logical (NCHW) `values` in the value's physical layout.
    static func writeLogical(_ values: [Float], _ p: FloatPointer, _ type: TensorType, batch: Int) {
        let shape = type.resolvedShape(batch: batch)
        values.withUnsafeBufferPointer { buffer in
            if isChannelsLast(type) {
                Layout.nchwToNHWC(buffer.baseAddress!, p, n: shape[0], c: shape[1], plane: shape[2] * shape[3])
            } else {
                p.update(from: buffer.baseAddress!, count: values.count)
            }
        }
    }
}
