import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ScionFormat
import ScionGraph
import ScionTestSupport
import Testing

import ScionServe

/// The Open Inference Protocol over gRPC: a Swift client and NVIDIA's tritonclient against the
/// live server, raw and typed tensors, errors as status codes.
@Suite struct GRPCTests {
    static func withClient(
        _ server: LiveServer,
        _ body: (Inference_GRPCInferenceService.Client<HTTP2ClientTransport.Posix>) async throws -> Void
    ) async throws {
        let port = try #require(server.running.grpcPort)
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
        ) { client in
            try await body(Inference_GRPCInferenceService.Client(wrapping: client))
        }
    }

    @Test func swiftClientRawAndTypedTensors() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath], grpc: true)
        let samples = [fixture.sample(seed: 11), fixture.sample(seed: 12)]
        try await Self.withClient(server) { oip in
            #expect(try await oip.serverLive(.init()).live)
            #expect(try await oip.modelReady(.with { $0.name = "clean" }).ready)
            let meta = try await oip.modelMetadata(.with { $0.name = "clean" })
            #expect(meta.inputs.first?.shape == [-1, 3, 16, 16] && meta.outputs.first?.shape == [-1, 4])
            var request = Inference_ModelInferRequest.with {
                $0.modelName = "clean"
                $0.inputs = [
                    .with {
                        $0.name = "image"; $0.datatype = "FP32"; $0.shape = [2, 3, 16, 16]
                    }
                ]
            }
            request.rawInputContents = [BinaryTensorExtension.bytes(samples.flatMap { $0 })]
            let raw = try await oip.modelInfer(request)
            let got = try BinaryTensorExtension.values(
                try #require(raw.rawOutputContents.first), uint8: false, count: 8)
            request.rawInputContents = []
            request.inputs[0].contents.fp32Contents = samples.flatMap { $0 }
            let typed = try await oip.modelInfer(request)
            #expect(typed.outputs.first?.contents.fp32Contents == got && typed.outputs.first?.shape == [2, 4])
            for (i, sample) in samples.enumerated() {
                #expect(maxDifference(Array(got[(i * 4)..<(i * 4 + 4)]), try fixture.directLogits(sample)) < 1e-4)
            }
            await #expect(throws: RPCError.self) { _ = try await oip.modelMetadata(.with { $0.name = "nowhere" }) }
            do {
                request.inputs[0].shape = [2, 3, 8, 8]
                _ = try await oip.modelInfer(request)
                Issue.record("a wrong shape was accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains("does not match the model's input"))
            }
        }
        try await server.stop()
    }
}

@Suite(.enabled(if: TritonClient.grpcPython != nil, "tritonclient[grpc] is not installed (see .ci/run): skipping"))
struct TritonGRPCTests {
    @Test func tritonclientGRPC() async throws {
        let fixture = try ServeFixture()
        let server = try await LiveServer.start([fixture.sanitizedPath], grpc: true)
        let dir = TemporaryDirectory()
        let samples = [fixture.sample(seed: 13), fixture.sample(seed: 14)]
        try NPY.write(Tensor(shape: [2, 3, 16, 16], values: samples.flatMap { $0 }), to: dir.file("x.npy"))
        let result = try await ScionBinary.runToolOffPool([
            try #require(TritonClient.grpcPython), SharedData.packageRoot + "/tools/triton_grpc_check.py",
            "127.0.0.1:\(try #require(server.running.grpcPort))", "clean", dir.file("x.npy"), dir.file("y.npy")
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let y = try NPY.read(dir.file("y.npy"))
        for (i, sample) in samples.enumerated() {
            #expect(maxDifference(Array(y.floats[(i * 4)..<(i * 4 + 4)]), try fixture.directLogits(sample)) < 1e-4)
        }
        try await server.stop()
    }
}
