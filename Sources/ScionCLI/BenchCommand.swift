import ArgumentParser
import Foundation
import ScionKernels
import ScionFormat
import ScionGraph
import ScionRuntime
import ScionTraining

/// `scion bench`: inference latency and throughput of the compiled executor.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure median latency and images/s of a model (release builds only give real figures).")

    @Argument(help: "Model file (.h5).")
    var model: String

    @Option(name: .customLong("batch"), help: "Batch size; repeat for several (default 1 and 64).")
    var batches: [Int] = []

    @Option(help: "Threads for Scion's kernels (default: all cores).")
    var threads: Int?

    @Option(help: "Timed runs per batch size (after warm-up).")
    var iterations: Int = 50

    @Flag(help: "Print JSON.")
    var json = false

    @Flag(help: "Also print the time of each node at the largest batch.")
    var profile = false

    @Flag(
        help:
            "Measure training steps instead (forward, backward, Adam): a model with a `reconstruction` output trains with Trap-and-Replace's stage-1 loss CE + 10·MSE + 1·TV, others with cross-entropy."
    )
    var train = false

    @Option(name: .customLong("bucket-mb"), help: ProcessGroup.bucketHelp)
    var bucketMiB: Double?

    @OptionGroup var precision: PrecisionOption

    struct Row: Encodable {
        let batch: Int
        let latency_ms: Double
        let images_per_second: Double
    }

    func run() throws {
        let m = try ModelFile.read(model)
        if train { return try benchTraining(m) }
        let sizes = batches.isEmpty ? [1, 64] : batches
        guard sizes.allSatisfy({ $0 >= 1 }), iterations >= 1 else {
            throw UsageError("batch sizes and --iterations must be positive")
        }
        let executor = try Executor(
            model: m, options: .init(maxBatch: sizes.max()!, threads: threads, precision: try precision.checked()))
        var rows: [Row] = []
        for batch in sizes {
            let latency = try Self.medianLatency(executor, model: m, batch: batch, iterations: iterations)
            rows.append(Row(batch: batch, latency_ms: latency * 1000, images_per_second: Double(batch) / latency))
        }
        if profile, let batch = sizes.max() {
            for p in executor.profile(batch: batch, iterations: max(1, iterations / 5)) {
                note(String(format: "%9.3f ms  %-16@ %@", p.seconds * 1000, p.op as NSString, p.node as NSString))
            }
        }
        if json {
            try printJSON([
                "model": AnyEncodable(model),
                "threads": AnyEncodable(threads ?? CPUBudget.threads),
                "precision": AnyEncodable(precision.precision.lowercased()),
                "results": AnyEncodable(rows), "peak_rss_mib": AnyEncodable(PeakMemory.mebibytes())
            ])
        } else {
            for r in rows {
                print(
                    String(
                        format: "batch %4d  median %8.3f ms  %10.1f images/s", r.batch, r.latency_ms,
                        r.images_per_second))
            }
            print(String(format: "peak memory (max RSS) %.1f MiB", PeakMemory.mebibytes()))
        }
    }

    /// Training images/s: median step time over `iterations` steps after two warm-up steps.
    /// Under mpirun (MPI build) each rank steps on its shard of `--batch` and the figures are
    /// the whole batch's, with the collectives' share of a step.
    func benchTraining(_ m: Model) throws {
        let batch = batches.first ?? 256
        guard batch >= 1 else { throw UsageError("--batch must be positive") }
        let world = try ProcessGroup.world()
        let shard = (batch + world.size - 1) / world.size
        let spec = TrainingBench.spec(for: m.graph)
        let trainable = m.graph.parameters.filter(\.trainable).map(\.name)
        let optimizer = Optimizer(kind: .adam, groups: [.init(parameters: trainable, weightDecay: 5e-4)])
        let threadCount = threads ?? ProcessGroup.defaultThreads
        let session = try TrainingSession(
            model: m, spec: spec, optimizer: optimizer, batchSize: shard, threads: threadCount, collective: world,
            bucketBytes: try ProcessGroup.bucketBytes(bucketMiB), precision: try precision.checked())
        let data = TrainingBench.batch(for: m, size: shard)
        let steps = max(3, min(iterations, 20))
        for _ in 0..<2 { _ = try session.step(data, learningRate: 1e-3, seed: 0) }
        var times: [Double] = [], communication: [Double] = []
        for i in 0..<steps {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try session.step(data, learningRate: 1e-3, seed: UInt64(i))
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            communication.append(session.lastCommunicationSeconds)
        }
        guard world.isRoot else { return }
        let median = times.sorted()[times.count / 2], allreduce = communication.sorted()[communication.count / 2]
        let row = Row(batch: batch, latency_ms: median * 1000, images_per_second: Double(batch) / median)
        if json {
            try printJSON([
                "model": AnyEncodable(model), "mode": AnyEncodable("train"), "batch": AnyEncodable(batch),
                "processes": AnyEncodable(world.size), "threads": AnyEncodable(threadCount),
                "precision": AnyEncodable(precision.precision.lowercased()),
                "step_ms": AnyEncodable(row.latency_ms), "images_per_second": AnyEncodable(row.images_per_second),
                "allreduce_ms": AnyEncodable(allreduce * 1000), "bucket_bytes": AnyEncodable(session.bucketBytes),
                "peak_rss_mib": AnyEncodable(PeakMemory.mebibytes())
            ])
        } else {
            var line = String(
                format: "train batch %d  median step %.1f ms  %.1f images/s  peak memory %.1f MiB", batch,
                row.latency_ms, row.images_per_second, PeakMemory.mebibytes())
            if world.size > 1 {
                line += String(format: "  (%d processes; collectives %.2f ms of a step)", world.size, allreduce * 1000)
            }
            print(line)
        }
        if profile { Self.profileTraining(session, batch: batch) }
    }

    /// The nodes of a training step, then the refresh of packed weights after an update, which
    /// runs outside them (the optimizer's own loop is not timed).
    static func profileTraining(_ session: TrainingSession, batch: Int) {
        for p in session.executor.profile(batch: batch, iterations: 2).prefix(400) {
            note(String(format: "%9.3f ms  %-22@ %@", p.seconds * 1000, p.op as NSString, p.node as NSString))
        }
        var refreshes: [Double] = []
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            session.executor.parametersDidChange()
            refreshes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        note(
            String(
                format: "%9.3f ms  %-22@ %@", refreshes.sorted()[2] * 1000, "refresh",
                "packed weights, after each update"))
    }

    /// Median seconds per run after warm-up, on random inputs.
    static func medianLatency(_ executor: Executor, model: Model, batch: Int, iterations: Int) throws -> Double {
        let perSample = model.graph.values[model.graph.inputs[0]]?.elementsPerSample ?? 0
        var rng = SeededGenerator(seed: 1)
        let input = (0..<(batch * perSample)).map { _ in Float(rng.nextDouble()) }
        return try input.withUnsafeBufferPointer { x in
            for _ in 0..<max(3, iterations / 10) { try executor.run(batch: batch, input: x.baseAddress!) }
            var times: [Double] = []
            for _ in 0..<iterations {
                let start = DispatchTime.now().uptimeNanoseconds
                try executor.run(batch: batch, input: x.baseAddress!)
                times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return times.sorted()[times.count / 2]
        }
    }
}

