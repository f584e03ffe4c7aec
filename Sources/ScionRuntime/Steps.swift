import ScionKernels

/// One unit of work in a compiled plan, bound to arena pointers, run for a given batch.
protocol ExecutionStep: AnyObject {
    func run(batch: Int, pool: ThreadPool)
}

/// Pointer to a planned buffer, resolved once the arena exists.
typealias FloatPointer = UnsafeMutablePointer<Float>

// Steps are their own `ParallelTask`s: the per-run state (batch, chunking) lives in the step,
// so handing work to the pool allocates nothing.

final class ConvStep: ExecutionStep, ParallelTask, ParameterDependent {
    let kernel: Conv2D
    let x: FloatPointer, y: FloatPointer, residual: FloatPointer?, workspace: FloatPointer?
    let weight: FloatPointer, bias: FloatPointer?
    private var chunking = Chunking(rows: 0, maxRows: 1, threads: 1)
    init(
        _ kernel: Conv2D, x: FloatPointer, y: FloatPointer, residual: FloatPointer?, workspace: FloatPointer?,
        weight: FloatPointer, bias: FloatPointer?
    ) {
        (self.kernel, self.x, self.y, self.residual, self.workspace, self.weight, self.bias) = (
            kernel, x, y, residual, workspace, weight, bias
        )
    }
    func refresh() { kernel.repack(weight: weight, bias: bias.map { UnsafePointer($0) }) }
    func run(batch: Int, pool: ThreadPool) {
        chunking = kernel.chunking(batch: batch, threads: pool.threads)
        pool.parallelFor(chunking.count, self)
    }
    func runChunk(_ index: Int, worker: Int) {
        kernel.compute(
            chunk: index, of: chunking, x: x, y: y, residual: residual.map { UnsafePointer($0) }, worker: worker,
            workspace: workspace)
    }
}

final class ConvTransposeStep: ExecutionStep, ParallelTask, ParameterDependent {
    let kernel: ConvTranspose2D
    let x: FloatPointer, y: FloatPointer, workspace: FloatPointer
    let weight: FloatPointer, bias: FloatPointer?
    init(
        _ kernel: ConvTranspose2D, x: FloatPointer, y: FloatPointer, workspace: FloatPointer, weight: FloatPointer,
        bias: FloatPointer?
    ) {
        (self.kernel, self.x, self.y, self.workspace, self.weight, self.bias) = (kernel, x, y, workspace, weight, bias)
    }
    func refresh() { kernel.repack(weight: weight, bias: bias.map { UnsafePointer($0) }) }
    func run(batch: Int, pool: ThreadPool) { pool.parallelFor(batch, self) }
    func runChunk(_ index: Int, worker: Int) {
        kernel.compute(image: index, x: x, y: y, worker: worker, workspace: workspace)
    }
}

final class LinearStep: ExecutionStep, ParallelTask, ParameterDependent {
    let kernel: Linear
    let x: FloatPointer, y: FloatPointer, residual: FloatPointer?
    let weight: FloatPointer, bias: FloatPointer?
    private var chunking = Chunking(rows: 0, maxRows: 1, threads: 1)
    init(
        _ kernel: Linear, x: FloatPointer, y: FloatPointer, residual: FloatPointer?, weight: FloatPointer,
        bias: FloatPointer?
    ) {
        (self.kernel, self.x, self.y, self.residual, self.weight, self.bias) = (kernel, x, y, residual, weight, bias)
    }
    func refresh() { kernel.reload(weight: weight, bias: bias.map { UnsafePointer($0) }) }
    func run(batch: Int, pool: ThreadPool) {
        chunking = kernel.chunking(batch: batch, threads: pool.threads)
        pool.parallelFor(chunking.count, self)
    }
    func runChunk(_ index: Int, worker: Int) {
        kernel.compute(chunk: index, of: chunking, x: x, y: y, residual: residual.map { UnsafePointer($0) })
    }
}

