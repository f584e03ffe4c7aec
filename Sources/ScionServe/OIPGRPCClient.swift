import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// A minimal Open Inference Protocol gRPC client (raw tensors), for `scion load` and tests.
public struct OIPGRPCClient: Sendable {
    let client: Inference_GRPCInferenceService.Client<HTTP2ClientTransport.Posix>

    /// Connects to `host:port` (plaintext HTTP/2), runs `body`, then closes the connection.
    public static func with<T: Sendable>(
        host: String, port: Int, _ body: @Sendable (OIPGRPCClient) async throws -> T
    ) async throws -> T {
        try await withGRPCClient(
            transport: .http2NIOPosix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
        ) { grpc in
            try await body(OIPGRPCClient(client: Inference_GRPCInferenceService.Client(wrapping: grpc)))
        }
    }

    /// One ModelInfer call with FP32 `values` of `shape` as raw contents; the raw outputs' sizes.
    @discardableResult
    public func infer(model: String, input: String, shape: [Int], values: Data) async throws -> [Int] {
        var request = Inference_ModelInferRequest()
        request.modelName = model
        request.inputs = [
            .with {
                $0.name = input; $0.datatype = "FP32"; $0.shape = shape.map(Int64.init)
            }
        ]
        request.rawInputContents = [values]
        return try await client.modelInfer(request).rawOutputContents.map(\.count)
    }

    /// FP32 values as the raw bytes `infer` sends.
    public static func rawBytes(_ values: [Float]) -> Data { BinaryTensorExtension.bytes(values) }
}
