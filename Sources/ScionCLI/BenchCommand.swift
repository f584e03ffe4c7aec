import ArgumentParser
import Foundation
import ScionFormat
import ScionGraph
import ScionRuntime

/// `scion bench`: inference latency and throughput of the compiled executor.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure median latency and images/s of a model (release builds only give real figures).")

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

    struct Row: Encodable {
        let batch: Int
        let latency_ms: Double
        let images_per_second: Double
    }

    func run() throws {
        let m = try ModelFile.read(model)
        let sizes = batches.isEmpty ? [1, 64] : batches
        guard sizes.allSatisfy({ $0 >= 1 }), iterations >= 1 else { throw UsageError("batch sizes and --iterations must be positive") }
        let executor = try Executor(model: m, options: .init(maxBatch: sizes.max()!, threads: threads))
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
                "model": AnyEncodable(model), "threads": AnyEncodable(threads ?? ProcessInfo.processInfo.activeProcessorCount),
                "results": AnyEncodable(rows), "peak_rss_mib": AnyEncodable(PeakMemory.mebibytes()),
            ])
        } else {
            for r in rows {
                print(String(format: "batch %4d  median %8.3f ms  %10.1f images/s", r.batch, r.latency_ms, r.images_per_second))
            }
            print(String(format: "peak memory (max RSS) %.1f MiB", PeakMemory.mebibytes()))
        }
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
