import Foundation
import ScionGraph
import ScionImage
import ScionServe
import ScionTestSupport
import Testing

/// Every endpoint of the Open Inference Protocol surface, over real HTTP on loopback.
@Suite struct EndpointTests {
    @Test func healthAndServerMetadata() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        let live = try await server.get("/v2/health/live")
        #expect(live.status == 200 && live.json["live"] as? Bool == true)
        let ready = try await server.get("/v2/health/ready")
        #expect(ready.status == 200 && ready.json["ready"] as? Bool == true)
        let meta = try await server.get("/v2")
        #expect(meta.json["name"] as? String == "scion")
        #expect((meta.json["extensions"] as? [String])?.contains("classify") == true)
        #expect(meta.headers["scion-unsanitized-models"] == nil)
        try await server.stop()
    }

    @Test func modelMetadataCarriesProvenance() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start(["clean:7=\(fixture.sanitizedPath)"])
        for path in ["/v2/models/clean", "/v2/models/clean/versions/7"] {
            let reply = try await server.get(path)
            #expect(reply.status == 200, "\(path)")
            #expect(reply.json["name"] as? String == "clean")
            #expect(reply.json["versions"] as? [String] == ["7"])
            let inputs = reply.json["inputs"] as? [[String: Any]]
            #expect(inputs?.first?["shape"] as? [Int] == [-1, 3, 16, 16])
            let parameters = reply.json["parameters"] as? [String: Any] ?? [:]
            #expect(parameters["sanitized"] as? Bool == true)
            #expect(parameters["lineage"] as? [String] == ["init", "graft", "replace"])
            #expect((parameters["acc"] as? Double).map { abs($0 - 0.91) < 1e-9 } == true)
            #expect((parameters["asr"] as? Double).map { abs($0 - 0.012) < 1e-9 } == true)
            #expect((parameters["clean_to_target"] as? Double).map { abs($0 - 0.008) < 1e-9 } == true)
            let ready = try await server.get(path + "/ready")
            #expect(ready.status == 200 && ready.json["ready"] as? Bool == true)
        }
        try await server.stop()
    }

    @Test func inferMatchesDirectExecution() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        let samples = [fixture.sample(seed: 1), fixture.sample(seed: 2), fixture.sample(seed: 3)]
        for path in ["/v2/models/clean/infer", "/v2/models/clean/versions/1/infer"] {
            let reply = try await server.post(path, json: LiveServer.inferBody(samples, shape: [3, 16, 16]))
            #expect(reply.status == 200, "\(reply.error ?? "")")
            #expect(reply.json["id"] as? String == "t")
            #expect(reply.json["model_name"] as? String == "clean")
            let outputs = reply.json["outputs"] as? [[String: Any]]
            #expect(outputs?.first?["shape"] as? [Int] == [3, 4])
            #expect(outputs?.first?["datatype"] as? String == "FP32")
            let got = logits(reply)
            for (i, sample) in samples.enumerated() {
                let want = try fixture.directLogits(sample)
                #expect(maxDifference(Array(got[(i * 4)..<(i * 4 + 4)]), want) < 1e-4)
            }
        }
        try await server.stop()
    }

    @Test func uint8InputIsPreprocessed() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        let pixels = (0..<(3 * 16 * 16)).map { Float(($0 * 37) % 256) }
        let reply = try await server.post(
            "/v2/models/clean/infer", json: LiveServer.inferBody([pixels], shape: [3, 16, 16], datatype: "UINT8"))
        #expect(reply.status == 200, "\(reply.error ?? "")")
        let normalized = pixels.map { ($0 / 255 - 0.5) / 0.25 }
        #expect(maxDifference(logits(reply), try fixture.directLogits(normalized)) < 1e-4)
        try await server.stop()
    }

    @Test func classifyAnswersTopLabels() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        let image = Image(width: 20, height: 12, channels: 3, pixels: (0..<(20 * 12 * 3)).map { UInt8(($0 * 7) % 256) })
        let png = try ImageCodec.encodePNG(image)
        let reply = try await server.send("POST", "/v2/models/clean/classify?top=2", body: png)
        #expect(reply.status == 200, "\(reply.error ?? "")")
        let predictions = reply.json["predictions"] as? [[String: Any]] ?? []
        #expect(predictions.count == 2)
        let probabilities = predictions.compactMap { $0["probability"] as? Double }
        #expect(probabilities.count == 2 && probabilities[0] >= probabilities[1])
        #expect((predictions.first?["label"] as? String)?.hasPrefix("class") == true)
        // Same answer as preprocessing and running the model directly.
        let direct = try fixture.directLogits(Preprocessing.input(from: image, spec: fixture.model.metadata.input))
        let best = direct.indices.max { direct[$0] < direct[$1] }
        #expect(predictions.first?["index"] as? Int == best)
        try await server.stop()
    }

    @Test func metricsCountRequestsErrorsAndBatches() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath])
        _ = try await server.post(
            "/v2/models/clean/infer", json: LiveServer.inferBody([fixture.sample(seed: 1)], shape: [3, 16, 16]))
        _ = try await server.get("/v2/models/nope")
        let text = String(decoding: try await server.get("/metrics").body, as: UTF8.self)
        #expect(text.contains("scion_requests_total{endpoint=\"infer\",model=\"clean\",status=\"200\"} 1"))
        #expect(
            text.contains("scion_request_errors_total{endpoint=\"model_metadata\",model=\"unknown\",status=\"404\"} 1"))
        #expect(text.contains("scion_request_duration_seconds_bucket"))
        #expect(text.contains("scion_batch_size_count 1"))
        let inFlight = text.split(separator: "\n").first { $0.hasPrefix("scion_requests_in_flight ") }.flatMap {
            Double($0.split(separator: " ").last ?? "")
        }
        #expect(inFlight == 1, "only the /metrics request itself")
        try await server.stop()
    }

    @Test func severalModelsAndVersions() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([
            "a:1=\(fixture.sanitizedPath)", "a:2=\(fixture.sanitizedPath)", "b=\(fixture.sanitizedPath)"
        ])
        #expect(try await server.get("/v2/models/a/versions/2").status == 200)
        #expect(try await server.get("/v2/models/b/ready").status == 200)
        let missing = try await server.get("/v2/models/a/versions/3")
        #expect(missing.status == 404 && missing.error?.contains("no model a version 3") == true)
        try await server.stop()
    }
}

