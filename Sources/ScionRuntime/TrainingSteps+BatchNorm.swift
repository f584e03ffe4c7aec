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