/// Wraps any `Encodable` so heterogeneous JSON objects can be printed.
struct AnyEncodable: Encodable {
    let value: any Encodable
    init(_ value: any Encodable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}

/// The process's peak resident memory so far (VmHWM), in MiB.
enum PeakMemory {
    static func mebibytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return .nan }
        return kib / 1024
    }
}

/// Synthetic training work for `scion bench --train`.
enum TrainingBench {
    static func spec(for graph: Graph) -> TrainingSpec {
        var losses = [LossTerm("ce", .crossEntropy, prediction: graph.outputs[0], target: .input("target"))]
        if graph.outputs.contains("reconstruction") {
            losses.append(
                LossTerm("mse", .mse, prediction: "reconstruction", target: .value(graph.inputs[0]), weight: 10))
            losses.append(LossTerm("tv", .totalVariation, prediction: "reconstruction", target: .none, weight: 1))
        }
        return TrainingSpec(losses: losses)
    }

    static func batch(for model: Model, size: Int) -> Batch {
        var rng = SeededGenerator(seed: 1)
        let perSample = model.graph.values[model.graph.inputs[0]]?.elementsPerSample ?? 0
        let classes = model.graph.values[model.graph.outputs[0]]?.sampleShape.first ?? 1
        let labels = (0..<size).map { _ in Int32(rng.nextInt(below: classes)) }
        var targets = [Float](repeating: 0, count: size * classes)
        for (n, label) in labels.enumerated() { targets[n * classes + Int(label)] = 1 }
        return Batch(
            images: (0..<(size * perSample)).map { _ in Float(rng.nextDouble()) }, targets: targets, labels: labels)
    }
}