/// The ready model committed in Models/ stays loadable and servable as the code changes.
@Suite struct ReadyModelTests {
    @Test func theCommittedDefendedModelServesSignedAndConsistent() async throws {
        let path = SharedData.packageRoot + "/Models/cifar10-wrn16-1-badnet_sq-defended.h5"
        let key = try String(
            contentsOfFile: SharedData.packageRoot + "/Models/keys/scion-models.pub.pem", encoding: .utf8)
        let server = try await LiveServer.start(
            ["wrn=\(path)"], ServerSettings(maxBatch: 8, maxDelayMilliseconds: 2, trustedKeys: [key]))
        let meta = try await server.get("/v2/models/wrn")
        let parameters = meta.json["parameters"] as? [String: Any] ?? [:]
        #expect(parameters["sanitized"] as? Bool == true)
        #expect(parameters["lineage_check"] as? String == "consistent")
        #expect(parameters["signer"] is String)
        #expect((parameters["acc"] as? Double).map { abs($0 - 0.8005) < 1e-9 } == true)
        let sample = [Float](repeating: 0.5, count: 3 * 32 * 32)
        let reply = try await server.post(
            "/v2/models/wrn/infer", json: LiveServer.inferBody([sample], shape: [3, 32, 32]))
        #expect(reply.status == 200, "\(reply.error ?? "")")
        #expect(logits(reply).count == 10 && logits(reply).allSatisfy(\.isFinite))
        try await server.stop()
    }
}
