import Foundation
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

import ScionServe

/// The REST binary tensor extension: raw FP32 after a JSON header of
/// `Inference-Header-Content-Length` bytes, in requests and (when asked) in responses.
@Suite struct BinaryTensorTests {
    static func body(_ samples: [[Float]], binaryOutput: Bool) throws -> (Data, Int) {
        let values = samples.flatMap { $0 }
        var request: [String: Any] = [
            "inputs": [
                [
                    "name": "image", "shape": [samples.count, 3, 16, 16], "datatype": "FP32",
                    "parameters": ["binary_data_size": values.count * 4]
                ]
            ]
        ]
        if binaryOutput { request["parameters"] = ["binary_data_output": true] }
        let json = try JSONSerialization.data(withJSONObject: request)
        return (json + BinaryTensorExtension.bytes(values), json.count)
    }

    @Test func binaryInputAndOutputMatchDirectExecution() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        let samples = [fixture.sample(seed: 4), fixture.sample(seed: 5)]
        let (body, length) = try Self.body(samples, binaryOutput: true)
        let reply = try await server.send(
            "POST", "/v2/models/clean/infer", body: body, headers: [BinaryTensorExtension.header: String(length)])
        #expect(reply.status == 200, "\(String(decoding: reply.body, as: UTF8.self))")
        let headerLength = try #require(reply.headers[BinaryTensorExtension.header.lowercased()].flatMap { Int($0) })
        let header = try JSONSerialization.jsonObject(with: reply.body.prefix(headerLength)) as? [String: Any]
        let output = try #require((header?["outputs"] as? [[String: Any]])?.first)
        #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 2 * 4 * 4)
        #expect(output["data"] == nil)
        let got = try BinaryTensorExtension.values(reply.body.dropFirst(headerLength), uint8: false, count: 8)
        for (i, sample) in samples.enumerated() {
            #expect(maxDifference(Array(got[(i * 4)..<(i * 4 + 4)]), try fixture.directLogits(sample)) < 1e-4)
        }
        // Binary in, JSON out: the default without binary_data_output.
        let (plain, plainLength) = try Self.body(samples, binaryOutput: false)
        let json = try await server.send(
            "POST", "/v2/models/clean/infer", body: plain, headers: [BinaryTensorExtension.header: String(plainLength)])
        #expect(json.status == 200 && json.headers[BinaryTensorExtension.header.lowercased()] == nil)
        #expect(maxDifference(logits(json), got) < 1e-6)
        try await server.stop()
    }

    @Test func badBinaryRequestsAreRefused() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        let (body, length) = try Self.body([fixture.sample(seed: 6)], binaryOutput: false)
        let cases: [(Data, String, String)] = [
            (body, String(body.count + 1), "the body has"),
            (body.dropLast(4), String(length), "exceeds the"),
            (body + Data([0, 0, 0, 0]), String(length), "4 bytes of binary data are not claimed"),
            (body, "twelve", "Inference-Header-Content-Length is twelve")
        ]
        for (data, header, message) in cases {
            let reply = try await server.send(
                "POST", "/v2/models/clean/infer", body: data, headers: [BinaryTensorExtension.header: header])
            #expect(reply.status == 400 && (reply.error ?? "").contains(message), "\(reply.error ?? "")")
        }
        try await server.stop()
    }
}

/// NVIDIA's tritonclient against the live server, with its defaults (binary tensors both ways).
/// Its Python lives in its own venv (`.ci/run` makes `.build/triton-venv`; or set
/// SCION_TRITON_PYTHON); skipped without it.
enum TritonClient {
    static let python: String? = {
        let candidates = [
            ProcessInfo.processInfo.environment["SCION_TRITON_PYTHON"],
            SharedData.packageRoot + "/.build/triton-venv/bin/python"
        ].compactMap { $0 }
        return candidates.first { path in
            (try? ScionBinary.runTool([path, "-c", "import tritonclient.http, numpy"]))?.status == 0
        }
    }()

    /// The same venv with tritonclient's gRPC client.
    static let grpcPython: String? = python.flatMap { path in
        (try? ScionBinary.runTool([path, "-c", "import tritonclient.grpc"]))?.status == 0 ? path : nil
    }
}

@Suite(.enabled(if: TritonClient.python != nil, "tritonclient is not installed (see .ci/run): skipping"))
struct TritonClientTests {
    @Test func tritonclientHTTPWithBinaryDefaults() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        let dir = TemporaryDirectory()
        let samples = [fixture.sample(seed: 7), fixture.sample(seed: 8), fixture.sample(seed: 9)]
        try NPY.write(Tensor(shape: [3, 3, 16, 16], values: samples.flatMap { $0 }), to: dir.file("x.npy"))
        let result = try await ScionBinary.runToolOffPool([
            try #require(TritonClient.python), SharedData.packageRoot + "/tools/triton_client_check.py",
            "127.0.0.1:\(server.running.port)", "clean", dir.file("x.npy"), dir.file("y.npy")
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let y = try NPY.read(dir.file("y.npy"))
        #expect(y.shape == [3, 4])
        for (i, sample) in samples.enumerated() {
            #expect(maxDifference(Array(y.floats[(i * 4)..<(i * 4 + 4)]), try fixture.directLogits(sample)) < 1e-4)
        }
        try await server.stop()
    }
}
