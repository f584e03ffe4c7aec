import ScionKernels

/// Per-channel sums over the rows (bias gradients), deterministic.
final class ChannelSumStep: ExecutionStep, ParallelTask {
    let x: FloatPointer, y: FloatPointer
    let channels: Int, rowsPerSample: Int
    let scratch: UnsafeMutablePointer<Double>
    private var partition = StaticPartition(total: 0, parts: 1)

    init(x: FloatPointer, y: FloatPointer, channels: Int, rowsPerSample: Int, threads: Int, workspace: FloatPointer) {
        (self.x, self.y, self.channels, self.rowsPerSample) = (x, y, channels, rowsPerSample)
        scratch = Self.scratch(channels: channels, threads: threads).sums.pointer(in: workspace)
    }

    /// Partial sums per thread, in doubles.
    static func scratch(channels: Int, threads: Int) -> (layout: ScratchLayout, sums: ScratchRegion<Double>) {
        var layout = ScratchLayout()
        let sums = layout.region(Double.self, channels * threads)
        return (layout, sums)
    }

    func run(batch: Int, pool: ThreadPool) {
        partition = StaticPartition(total: batch * rowsPerSample, parts: pool.threads)
        pool.parallelFor(partition.parts, self)
        Reductions.combine(scratch, parts: partition.parts, count: channels, into: y)
    }

    func runChunk(_ index: Int, worker: Int) {
        Reductions.channelSums(x, rows: partition.range(index), channels: channels, into: scratch + index * channels)
    }
}

/// dW (and db, the channel sums of dy, when set) of a convolution: static parts accumulate
/// partials, summed in order.
final class ConvWeightGradientStep: ExecutionStep, ParallelTask {
    let kernel: ConvWeightGradient
    let x: FloatPointer, dy: FloatPointer, dw: FloatPointer, db: FloatPointer?, workspace: FloatPointer
    private var batch = 0, parts = 1

    init(
        _ kernel: ConvWeightGradient, x: FloatPointer, dy: FloatPointer, dw: FloatPointer, db: FloatPointer?,
        workspace: FloatPointer
    ) {
        (self.kernel, self.x, self.dy, self.dw, self.db, self.workspace) = (kernel, x, dy, dw, db, workspace)
    }

    func run(batch: Int, pool: ThreadPool) {
        self.batch = batch
        parts = pool.threads
        pool.parallelFor(parts, self)
        kernel.finish(parts: parts, workspace: workspace, dw: dw, db: db)
    }

    func runChunk(_ index: Int, worker: Int) {
        kernel.accumulate(
            part: index, parts: parts, x: x, dy: dy, batch: batch, workspace: workspace, withBias: db != nil)
    }
}

/// dx = conv_transpose(dy, W) for a convolution's input gradient (weights repacked each step).
final class ConvInputGradientStep: ExecutionStep, ParallelTask, ParameterDependent {
    let kernel: ConvInputGradient
    let dy: FloatPointer, dx: FloatPointer, workspace: FloatPointer, weight: FloatPointer
    private var chunking = Chunking(rows: 0, maxRows: 1, threads: 1)
    init(_ kernel: ConvInputGradient, dy: FloatPointer, dx: FloatPointer, workspace: FloatPointer, weight: FloatPointer)
    {
        (self.kernel, self.dy, self.dx, self.workspace, self.weight) = (kernel, dy, dx, workspace, weight)
    }
    func refresh() { kernel.repack(weight: weight) }
    func run(batch: Int, pool: ThreadPool) {
        chunking = kernel.chunking(batch: batch, threads: pool.threads)
        pool.parallelFor(chunking.count, self)
    }
    func runChunk(_ index: Int, worker: Int) {
        kernel.compute(chunk: index, of: chunking, dy: dy, dx: dx, worker: worker, workspace: workspace)
    }
}

final class LinearGradientStep: ExecutionStep, ParallelTask {
    let a: FloatPointer, b: FloatPointer, out: FloatPointer
    let inFeatures: Int, outFeatures: Int, weightGradient: Bool
    private var batch = 0, partition = StaticPartition(total: 0, parts: 1)

    /// Input gradient: `a` = dy, `b` = W. Weight gradient: `a` = x, `b` = dy.
    init(weightGradient: Bool, a: FloatPointer, b: FloatPointer, out: FloatPointer, inFeatures: Int, outFeatures: Int) {
        (self.weightGradient, self.a, self.b, self.out, self.inFeatures, self.outFeatures) = (
            weightGradient, a, b, out, inFeatures, outFeatures
        )
    }

    func run(batch: Int, pool: ThreadPool) {
        self.batch = batch
        partition = StaticPartition(total: weightGradient ? outFeatures : batch, parts: pool.threads)
        pool.parallelFor(partition.parts, self)
    }

    func runChunk(_ index: Int, worker: Int) {
        if weightGradient {
            LinearGradient.weight(
                x: a, dy: b, dw: out, outputs: partition.range(index), batch: batch, inFeatures: inFeatures,
                outFeatures: outFeatures)
        } else {
            LinearGradient.input(
                dy: a, weight: b, dx: out, rows: partition.range(index), inFeatures: inFeatures,
                outFeatures: outFeatures)
        }
    }
}

