import Foundation
import ScionGraph
import ScionKernels
import ScionRuntime

/// Dynamic batching: concurrent requests to one model are coalesced into one executor run of
/// up to `maxBatch` samples, or whatever has arrived `maxDelay` after the first waiting request.
/// The wait is work-conserving: it lasts only while other requests to the model have arrived
/// but are still being read and parsed (`announce()`d, not yet submitted), so a lone request
/// runs at once instead of idling for `maxDelay`.
///
/// One worker thread per model runs the batches. Each batch runs on an executor planned for
/// its size bucket (1, 2, 4, ... up to `maxBatch`), so a lone request walks a small arena
/// rather than one laid out for 64 samples. Every sample is computed independently of its
/// batch-mates (inference graphs have no cross-sample ops), so each request gets back exactly
/// the outputs it would get alone.
final class BatchScheduler: @unchecked Sendable {
    struct Job {
        let input: [Float]
        let count: Int
        let arrived: ContinuousClock.Instant
        let continuation: CheckedContinuation<[String: [Float]], any Error>
    }

    let maxBatch: Int
    let maxDelay: Duration
    let outputs: [(name: String, perSample: Int)]
    private let makeExecutor: (Int) throws -> Executor
    private var executors: [Int: Executor] = [:]
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var queuedSamples = 0
    /// Requests announced but not yet submitted or withdrawn.
    private var announced = 0
    private var stopping = false
    /// Called with each executed batch's size (for metrics).
    var onBatch: (@Sendable (Int) -> Void)?

    /// Plans an executor for every bucket up front, so no request pays for compiling and a
    /// model that cannot run fails at start-up rather than on its first request.
    init(
        model: Model, maxBatch: Int, maxDelay: TimeInterval, threads: Int, name: String, precision: Precision = .fp32
    ) throws {
        self.maxBatch = maxBatch
        self.maxDelay = .nanoseconds(Int64(maxDelay * 1e9))
        outputs = model.graph.outputs.map { ($0, model.graph.values[$0]?.elementsPerSample ?? 0) }
        let pool = ThreadPool(threads: threads)
        makeExecutor = { try Executor(model: model, options: .init(maxBatch: $0, pool: pool, precision: precision)) }
        var size = 1
        while true {
            executors[size] = try makeExecutor(size)
            if size == maxBatch { break }
            size = min(size * 2, maxBatch)
        }
        // The thread holds the scheduler until `stop()` lets it drain and end.
        let thread = Thread { self.loop() }
        thread.name = "scion.batcher.\(name)"
        thread.start()
    }

    /// Says a request for this model has arrived; it will `submit` or `withdraw`.
    func announce() {
        condition.lock()
        announced += 1
        condition.unlock()
    }

    /// An announced request that will not submit (it failed before reaching the model).
    func withdraw() {
        condition.lock()
        announced = max(0, announced - 1)
        condition.signal()
        condition.unlock()
    }

    /// Runs `count` samples (NCHW floats) and returns each output's values for them. Counts as
    /// the arrival of an announced request.
    func submit(_ input: [Float], count: Int) async throws -> [String: [Float]] {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            announced = max(0, announced - 1)
            guard !stopping else {
                continuation.resume(throwing: ServeError.unavailable("the server is shutting down"))
                return
            }
            queue.append(Job(input: input, count: count, arrived: .now, continuation: continuation))
            queuedSamples += count
            condition.signal()
        }
    }

    /// Lets the queued work finish, then ends the worker thread; later submissions get a 503.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while let jobs = nextBatch() {
            run(jobs)
        }
    }

    /// Waits for work; returns the jobs of the next batch, or nil when stopped and drained.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            if stopping { return nil }
            condition.wait()
        }
        let deadline = Date().addingTimeInterval(max(0, Self.seconds(queue[0].arrived + maxDelay - .now)))
        while queuedSamples < maxBatch && announced > 0 && !stopping && Date() < deadline {
            _ = condition.wait(until: deadline)
        }
        var taken: [Job] = []
        var samples = 0
        while let job = queue.first, taken.isEmpty || samples + job.count <= maxBatch {
            taken.append(queue.removeFirst())
            samples += job.count
        }
        queuedSamples -= samples
        return taken
    }

    private func run(_ jobs: [Job]) {
        do {
            let total = jobs.reduce(0) { $0 + $1.count }
            let all = total <= maxBatch ? try runBatch(jobs.flatMap(\.input), count: total) : try runInChunks(jobs[0])
            var start = 0
            for job in jobs {
                var result: [String: [Float]] = [:]
                for (name, size) in outputs {
                    result[name] = Array(all[name, default: []][(start * size)..<((start + job.count) * size)])
                }
                job.continuation.resume(returning: result)
                start += job.count
            }
        } catch {
            for job in jobs { job.continuation.resume(throwing: error) }
        }
    }

    /// A single request larger than `maxBatch`: its chunks one after another.
    private func runInChunks(_ job: Job) throws -> [String: [Float]] {
        let perSample = job.input.count / job.count
        var all: [String: [Float]] = [:]
        for start in stride(from: 0, to: job.count, by: maxBatch) {
            let n = min(maxBatch, job.count - start)
            let part = try runBatch(Array(job.input[(start * perSample)..<((start + n) * perSample)]), count: n)
            for (name, _) in outputs { all[name, default: []].append(contentsOf: part[name, default: []]) }
        }
        return all
    }

    private func runBatch(_ input: [Float], count: Int) throws -> [String: [Float]] {
        onBatch?(count)
        let executor = try executor(for: count)
        try input.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { throw ServeError.badRequest("empty input") }
            try executor.run(batch: count, input: base)
        }
        var result: [String: [Float]] = [:]
        for (name, size) in outputs {
            var values = [Float](repeating: 0, count: count * size)
            values.withUnsafeMutableBufferPointer { executor.copyOutput(name, to: $0.baseAddress!, batch: count) }
            result[name] = values
        }
        return result
    }

    /// The executor of the smallest bucket holding `count` samples.
    private func executor(for count: Int) throws -> Executor {
        var bucket = 1
        while bucket < count { bucket *= 2 }
        bucket = min(bucket, maxBatch)
        if let executor = executors[bucket] { return executor }
        let executor = try makeExecutor(bucket)
        executors[bucket] = executor
        return executor
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
