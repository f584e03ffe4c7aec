import ScionGraph
import ScionKernels

/// `pad` on channels-last values: one image per task.
extension Lowering {
    func lowerPad(_ node: OpView) -> (Pending, Int)? {
        let x = node.node.inputs[0], y = node.node.output
        guard PhysicalLayout.isChannelsLast(type(x)) else { return nil }
        let xs = shape(x), pads = node.ints("pads"), value = Float(node.float("value"))
        return ({ r in PadStep(x: r[x], y: r[y], shape: xs, pads: pads, value: value) }, 0)
    }
}

final class PadStep: ExecutionStep, ParallelTask {
    let x: FloatPointer, y: FloatPointer
    /// Logical `[N, C, H, W]` of x (N is the planned maximum; each run passes its batch).
    let shape: [Int], pads: [Int], value: Float
    let inImage: Int, outImage: Int
    init(x: FloatPointer, y: FloatPointer, shape: [Int], pads: [Int], value: Float) {
        (self.x, self.y, self.shape, self.pads, self.value) = (x, y, shape, pads, value)
        inImage = shape[1] * shape[2] * shape[3]
        outImage = shape[1] * (shape[2] + pads[0] + pads[2]) * (shape[3] + pads[1] + pads[3])
    }
    func run(batch: Int, pool: ThreadPool) { pool.parallelFor(batch, self) }
    func runChunk(_ index: Int, worker: Int) {
        Padding.nhwc(
            x + index * inImage, y + index * outImage, n: 1, height: shape[2], width: shape[3], channels: shape[1],
            pads: pads, value: value)
    }
}