final class ActivationGradientStep: ExecutionStep, ParallelTask {
    let kind: ActivationGradient.Kind
    let dy: FloatPointer, y: FloatPointer, dx: FloatPointer
    let elementsPerSample: Int
    private var split = RowSplit(rows: 0, threads: 1)
    init(_ kind: ActivationGradient.Kind, dy: FloatPointer, y: FloatPointer, dx: FloatPointer, elementsPerSample: Int) {
        (self.kind, self.dy, self.y, self.dx, self.elementsPerSample) = (kind, dy, y, dx, elementsPerSample)
    }
    func run(batch: Int, pool: ThreadPool) {
        let total = batch * elementsPerSample
        split = RowSplit(rows: total, threads: total >= 16384 ? pool.threads : 1)
        pool.parallelFor(split.count, self)
    }
    func runChunk(_ index: Int, worker: Int) {
        let (start, n) = split.range(index)
        ActivationGradient.apply(kind, dy: dy + start, y: y + start, dx: dx + start, count: n)
    }
}

/// Dropout in train mode: the mask is a counter-based hash of the run's seed, the node and the
/// element's logical (NCHW) index, so it matches the reference whatever the layout or threads.
final class DropoutTrainStep: ExecutionStep, ParallelTask, SeededStep {
    let x: FloatPointer, y: FloatPointer, mask: FloatPointer
    let node: String, p: Float, channels: Int, plane: Int, perSample: Int
    var seed: UInt64 = 0
    private var key: UInt64 = 0
    init(
        x: FloatPointer, y: FloatPointer, mask: FloatPointer, node: String, p: Float, channels: Int, plane: Int,
        perSample: Int
    ) {
        (self.x, self.y, self.mask, self.node, self.p, self.channels, self.plane, self.perSample) = (
            x, y, mask, node, p, channels, plane, perSample
        )
    }
    func run(batch: Int, pool: ThreadPool) {
        key = DropoutKeys.key(seed: seed, node: node)
        pool.parallelFor(batch, self)
    }
    func runChunk(_ n: Int, worker: Int) {
        let base = n * perSample
        for i in 0..<perSample {
            // Physical NHWC index i = pixel * channels + c; logical = c * plane + pixel.
            let logical = plane > 1 ? (i % channels) * plane + i / channels : i
            let m = ReferenceKernels.dropoutMask(key: key, index: base + logical, p: p)
            mask[base + i] = m
            y[base + i] = x[base + i] * m
        }
    }
}

/// Pooling gradients, one image per chunk.
final class PoolGradientStep: ExecutionStep, ParallelTask {
    enum Kind { case max, average(includePad: Bool), global }
    let kind: Kind
    let dy: FloatPointer, x: FloatPointer?, dx: FloatPointer
    let geometry: ConvGeometry
    init(_ kind: Kind, dy: FloatPointer, x: FloatPointer?, dx: FloatPointer, geometry: ConvGeometry) {
        (self.kind, self.dy, self.x, self.dx, self.geometry) = (kind, dy, x, dx, geometry)
    }
    func run(batch: Int, pool: ThreadPool) { pool.parallelFor(batch, self) }
    func runChunk(_ n: Int, worker: Int) {
        switch kind {
        case .max: PoolingGradient.max(image: n, dy: dy, x: x!, dx: dx, geometry)
        case .average(let includePad):
            PoolingGradient.average(image: n, dy: dy, dx: dx, geometry, countIncludePad: includePad)
        case .global:
            PoolingGradient.globalAverage(
                image: n, dy: dy, dx: dx, plane: geometry.inPlane, channels: geometry.inChannels)
        }
    }
}

/// A loss or a loss gradient (small; one thread).
final class LossStep: ExecutionStep {
    enum Kind {
        case crossEntropy, crossEntropyGrad(Float), meanError(squared: Bool), meanErrorGrad(squared: Bool, Float), tv,
            tvGrad(Float)
    }
    let kind: Kind
    let p: FloatPointer, t: FloatPointer?, out: FloatPointer
    let perSample: Int, width: Int, height: Int, channels: Int
    init(_ kind: Kind, p: FloatPointer, t: FloatPointer?, out: FloatPointer, perSample: Int, shape: [Int]) {
        (self.kind, self.p, self.t, self.out, self.perSample) = (kind, p, t, out, perSample)
        channels = shape.count > 1 ? shape[1] : 1
        height = shape.count == 4 ? shape[2] : 1
        width = shape.count == 4 ? shape[3] : 1
    }
    func run(batch: Int, pool: ThreadPool) {
        let count = batch * perSample
        switch kind {
        case .crossEntropy: out[0] = Losses.crossEntropy(logits: p, target: t!, rows: batch, classes: perSample)
        case .crossEntropyGrad(let scale):
            Losses.crossEntropyGradient(logits: p, target: t!, grad: out, rows: batch, classes: perSample, scale: scale)
        case .meanError(let squared): out[0] = Losses.meanError(p, t!, count: count, squared: squared)
        case .meanErrorGrad(let squared, let scale):
            Losses.meanErrorGradient(p, t!, out, count: count, squared: squared, scale: scale)
        case .tv: out[0] = Losses.totalVariation(p, n: batch, h: height, w: width, c: channels)
        case .tvGrad(let scale):
            Losses.totalVariationGradient(p, out, n: batch, h: height, w: width, c: channels, scale: scale)
        }
    }
}

final class WeightedSumStep: ExecutionStep {
    let terms: [FloatPointer], weights: [Float], out: FloatPointer
    init(terms: [FloatPointer], weights: [Float], out: FloatPointer) {
        (self.terms, self.weights, self.out) = (terms, weights, out)
    }
    func run(batch: Int, pool: ThreadPool) {
        var total: Float = 0
        for (t, w) in zip(terms, weights) { total += t[0] * w }
        out[0] = total
    }
}