/// Per-channel `y = act(x * scale + shift)` over rows of `channels`, the coefficients taken
/// from parameters (an `affine`'s scale and shift, or a BatchNorm's running statistics).
final class AffineStep: ExecutionStep, ParallelTask, ParameterDependent {
    enum Source {
        case scaleShift(FloatPointer, FloatPointer)
        case batchNorm(
            scale: FloatPointer, bias: FloatPointer, mean: FloatPointer, variance: FloatPointer, epsilon: Float)
    }
    let x: FloatPointer, y: FloatPointer
    let source: Source
    let scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>
    let channels: Int, rowsPerSample: Int, activation: KernelActivation
    private var split = RowSplit(rows: 0, threads: 1)
    init(
        x: FloatPointer, y: FloatPointer, source: Source, channels: Int, rowsPerSample: Int,
        activation: KernelActivation
    ) {
        (self.x, self.y, self.source, self.channels, self.rowsPerSample, self.activation) = (
            x, y, source, channels, rowsPerSample, activation
        )
        scale = .allocate(capacity: channels)
        shift = .allocate(capacity: channels)
        refresh()
    }
    deinit {
        scale.deallocate()
        shift.deallocate()
    }
    func refresh() {
        for c in 0..<channels {
            switch source {
            case .scaleShift(let a, let b):
                (scale[c], shift[c]) = (a[c], b[c])
            case .batchNorm(let gamma, let beta, let mean, let variance, let eps):
                scale[c] = gamma[c] / (variance[c] + eps).squareRoot()
                shift[c] = beta[c] - mean[c] * scale[c]
            }
        }
    }
    func run(batch: Int, pool: ThreadPool) {
        split = RowSplit(rows: batch * rowsPerSample, threads: pool.threads)
        pool.parallelFor(split.count, self)
    }
    func runChunk(_ index: Int, worker: Int) {
        let (r0, n) = split.range(index)
        Epilogue.apply(
            y + r0 * channels, rows: n, channels: channels, stride: channels, scale: scale, shift: shift,
            activation: activation, input: x + r0 * channels)
    }
}

/// An elementwise activation or binary op over `elementsPerSample` floats per image.
final class ElementwiseStep: ExecutionStep, ParallelTask {
    enum Kind { case activation(KernelActivation), add, mul, copy }
    let kind: Kind
    let a: FloatPointer, b: FloatPointer?, y: FloatPointer
    let elementsPerSample: Int
    private var split = RowSplit(rows: 0, threads: 1)
    init(_ kind: Kind, a: FloatPointer, b: FloatPointer?, y: FloatPointer, elementsPerSample: Int) {
        (self.kind, self.a, self.b, self.y, self.elementsPerSample) = (kind, a, b, y, elementsPerSample)
    }
    func run(batch: Int, pool: ThreadPool) {
        let total = batch * elementsPerSample
        split = RowSplit(rows: total, threads: total >= 16384 ? pool.threads : 1)
        pool.parallelFor(split.count, self)
    }
    func runChunk(_ index: Int, worker: Int) {
        let (start, n) = split.range(index)
        let a = self.a + start, y = self.y + start
        switch kind {
        case .activation(let act): Elementwise.activate(a, y, count: n, act)
        case .add: Elementwise.add(a, b! + start, y, count: n)
        case .mul: Elementwise.mul(a, b! + start, y, count: n)
        case .copy: Elementwise.copy(a, y, count: n)
        }
    }
}

final class PoolStep: ExecutionStep, ParallelTask {
    let x: FloatPointer, y: FloatPointer
    let geometry: ConvGeometry
    let average: Bool, countIncludePad: Bool
    init(x: FloatPointer, y: FloatPointer, geometry: ConvGeometry, average: Bool, countIncludePad: Bool) {
        (self.x, self.y, self.geometry, self.average, self.countIncludePad) = (x, y, geometry, average, countIncludePad)
    }
    func run(batch: Int, pool: ThreadPool) { pool.parallelFor(batch * geometry.outHeight, self) }
    func runChunk(_ index: Int, worker: Int) {
        if average {
            Pooling.averageRow(index, x, y, geometry, countIncludePad: countIncludePad)
        } else {
            Pooling.maxRow(index, x, y, geometry)
        }
    }
}

