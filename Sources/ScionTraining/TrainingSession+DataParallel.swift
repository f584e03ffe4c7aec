import Dispatch
import ScionRuntime

/// Data parallelism: each process runs a step on its shard of the batch, then the processes
/// agree on one update. Gradients are weighted by each shard's share of the batch and summed, so
/// the update equals one process's on the whole batch for models whose samples do not interact
/// (BatchNorm normalises each shard by its own statistics); BatchNorm's running statistics are
/// averaged alongside, so every process keeps identical parameters.
///
/// The values are summed in buckets of a fused buffer, each started (non-blocking) as soon as
/// the backward pass has written all its values, so the sums travel while the rest of the
/// backward pass computes; a model smaller than one bucket is summed in one piece at the end.
extension TrainingSession {
    /// A part of the fused buffer: a training output and how it is combined.
    struct FusedPart {
        let output: String
        let offset: Int
        let count: Int
        /// A running statistic (averaged) rather than a gradient (weighted by share).
        let isStatistic: Bool
        /// The executor step that writes it.
        let readyAfter: Int
    }

    /// Consecutive parts summed together, started once the step that writes the last has run.
    struct Bucket {
        let parts: Range<Int>
        let values: Range<Int>
        let readyAfter: Int
    }

    /// Buckets of 25 MiB by default, as torch DDP's: few enough that each sum's latency is
    /// small beside its transfer, many enough that most of the transfer overlaps the backward pass.
    public static let defaultBucketBytes = 25 << 20

    /// The fused buffer's parts: every parameter gradient and running statistic, in the order
    /// the executor writes them (the same on every process: the compiled graph is).
    static func fusedParts(_ training: TrainingGraph, _ executor: Executor) -> [FusedPart] {
        let gradients = training.parameterGradients.values.map { ($0, false) }
        let statistics = training.runningStatistics.values.map { ($0, true) }
        let ordered = (gradients + statistics).map { ($0.0, $0.1, executor.producingStep(of: $0.0) ?? -1) }
            .sorted { ($0.2, $0.0) < ($1.2, $1.0) }
        var offset = 0
        return ordered.map { output, isStatistic, step in
            let count = training.graph.values[output]?.elementCount(batch: 1) ?? 0
            defer { offset += count }
            return FusedPart(output: output, offset: offset, count: count, isStatistic: isStatistic, readyAfter: step)
        }
    }

    /// Cuts `parts` into buckets of at least `bytes` (the last may be smaller); `bytes` <= 0 makes
    /// one bucket, summed once the backward pass has finished.
    static func buckets(_ parts: [FusedPart], bytes: Int) -> [Bucket] {
        let floats = bytes > 0 ? max(1, bytes / MemoryLayout<Float>.stride) : Int.max
        var buckets: [Bucket] = [], first = 0
        for (i, part) in parts.enumerated() {
            let values = parts[first].offset..<(part.offset + part.count)
            guard values.count >= floats || i == parts.count - 1 else { continue }
            buckets.append(Bucket(parts: first..<(i + 1), values: values, readyAfter: part.readyAfter))
            first = i + 1
        }
        return buckets
    }

    /// Forward, backward and the processes' agreement: the step's gradients and running
    /// statistics summed over `collective` (read them with `synchronized(_:)`), and the step's
    /// result over the whole batch.
    func synchronizedStep(_ batch: Batch, seed: UInt64) throws -> StepResult {
        communicationSeconds = 0
        if !layoutAgreed {
            // Once per session: the layout is fixed when the session is built.
            // The buckets' edges too: each rank's non-blocking sums must match the others' in size.
            let layout = [
                fused.count, training.losses.count, buckets.count, buckets.reduce(0) { $0 + $1.values.upperBound }
            ]
            try timed {
                try collective.checkAgreement(layout.map(Double.init), "gradient values, loss terms and buckets")
            }
            layoutAgreed = true
        }
        var samples = [Double(batch.count)]
        try timed { try collective.allreduceSum(&samples) }
        gradientScale = Float(Double(batch.count) / samples[0])
        nextBucket = 0
        reducing = true
        defer { reducing = false }
        do {
            let local = try forwardBackward(batch, seed: seed)
            try startReadyBuckets(after: Int.max)
            let result = try agreedCounters(local)
            try timed { try collective.finishReductions() }
            lastCommunicationSeconds = communicationSeconds
            return result
        } catch {
            // Started sums still write into `fused`: let them end before anyone reuses or frees it.
            try? collective.finishReductions()
            throw error
        }
    }

