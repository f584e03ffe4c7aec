import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ScionFormat
import ScionGraph
import ScionRuntime
import ScionServe
import ScionTestSupport
import ScionZoo

/// Models on disk and a server on a loopback port, for tests over real HTTP.
final class ServeFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    let model: Model
    let sanitizedPath: String
    let unsanitizedPath: String

    /// A small sanitized CNN (lineage init -> graft) and the same network never sanitized.
    init(arch: Architecture = .cnnSmall, input: [Int] = [3, 16, 16], classes: Int = 4) throws {
        let net = try Zoo.classifier(arch, classes: classes, input: input)
        let labels = (0..<classes).map { "class\($0)" }
        var model = Model(
            graph: net.graph, parameters: net.initialParameters(seed: 3),
            metadata: ModelMetadata(
                modelName: "fixture", labels: labels,
                input: InputSpec(
                    channels: input[0], height: input[1], width: input[2], mean: Array(repeating: 0.5, count: input[0]),
                    std: Array(repeating: 0.25, count: input[0]))))
        model = try model.recording(LineageStep(operation: LineageStep.initialize))
        unsanitizedPath = directory.file("raw.h5")
        try ModelFile.write(model, to: unsanitizedPath)
        let hash = try ContentHash.of(model)
        model = try model.recording(LineageStep(operation: LineageStep.graft, parents: [hash]))
            .recording(
                LineageStep(
                    operation: LineageStep.replace, parents: [hash],
                    details: ["acc": .number(0.91), "asr": .number(0.012), "clean_to_target": .number(0.008)]))
        sanitizedPath = directory.file("clean.h5")
        try ModelFile.write(model, to: sanitizedPath)
        self.model = model
    }

    /// Logits of one sample computed directly, without the server.
    func directLogits(_ sample: [Float]) throws -> [Float] {
        let executor = try Executor(model: model, options: .init(maxBatch: 1, threads: 1))
        let out = try executor.run([
            model.graph.inputs[0]: Tensor(shape: [1] + model.metadata.input.shape, values: sample)
        ])
        return out[model.graph.outputs[0]]?.floats ?? []
    }

    func sample(seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        return (0..<model.metadata.input.shape.reduce(1, *)).map { _ in Float(rng.nextDouble() * 2 - 1) }
    }
}

/// A running server and a client talking to it.
struct LiveServer {
    let running: RunningServer
    /// The process-wide client: it needs no shutdown, so a test that throws before `stop()`
    /// fails alone instead of trapping in a private client's deinit and taking every test down.
    let client: HTTPClient
    var base: String { "http://127.0.0.1:\(running.port)" }

    static func start(
        _ models: [String], _ settings: ServerSettings = ServerSettings(maxBatch: 8, maxDelayMilliseconds: 2),
        grpc: Bool = false
    ) async throws -> LiveServer {
        var logger = Logger(label: "scion.serve.test")
        logger.logLevel = .error
        let server = try ScionServer(models: models, settings: settings, logger: logger)
        return LiveServer(
            running: try await server.start(port: 0, grpcPort: grpc ? 0 : nil), client: HTTPClient.shared)
    }

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var error: String? { json["error"] as? String }
    }

    func get(_ path: String) async throws -> Reply { try await send("GET", path, body: nil) }

    func post(_ path: String, json: Any) async throws -> Reply {
        try await send("POST", path, body: try JSONSerialization.data(withJSONObject: json))
    }

    func send(
        _ method: String, _ path: String, body: Data?, headers: [String: String] = [:],
        timeout: TimeAmount = .seconds(60)
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = .init(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return Reply(status: Int(response.status.code), headers: headers, body: Data(bytes.readableBytesView))
    }

    func stop() async throws {
        try await running.shutdown()
    }

    /// An infer request body for `samples` of `shape` (per sample).
    static func inferBody(_ samples: [[Float]], shape: [Int], name: String = "image", datatype: String = "FP32")
        -> [String: Any]
    {
        [
            "id": "t",
            "inputs": [
                [
                    "name": name, "shape": [samples.count] + shape, "datatype": datatype,
                    "data": samples.flatMap { $0 }.map(Double.init)
                ]
            ]
        ]
    }
}

/// The first output's values of an infer reply.
func logits(_ reply: LiveServer.Reply) -> [Float] {
    let outputs = reply.json["outputs"] as? [[String: Any]] ?? []
    return (outputs.first?["data"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.floatValue }
}
