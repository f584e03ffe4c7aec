import Foundation
import ScionServe
import ScionTestSupport
import Testing

/// Dynamic batching answers each request exactly as if it were sent alone, and shutdown lets
/// what is in flight finish.
@Suite struct BatchingTests {
    @Test func concurrentRequestsEqualSingleRequests() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start(
            [fixture.sanitizedPath], ServerSettings(maxBatch: 8, maxDelayMilliseconds: 20))
        // Requests of 1 to 3 samples; one of 11 exceeds --max-batch and runs in chunks.
        let sizes = [1, 2, 1, 3, 1, 1, 2, 11, 1, 3, 1, 2, 1, 1, 1, 2]
        let requests = sizes.enumerated().map { i, n in (0..<n).map { fixture.sample(seed: UInt64(100 * i + $0)) } }
        let replies = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, samples) in requests.enumerated() {
                group.addTask {
                    let reply = try await server.post(
                        "/v2/models/clean/infer", json: LiveServer.inferBody(samples, shape: [3, 16, 16]))
                    return (i, reply.status == 200 ? logits(reply) : [])
                }
            }
            var all = [[Float]](repeating: [], count: requests.count)
            for try await (i, values) in group { all[i] = values }
            return all
        }
        for (i, samples) in requests.enumerated() {
            let want = try samples.flatMap { try fixture.directLogits($0) }
            #expect(maxDifference(replies[i], want) < 1e-4, "request \(i)")
        }
        // Some requests shared a batch: fewer batches ran than requests were sent.
        let metrics = String(decoding: try await server.get("/metrics").body, as: UTF8.self)
        let batches = metrics.split(separator: "\n").first { $0.hasPrefix("scion_batch_size_count") }.flatMap {
            Int($0.split(separator: " ").last ?? "")
        }
        #expect(batches.map { $0 < sizes.count } == true, "\(metrics)")
        try await server.stop()
    }

    /// With a 10-minute --max-delay-ms, a request alone must still be answered: the scheduler
    /// waits only while other requests are arriving.
    @Test func aLoneRequestDoesNotWaitForBatchMates() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start(
            [fixture.sanitizedPath], ServerSettings(maxBatch: 8, maxDelayMilliseconds: 600_000))
        for seed in 0..<3 {
            let reply = try await server.post(
                "/v2/models/clean/infer",
                json: LiveServer.inferBody([fixture.sample(seed: UInt64(seed))], shape: [3, 16, 16]))
            #expect(reply.status == 200)
        }
        // A request that fails to parse does not leave the scheduler waiting for it.
        #expect(try await server.send("POST", "/v2/models/clean/infer", body: Data("{".utf8)).status == 400)
        #expect(
            try await server.post(
                "/v2/models/clean/infer", json: LiveServer.inferBody([fixture.sample(seed: 9)], shape: [3, 16, 16])
            ).status == 200)
        try await server.stop()
    }

    @Test func shutdownFinishesRequestsInFlight() async throws {
        let fixture = try ServeFixture(arch: .wideResNet(depth: 16, widen: 1), input: [3, 32, 32], classes: 10)
        let server = try await LiveServer.start(
            [fixture.sanitizedPath], ServerSettings(maxBatch: 4, maxDelayMilliseconds: 1))
        let body = try JSONSerialization.data(
            withJSONObject: LiveServer.inferBody((0..<16).map { fixture.sample(seed: UInt64($0)) }, shape: [3, 32, 32]))
        let inFlight = (0..<8).map { _ in Task { try await server.send("POST", "/v2/models/clean/infer", body: body) } }
        // Shut down once the server has received all eight (a fixed sleep raced with a loaded
        // machine: a connection whose request had not arrived yet is idle, and idle connections
        // are closed at shutdown).
        let deadline = ContinuousClock.now + .seconds(60)
        while try await inferRequestsReceived(server) < 8 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        try await server.running.shutdown()
        for task in inFlight {
            let reply = try await task.value
            #expect(reply.status == 200, "\(reply.error ?? "")")
            #expect(logits(reply).count == 16 * 10)
        }
        // The client retries a refused connection until its deadline: a short one.
        await #expect(throws: (any Error).self) {
            _ = try await server.send("GET", "/v2/health/live", body: nil, timeout: .seconds(2))
        }
    }

    /// Infer requests the server has received: those answered plus those in flight, less the
    /// `/metrics` request asking, which is in flight itself.
    func inferRequestsReceived(_ server: LiveServer) async throws -> Int {
        let text = String(decoding: try await server.get("/metrics").body, as: UTF8.self)
        var received = -1.0
        for line in text.split(separator: "\n") {
            let value = Double(line.split(separator: " ").last ?? "") ?? 0
            if line.hasPrefix("scion_requests_total{") && line.contains("endpoint=\"infer\"")
                || line.hasPrefix("scion_requests_in_flight ")
            {
                received += value
            }
        }
        return Int(received)
    }
}
