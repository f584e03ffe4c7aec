import Dispatch
import ScionRuntime

/// Data parallelism: each process runs a step on its shard of the batch, then the processes
/// agree on one update. Gradients are weighted by each shard's share of the batch and summed in
/// one fused buffer (one allreduce per step), so the update equals one process's on the whole
/// batch for models whose samples do not interact (BatchNorm normalises each shard by its own
/// statistics); BatchNorm's running statistics are averaged in the same buffer, so every
/// process keeps identical parameters.
extension TrainingSession {
    /// A part of the fused buffer: a training output and how it is combined.
    struct FusedPart {
        let output: String
        let offset: Int
        let count: Int
        /// A running statistic (averaged) rather than a gradient (weighted by share).
        let isStatistic: Bool
    }

    /// The fused buffer's parts: every parameter gradient, then every running statistic, in name
    /// order (the same on every process).
    static func fusedParts(_ training: TrainingGraph) -> [FusedPart] {
        let gradients = training.parameterGradients.values.sorted().map { ($0, false) }
        let statistics = training.runningStatistics.values.sorted().map { ($0, true) }
        var offset = 0
        return (gradients + statistics).map { output, isStatistic in
            let count = training.graph.values[output]?.elementCount(batch: 1) ?? 0
            defer { offset += count }
            return FusedPart(output: output, offset: offset, count: count, isStatistic: isStatistic)
        }
    }

    /// Agrees on the step's gradients, running statistics and counters across `collective`;
    /// returns the step's result over the whole batch. The agreed values are then read with
    /// `synchronized(_:)`.
    func synchronize(_ local: StepResult) throws -> StepResult {
        let terms = training.losses.keys.sorted(), n = Double(local.samples)
        let started = DispatchTime.now().uptimeNanoseconds
        if !layoutAgreed {
            // Once per session: the layout is fixed when the session is built.
            try collective.checkAgreement([Double(fused.count), Double(terms.count)], "gradient values and loss terms")
            layoutAgreed = true
        }
        var counters =
            [n, Double(local.total) * n, Double(local.correct)] + terms.map { Double(local.losses[$0] ?? 0) * n }
        try collective.allreduceSum(&counters)
        let total = counters[0]
        let share = Float(n / total), average = 1 / Float(collective.size)
        let copyStarted = DispatchTime.now().uptimeNanoseconds
        for part in fusedParts {
            guard let source = executor.outputPointer(part.output) else { continue }
            let scale = part.isStatistic ? average : share, target = fused.baseAddress! + part.offset
            for i in 0..<part.count { target[i] = source[i] * scale }
        }
        let packed = DispatchTime.now().uptimeNanoseconds
        try collective.allreduceSum(fused)
        // Communication only: the scaling copy between the two collectives is local work.
        let done = DispatchTime.now().uptimeNanoseconds
        lastCommunicationSeconds = Double(done - packed) / 1e9 + Double(copyStarted - started) / 1e9
        var losses: [String: Float] = [:]
        for (i, term) in terms.enumerated() { losses[term] = Float(counters[3 + i] / total) }
        return StepResult(
            losses: losses, total: Float(counters[1] / total), correct: Int(counters[2].rounded()),
            samples: Int(total.rounded()))
    }

    /// The agreed value of gradient or running-statistic output `name` after `synchronize`.
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
