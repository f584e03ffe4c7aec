import ScionCompiler
import ScionGraph
import ScionKernels
import ScionRuntime

/// A model being trained: its training graph compiled once, run by one executor, and an
/// optimizer updating the executor's parameter store in place.
///
/// ```swift
/// let session = try TrainingSession(model: model, spec: spec, optimizer: adam, batchSize: 256, threads: 2)
/// let result = try session.step(batch, learningRate: 1e-3, seed: stepSeed)
/// let trained = session.currentModel()
/// ```
public final class TrainingSession: @unchecked Sendable {
    public let training: TrainingGraph
    public let executor: Executor
    public let optimizer: Optimizer
    public let batchSize: Int
    /// The processes training together (data parallelism); one by default.
    public let collective: any Collective
    private var model: Model
    /// Gradients and running statistics gathered for the allreduce (data parallelism), and the
    /// buckets it is cut into.
    let fusedParts: [FusedPart]
    let fusedOffsets: [String: Int]
    let fused: UnsafeMutableBufferPointer<Float>
    let buckets: [Bucket]
    /// The bucket size asked for (`init`'s `bucketBytes`).
    public let bucketBytes: Int
    /// A synchronised step's state: whether its run starts buckets, the next to start, and the
    /// shard's share of the batch.
    var reducing = false
    var nextBucket = 0
    var gradientScale: Float = 1
    /// Whether the processes have agreed that they train the same layout (checked on the first
    /// synchronised step).
    var layoutAgreed = false
    var communicationSeconds = 0.0
    /// Seconds the last step waited in collectives (0 alone): how much data parallelism costs,
    /// beyond what overlapped the backward pass.
    public internal(set) var lastCommunicationSeconds = 0.0

    /// Passes for training graphs: the graph is already minimal, so dead-node elimination,
    /// epilogue fusion (a convolution's residual add or activation, where the convolution's
    /// output has no other reader, forward or backward), gradient fusion (activation gradients
    /// and gradient sums into BatchNorm's backward) and in-place planning apply. Folding
    /// BatchNorm would freeze its statistics.
    public static let passes: [any CompilerPass] = [
        DeadNodeEliminationPass(), EpilogueFusionPass(), GradientFusionPass(), InPlacePass()
    ]

    /// `batchSize` is the most samples one process runs per step (its shard of the batch);
    /// `bucketBytes` the size of the gradient sums started during the backward pass (<= 0: one
    /// sum after it), when `collective` has several processes. `precision` `.bf16` runs the
    /// forward convolutions and their input gradients in BF16 where they run Winograd
    /// (`Precision`); weights, their gradients and the optimizer stay FP32.
    public init(
        model: Model, spec: TrainingSpec, optimizer: Optimizer, batchSize: Int, threads: Int,
        collective: any Collective = SingleProcess(), bucketBytes: Int = TrainingSession.defaultBucketBytes,
        precision: Precision = .fp32
    ) throws {
        training = try Autodiff.trainingGraph(for: model.graph, spec: spec)
        let parameters = model.parameters.merging(training.constants) { a, _ in a }
        let trainingModel = Model(
            graph: training.graph, parameters: parameters, metadata: model.metadata, provenance: model.provenance)
        executor = try Executor(
            model: trainingModel,
            options: .init(maxBatch: batchSize, threads: threads, passes: Self.passes, precision: precision))
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.collective = collective
        self.model = model
        fusedParts = collective.size > 1 ? Self.fusedParts(training, executor) : []
        fusedOffsets = Dictionary(fusedParts.map { ($0.output, $0.offset) }, uniquingKeysWith: { a, _ in a })
        fused = .allocate(capacity: fusedParts.last.map { $0.offset + $0.count } ?? 0)
        fused.initialize(repeating: 0)
        buckets = Self.buckets(fusedParts, bytes: bucketBytes)
        self.bucketBytes = bucketBytes
        if collective.size > 1 { executor.afterStep = { [unowned self] in try self.startReadyBuckets(after: $0) } }
    }

    deinit {
        // No sum may still be writing into the buffer (a step ends them, even when it throws).
        try? collective.finishReductions()
        fused.deallocate()
    }

    /// What one step produced.
    public struct StepResult: Sendable {
        public var losses: [String: Float]
        public var total: Float
        /// Samples whose kept logits' argmax equals the label (0 when logits are not kept).
        public var correct: Int
        /// Samples in the step (over all processes).
        public var samples: Int
    }

