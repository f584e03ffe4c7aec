import ScionKernels

/// Train-mode BatchNorm: moments over static parts of the rows (deterministic), then
/// normalisation over row chunks.
final class BatchNormTrainStep: ExecutionStep, ParallelTask {
    let x: FloatPointer, y: FloatPointer, mean: FloatPointer, invstd: FloatPointer, newMean: FloatPointer,
        newVar: FloatPointer
    let scale: FloatPointer, bias: FloatPointer, runningMean: FloatPointer, runningVar: FloatPointer
    let channels: Int, rowsPerSample: Int, epsilon: Float, momentum: Float
    let activation: KernelActivation
    /// Per thread: partial moments (2 × channels doubles), then normalisation coefficients.
    let moments: UnsafeMutablePointer<Double>, coefficientsBase: FloatPointer
    private var phase = 0, partition = StaticPartition(total: 0, parts: 1)

    init(
        x: FloatPointer, outputs: [FloatPointer], parameters: [FloatPointer], channels: Int, rowsPerSample: Int,
        epsilon: Float, momentum: Float, activation: KernelActivation, threads: Int, workspace: FloatPointer
    ) {
        (self.x, y, mean, invstd, newMean, newVar) = (x, outputs[0], outputs[1], outputs[2], outputs[3], outputs[4])
        (scale, bias, runningMean, runningVar) = (parameters[0], parameters[1], parameters[2], parameters[3])
        (self.channels, self.rowsPerSample, self.epsilon, self.momentum) = (channels, rowsPerSample, epsilon, momentum)
        self.activation = activation
        let scratch = Self.scratch(channels: channels, threads: threads)
        moments = scratch.moments.pointer(in: workspace)
        coefficientsBase = scratch.coefficients.pointer(in: workspace)
    }

    static func scratch(channels: Int, threads: Int)
        -> (layout: ScratchLayout, moments: ScratchRegion<Double>, coefficients: ScratchRegion<Float>)
    {
        var layout = ScratchLayout()
        let moments = layout.region(Double.self, BatchNormTraining.scratchCount(channels: channels, parts: threads))
        let coefficients = layout.region(Float.self, 2 * channels * threads)
        return (layout, moments, coefficients)
    }

    func coefficients(_ worker: Int) -> FloatPointer { coefficientsBase + worker * 2 * channels }

    func run(batch: Int, pool: ThreadPool) {
        partition = StaticPartition(total: batch * rowsPerSample, parts: pool.threads)
        phase = 0
        pool.parallelFor(partition.parts, self)
        BatchNormTraining.finishMoments(
            scratch: moments, parts: partition.parts, channels: channels, rows: partition.total, epsilon: epsilon,
            momentum: momentum,
            runningMean: runningMean, runningVar: runningVar, mean: mean, invstd: invstd, newMean: newMean,
            newVar: newVar)
        phase = 1
        pool.parallelFor(partition.parts, self)
    }

    func runChunk(_ index: Int, worker: Int) {
        let rows = partition.range(index)
        if phase == 0 {
            BatchNormTraining.partialMoments(x, rows: rows, channels: channels, scratch: moments + index * 2 * channels)
        } else {
            BatchNormTraining.normalize(
                x, y, rows: rows, channels: channels, mean: mean, invstd: invstd, scale: scale, bias: bias,
                activation: activation, coefficients: coefficients(worker))
        }
    }
}

/// Backward of train-mode BatchNorm, optionally through the activation after it (`slope`: the
/// mask is recomputed from x and `bias`) and into a residual gradient.
final class BatchNormTrainGradStep: ExecutionStep, ParallelTask {
    let dy: FloatPointer, x: FloatPointer, scale: FloatPointer, mean: FloatPointer, invstd: FloatPointer
    let dx: FloatPointer, dscale: FloatPointer, dbias: FloatPointer
    let bias: FloatPointer?, slope: Float, residual: FloatPointer?
    let channels: Int, rowsPerSample: Int
    /// Per thread: partial gradient sums (2 × channels doubles); then the mask's coefficients.
    let scratch: UnsafeMutablePointer<Double>, maskCoefficients: FloatPointer
    private var phase = 0, partition = StaticPartition(total: 0, parts: 1)

