import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import ScionServe

/// `scion load`: a load generator for a running `scion serve` (or any Open Inference Protocol
/// server): closed-loop clients at each concurrency, reporting throughput and latency percentiles.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load-test an inference server: throughput, p50 and p99 latency at each concurrency.",
        discussion: """
            Each of C clients sends one infer request, waits for the answer, and sends
            the next (keep-alive connections). Requests carry --samples random FP32
            samples shaped as the model's metadata says: REST JSON, or raw tensors
            over gRPC with --grpc. Prints a table; --json writes the figures.
            """)

    @Option(help: "Server address.")
    var url = "http://127.0.0.1:8080"

    @Option(help: "Model name on the server.")
    var model: String

    @Option(help: "Comma-separated concurrency levels.")
    var concurrency = "1,16,64"

    @Option(help: "Seconds measured per level (after one second of warm-up).")
    var seconds = 10.0

    @Option(help: "Samples per request.")
    var samples = 1

    @Option(help: "Send the infer requests over gRPC to HOST:PORT (raw tensors) instead of REST JSON.")
    var grpc: String?

    @Option(help: "Write the results as JSON here.")
    var json: String?

    struct Level: Codable {
        let concurrency: Int
        let requests: Int
        let errors: Int
        let seconds: Double
        let requestsPerSecond: Double
        let p50Milliseconds: Double
        let p99Milliseconds: Double
    }

    func run() async throws {
        let levels = concurrency.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !levels.isEmpty, levels.allSatisfy({ (1...1024).contains($0) }) else {
            throw ValidationError("--concurrency takes numbers in 1...1024, e.g. 1,16,64")
        }
        guard seconds > 0, samples >= 1 else { throw ValidationError("--seconds and --samples must be positive") }
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(60)))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: levels.max() ?? 1)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let sample = try await sampleRequest(client)
            let results: [Level]
            if let grpc {
                let parts = grpc.split(separator: ":")
                guard parts.count == 2, let port = Int(parts[1]) else {
                    throw ValidationError("--grpc takes HOST:PORT")
                }
                let model = self.model
                results = try await OIPGRPCClient.with(host: String(parts[0]), port: port) { g in
                    try await self.measureLevels(levels) {
                        try await g.infer(model: model, input: sample.input, shape: sample.shape, values: sample.raw)
                        return true
                    }
                }
            } else {
                let target = "\(url)/v2/models/\(model)/infer"
                results = try await measureLevels(levels) {
                    var request = HTTPClientRequest(url: target)
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(sample.json)
                    let response = try await client.execute(request, timeout: .seconds(60))
                    _ = try await response.body.collect(upTo: 64 << 20)
                    return response.status == .ok
                }
            }
            if let json { try write(results, to: json) }
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Each level after a second of warm-up, printed as it finishes.
    func measureLevels(_ levels: [Int], send: @escaping @Sendable () async throws -> Bool) async throws -> [Level] {
        var results: [Level] = []
        print("concurrency  requests/s  p50 ms  p99 ms  errors")
        for level in levels {
            _ = await measure(clients: level, seconds: 1, send: send)
            let result = await measure(clients: level, seconds: seconds, send: send)
            results.append(result)
            print(
                String(
                    format: "%11d  %10.1f  %6.2f  %6.2f  %6d", level, result.requestsPerSecond,
                    result.p50Milliseconds, result.p99Milliseconds, result.errors))
        }
        return results
    }

    func write(_ results: [Level], to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let record = [
            "url": url, "model": model, "samples_per_request": String(samples),
            "protocol": grpc == nil ? "rest-json" : "grpc-raw",
            "date": ISO8601DateFormatter().string(from: Date())
        ]
        try encoder.encode(Report(settings: record, levels: results)).write(
            to: URL(fileURLWithPath: path), options: .atomic)
    }

    struct Report: Codable {
        let settings: [String: String]
        let levels: [Level]
    }

    /// One request's content: `samples` random samples shaped from the model's metadata, as
    /// REST JSON and as raw bytes for gRPC.
    struct SampleRequest: Sendable {
        let json: ByteBuffer
        let input: String
        let shape: [Int]
        let raw: Data
    }

    func sampleRequest(_ client: HTTPClient) async throws -> SampleRequest {
        let response = try await client.execute(
            HTTPClientRequest(url: "\(url)/v2/models/\(model)"), timeout: .seconds(10))
        let data = Data(try await response.body.collect(upTo: 16 << 20).readableBytesView)
        guard response.status == .ok, let meta = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let input = (meta["inputs"] as? [[String: Any]])?.first, let name = input["name"] as? String,
            let shape = input["shape"] as? [Int], shape.count >= 2
        else {
            throw UsageError(
                "\(url)/v2/models/\(model) answered \(response.status.code): \(String(decoding: data, as: UTF8.self))")
        }
        let perSample = shape.dropFirst().reduce(1, *)
        var rng = SystemRandomNumberGenerator()
        let values = (0..<(samples * perSample)).map { _ in Float.random(in: -1...1, using: &rng) }
        let full = [samples] + shape.dropFirst()
        let tensor: [String: Any] = ["name": name, "shape": full, "datatype": "FP32", "data": values.map(Double.init)]
        return SampleRequest(
            json: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["inputs": [tensor]])), input: name,
            shape: full, raw: OIPGRPCClient.rawBytes(values))
    }

    /// `clients` closed-loop clients calling `send` for `seconds`; latencies of the requests that
    /// finished in time (`send` returns false or throws for a failed one).
    func measure(clients: Int, seconds: Double, send: @escaping @Sendable () async throws -> Bool) async -> Level {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int64(seconds * 1000))
        let (latencies, errors) = await withTaskGroup(of: ([Double], Int).self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var latencies: [Double] = []
                    var errors = 0
                    while ContinuousClock.now < deadline {
                        let sent = ContinuousClock.now
                        if (try? await send()) == true {
                            latencies.append(Self.milliseconds(ContinuousClock.now - sent))
                        } else {
                            errors += 1
                        }
                    }
                    return (latencies, errors)
                }
            }
            var all: [Double] = []
            var errors = 0
            for await (part, failed) in group {
                all += part
                errors += failed
            }
            return (all.sorted(), errors)
        }
        let elapsed = Self.milliseconds(ContinuousClock.now - start) / 1000
        func percentile(_ p: Double) -> Double {
            latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))]
        }
        return Level(
            concurrency: clients, requests: latencies.count, errors: errors, seconds: elapsed,
            requestsPerSecond: Double(latencies.count) / elapsed, p50Milliseconds: percentile(0.5),
            p99Milliseconds: percentile(0.99))
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