    /// Forward, backward and one optimizer update on `batch` (this process's shard of the step's
    /// batch, when training data-parallel). `seed` keys the step's dropout.
    public func step(_ batch: Batch, learningRate: Float, seed: UInt64) throws -> StepResult {
        let parallel = collective.size > 1
        let result = parallel ? try synchronizedStep(batch, seed: seed) : try forwardBackward(batch, seed: seed)
        let value = { (output: String) in parallel ? self.synchronized(output) : self.executor.outputPointer(output) }
        var gradients: [String: UnsafePointer<Float>] = [:]
        for (parameter, output) in training.parameterGradients { gradients[parameter] = value(output) }
        optimizer.step(parameters: executor.parameters, gradients: gradients, learningRate: learningRate)
        for (parameter, output) in training.runningStatistics {
            guard let source = value(output), let entry = executor.parameters.entries[parameter] else { continue }
            entry.pointer.update(from: source, count: entry.count)
        }
        executor.parametersDidChange()
        return result
    }

    /// Forward and backward only (gradients readable with `gradient(_:)` until the next run).
    public func forwardBackward(_ batch: Batch, seed: UInt64) throws -> StepResult {
        let n = batch.count
        var feeds: [[Float]] = []
        for name in training.graph.inputs {
            feeds.append(training.targetInputs.contains(name) ? batch.targets : batch.images)
        }
        try withPointers(feeds) { pointers in try executor.run(batch: n, inputs: pointers, seed: seed) }
        var losses: [String: Float] = [:]
        for (term, output) in training.losses { losses[term] = executor.outputPointer(output)?[0] ?? .nan }
        let total = executor.outputPointer(training.totalLoss)?[0] ?? .nan
        return StepResult(losses: losses, total: total, correct: correctPredictions(batch), samples: n)
    }

    /// The gradient of input or parameter `name` from the last run, in NCHW order.
    public func gradient(_ name: String, batch: Int) -> [Float]? {
        guard let output = training.inputGradients[name] ?? training.parameterGradients[name],
            let type = training.graph.values[output]
        else { return nil }
        var out = [Float](
            repeating: 0, count: type.isBatched ? type.elementCount(batch: batch) : type.elementCount(batch: 1))
        out.withUnsafeMutableBufferPointer { executor.copyOutput(output, to: $0.baseAddress!, batch: batch) }
        return out
    }

    /// The model with the current parameters and running statistics.
    public func currentModel() -> Model {
        var m = model
        for name in m.graph.parameters.map(\.name) {
            if let t = executor.parameters.tensor(name) { m.parameters[name] = t }
        }
        return m
    }

    /// Replaces the parameters (when resuming from a checkpoint).
    public func load(parameters: [String: Tensor]) {
        for (name, tensor) in parameters { executor.parameters.set(name, tensor.floats) }
        executor.parametersDidChange()
    }

    /// Samples predicted as their label, or, for a sample trained away from its label (a negative
    /// target there, `BatchLoader.unlearn`), predicted as anything else.
    private func correctPredictions(_ batch: Batch) -> Int {
        guard let logits = training.graph.outputs.first(where: { $0 == "logits" }),
            let p = executor.outputPointer(logits),
            let k = training.graph.values[logits]?.sampleShape.first
        else { return 0 }
        var correct = 0
        for n in 0..<batch.count {
            var best = 0
            for j in 1..<k where p[n * k + j] > p[n * k + best] { best = j }
            let label = Int(batch.labels[n])
            let unlearned = batch.targets.count == batch.count * k && batch.targets[n * k + label] < 0
            if (best == label) != unlearned { correct += 1 }
        }
        return correct
    }
}

/// Calls `body` with base pointers of `arrays` (kept alive for the call).
func withPointers<R>(_ arrays: [[Float]], _ body: ([UnsafePointer<Float>]) throws -> R) rethrows -> R {
    func recurse(_ i: Int, _ acc: [UnsafePointer<Float>]) throws -> R {
        if i == arrays.count { return try body(acc) }
        return try arrays[i].withUnsafeBufferPointer { try recurse(i + 1, acc + [$0.baseAddress!]) }
    }
    return try recurse(0, [])
}