final class GlobalPoolStep: ExecutionStep, ParallelTask {
    let x: FloatPointer, y: FloatPointer
    let plane: Int, channels: Int
    init(x: FloatPointer, y: FloatPointer, plane: Int, channels: Int) {
        (self.x, self.y, self.plane, self.channels) = (x, y, plane, channels)
    }
    func run(batch: Int, pool: ThreadPool) { pool.parallelFor(batch, self) }
    func runChunk(_ index: Int, worker: Int) {
        Pooling.globalAverage(image: index, x, y, plane: plane, channels: channels)
    }
}

final class InstanceNormStep: ExecutionStep, ParallelTask {
    let x: FloatPointer, y: FloatPointer
    let plane: Int, channels: Int, epsilon: Float
    /// Parameter pointers: read at each run, so they are never stale.
    let scale: FloatPointer?, shift: FloatPointer?
    init(
        x: FloatPointer, y: FloatPointer, plane: Int, channels: Int, epsilon: Float, scale: FloatPointer?,
        shift: FloatPointer?
    ) {
        (self.x, self.y, self.plane, self.channels, self.epsilon, self.scale, self.shift) = (
            x, y, plane, channels, epsilon, scale, shift
        )
    }
    func run(batch: Int, pool: ThreadPool) { pool.parallelFor(batch, self) }
    func runChunk(_ index: Int, worker: Int) {
        Normalization.instance(
            image: index, x, y, plane: plane, channels: channels, scale: scale.map { UnsafePointer($0) },
            shift: shift.map { UnsafePointer($0) }, epsilon: epsilon)
    }
}

final class SoftmaxStep: ExecutionStep {
    let x: FloatPointer, y: FloatPointer
    let rowsPerSample: Int, width: Int
    init(x: FloatPointer, y: FloatPointer, rowsPerSample: Int, width: Int) {
        (self.x, self.y, self.rowsPerSample, self.width) = (x, y, rowsPerSample, width)
    }
    func run(batch: Int, pool: ThreadPool) {
        Normalization.softmax(x, y, rows: batch * rowsPerSample, width: width)
    }
}

/// Concatenation along the last physical axis: per row, the inputs' segments one after another.
final class ConcatStep: ExecutionStep {
    let inputs: [(pointer: FloatPointer, width: Int)]
    let y: FloatPointer
    let rowsPerSample: Int, width: Int
    init(inputs: [(FloatPointer, Int)], y: FloatPointer, rowsPerSample: Int) {
        self.inputs = inputs.map { (pointer: $0.0, width: $0.1) }
        self.y = y
        self.rowsPerSample = rowsPerSample
        width = inputs.reduce(0) { $0 + $1.1 }
    }
    func run(batch: Int, pool: ThreadPool) {
        for r in 0..<(batch * rowsPerSample) {
            var offset = 0
            for input in inputs {
                (y + r * width + offset).update(from: input.pointer + r * input.width, count: input.width)
                offset += input.width
            }
        }
    }
}

/// Moves data between the physical layouts of two values (NHWC ↔ the logical NCHW order).
final class RelayoutStep: ExecutionStep {
    enum Direction { case nhwcToNCHW, nchwToNHWC, copy }
    let x: FloatPointer, y: FloatPointer
    let direction: Direction
    let channels: Int, plane: Int
    init(x: FloatPointer, y: FloatPointer, direction: Direction, channels: Int, plane: Int) {
        (self.x, self.y, self.direction, self.channels, self.plane) = (x, y, direction, channels, plane)
    }
    func run(batch: Int, pool: ThreadPool) {
        switch direction {
        case .nhwcToNCHW: Layout.nhwcToNCHW(x, y, n: batch, c: channels, plane: plane)
        case .nchwToNHWC: Layout.nchwToNHWC(x, y, n: batch, c: channels, plane: plane)
        case .copy: Elementwise.copy(x, y, count: batch * channels * plane)
        }
    }
}

/// Even contiguous split of `rows` over `threads` chunks.
struct RowSplit {
    let count: Int
    let rows: Int
    let total: Int
    init(rows total: Int, threads: Int) {
        self.total = total
        count = max(1, min(threads, total))
        rows = (total + count - 1) / count
    }
    func range(_ chunk: Int) -> (start: Int, count: Int) {
        let start = chunk * rows
        return (start, max(0, min(rows, total - start)))
    }
}