    /// The executor's hook: starts the buckets whose values the steps so far have written, and
    /// lets those started advance.
    func startReadyBuckets(after step: Int) throws {
        guard reducing else { return }
        while nextBucket < buckets.count, buckets[nextBucket].readyAfter <= step {
            try start(buckets[nextBucket])
            nextBucket += 1
        }
        if nextBucket > 0 { try timed { try collective.progressReductions() } }
    }

    /// Copies a bucket's values into the fused buffer, scaled (gradients by the shard's share of
    /// the batch, statistics by 1 / processes), and starts their sum.
    private func start(_ bucket: Bucket) throws {
        let average = 1 / Float(collective.size)
        for part in fusedParts[bucket.parts] {
            guard let source = executor.outputPointer(part.output) else { continue }
            let scale = part.isStatistic ? average : gradientScale, target = fused.baseAddress! + part.offset
            for i in 0..<part.count { target[i] = source[i] * scale }
        }
        let values = UnsafeMutableBufferPointer(rebasing: fused[bucket.values])
        try timed { try collective.startAllreduceSum(values) }
    }

    /// The step's loss terms, total and correct predictions over all processes.
    private func agreedCounters(_ local: StepResult) throws -> StepResult {
        let terms = training.losses.keys.sorted(), n = Double(local.samples)
        var counters =
            [n, Double(local.total) * n, Double(local.correct)] + terms.map { Double(local.losses[$0] ?? 0) * n }
        try timed { try collective.allreduceSum(&counters) }
        let total = counters[0]
        var losses: [String: Float] = [:]
        for (i, term) in terms.enumerated() { losses[term] = Float(counters[3 + i] / total) }
        return StepResult(
            losses: losses, total: Float(counters[1] / total), correct: Int(counters[2].rounded()),
            samples: Int(total.rounded()))
    }

    /// Runs `body`, adding its seconds to the step's communication time.
    private func timed(_ body: () throws -> Void) rethrows {
        let started = DispatchTime.now().uptimeNanoseconds
        try body()
        communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
    }

    /// The agreed value of gradient or running-statistic output `name` after `synchronizedStep`.
    func synchronized(_ name: String) -> UnsafePointer<Float>? {
        fusedOffsets[name].map { UnsafePointer(fused.baseAddress! + $0) }
    }

    /// Copies rank 0's parameters and optimizer state to every process: call it at the start of
    /// a run and after a resume, so all processes begin from the same point.
    public func broadcastState() throws {
        guard collective.size > 1 else { return }
        let names = executor.parameters.names
        let floats = names.reduce(0) { $0 + (executor.parameters.entries[$1]?.count ?? 0) }
        try collective.checkAgreement([Double(names.count), Double(floats)], "parameter tensors and values")
        for name in names {
            guard let entry = executor.parameters.entries[name] else { continue }
            try collective.broadcast(UnsafeMutableBufferPointer(start: entry.pointer, count: entry.count), root: 0)
        }
        executor.parametersDidChange()
        try optimizer.broadcastState(over: collective)
    }
}

extension Optimizer {
    /// Copies rank 0's step count and state to every process. The others must hold state of the
    /// same layout (none at the start of a run; after a resume, the same checkpoint's).
    func broadcastState(over collective: any Collective) throws {
        let names = state.keys.sorted()
        let values = state.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } }
        try collective.checkAgreement(
            [Double(steps), Double(names.count), Double(values)],
            "optimizer steps, state tensors and values (every process must read the same checkpoint)")
        var restored = state
        for name in names {
            var arrays = state[name] ?? []
            for i in arrays.indices { try collective.broadcast(&arrays[i]) }
            restored[name] = arrays
        }
        restore(steps: steps, state: restored)
    }
}