    /// `inputs` as the op's: dy, x, scale, mean, invstd, then bias when `slope` is set, then the
    /// residual when `hasResidual`.
    init(
        inputs: [FloatPointer], outputs: [FloatPointer], slope: Float?, hasResidual: Bool, channels: Int,
        rowsPerSample: Int,
        threads: Int, workspace: FloatPointer
    ) {
        (dy, x, scale, mean, invstd) = (inputs[0], inputs[1], inputs[2], inputs[3], inputs[4])
        (dx, dscale, dbias) = (outputs[0], outputs[1], outputs[2])
        bias = slope == nil ? nil : inputs[5]
        self.slope = slope ?? 1
        residual = hasResidual ? inputs.last : nil
        (self.channels, self.rowsPerSample) = (channels, rowsPerSample)
        let layout = Self.scratch(channels: channels, threads: threads)
        scratch = layout.sums.pointer(in: workspace)
        maskCoefficients = layout.mask.pointer(in: workspace)
    }

    static func scratch(channels: Int, threads: Int) -> (
        layout: ScratchLayout, sums: ScratchRegion<Double>, mask: ScratchRegion<Float>
    ) {
        var layout = ScratchLayout()
        let sums = layout.region(Double.self, 2 * channels * threads)
        let mask = layout.region(Float.self, 2 * channels)
        return (layout, sums, mask)
    }

    private var mask: ActivationMask? {
        guard bias != nil else { return nil }
        return ActivationMask(coefficients: maskCoefficients, channels: channels, slope: slope)
    }

    func run(batch: Int, pool: ThreadPool) {
        partition = StaticPartition(total: batch * rowsPerSample, parts: pool.threads)
        if let bias, let mask {
            ActivationMask.fill(
                UnsafeMutablePointer(mutating: mask.coefficients), channels: channels, mean: mean, invstd: invstd,
                scale: scale, bias: bias)
        }
        phase = 0
        pool.parallelFor(partition.parts, self)
        BatchNormTraining.finishGradientSums(
            scratch: scratch, parts: partition.parts, channels: channels, dscale: dscale, dbias: dbias)
        phase = 1
        pool.parallelFor(partition.parts, self)
    }

    func runChunk(_ index: Int, worker: Int) {
        let rows = partition.range(index)
        if phase == 0 {
            BatchNormTraining.partialGradientSums(
                dy, x, rows: rows, channels: channels, mean: mean, invstd: invstd,
                scratch: scratch + index * 2 * channels, mask: mask)
        } else {
            BatchNormTraining.inputGradient(
                dy, x, dx, rows: rows, channels: channels, totalRows: partition.total, scale: scale, mean: mean,
                invstd: invstd,
                dscale: dscale, dbias: dbias, mask: mask, residual: residual.map { UnsafePointer($0) })
        }
    }
}

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

/// BatchNorm on running statistics, backward: `dx = dy · scale / sqrt(running_var + eps)`.
final class BatchNormEvalGradStep: ExecutionStep, ParallelTask {
    let dy: FloatPointer, dx: FloatPointer, scale: FloatPointer, variance: FloatPointer, coefficients: FloatPointer
    let channels: Int, rowsPerSample: Int, epsilon: Float
    private var split = RowSplit(rows: 0, threads: 1)
    init(
        dy: FloatPointer, dx: FloatPointer, scale: FloatPointer, variance: FloatPointer, channels: Int,
        rowsPerSample: Int, epsilon: Float, workspace: FloatPointer
    ) {
        (self.dy, self.dx, self.scale, self.variance, self.channels, self.rowsPerSample, self.epsilon) = (
            dy, dx, scale, variance, channels, rowsPerSample, epsilon
        )
        coefficients = workspace
    }
    func run(batch: Int, pool: ThreadPool) {
        for c in 0..<channels { coefficients[c] = scale[c] / (variance[c] + epsilon).squareRoot() }
        split = RowSplit(rows: batch * rowsPerSample, threads: pool.threads)
        pool.parallelFor(split.count, self)
    }
    func runChunk(_ index: Int, worker: Int) {
        let (r0, n) = split.range(index)
        Epilogue.apply(
            dx + r0 * channels, rows: n, channels: channels, stride: channels, scale: coefficients, activation: .none,
            input: dy + r0 * channels)
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
