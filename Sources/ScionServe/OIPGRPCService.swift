import Foundation
import GRPCCore
import ScionGraph

/// The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`): health, metadata and
/// ModelInfer into the same dynamic batcher as REST. Tensors come as `raw_input_contents`
/// (little-endian bytes; the answer then uses `raw_output_contents`) or typed contents
/// (`fp32_contents`, or `uint_contents` for UINT8 pixels). Bad requests are INVALID_ARGUMENT,
/// unknown models NOT_FOUND, each with the message REST would give.
struct OIPGRPCService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let server: ScionServer

    func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws
        -> Inference_ServerLiveResponse
    { .with { $0.live = true } }

    func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws
        -> Inference_ServerReadyResponse
    { .with { $0.ready = true } }

    func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws
        -> Inference_ModelReadyResponse
    {
        _ = try model(request.name, request.version)
        return .with { $0.ready = true }
    }

    func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws
        -> Inference_ServerMetadataResponse
    {
        .with {
            $0.name = "scion"
            $0.version = ScionVersion.string
            $0.extensions = server.extensions
        }
    }

    func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws
        -> Inference_ModelMetadataResponse
    {
        let m = try model(request.name, request.version)
        let tensors = { (list: [ServedModel.TensorMetadata]) in
            list.map { d in
                Inference_ModelMetadataResponse.TensorMetadata.with {
                    $0.name = d.name
                    $0.datatype = d.datatype
                    $0.shape = d.shape.map(Int64.init)
                }
            }
        }
        return .with {
            $0.name = m.name
            $0.versions = [m.version]
            $0.platform = ServedModel.platform
            $0.inputs = tensors(m.inputMetadata)
            $0.outputs = tensors(m.outputMetadata)
        }
    }

    func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws
        -> Inference_ModelInferResponse
    {
        let m = try model(request.modelName, request.modelVersion)
        m.scheduler.announce()
        let parsed: GRPCInferRequest
        do { parsed = try rpc { try GRPCInferRequest(request, model: m) } } catch {
            m.scheduler.withdraw()
            throw error
        }
        let outputs = try await m.scheduler.submit(parsed.input, count: parsed.count)
        return parsed.response(outputs, model: m, id: request.id)
    }

    /// The model repository extension: the server's models are fixed at start-up.
    func repositoryModelLoad(request: Inference_RepositoryModelLoadRequest, context: ServerContext) async throws
        -> Inference_RepositoryModelLoadResponse
    { throw RPCError(code: .unimplemented, message: "models are loaded at start-up (scion serve MODEL...)") }

    func repositoryModelUnload(request: Inference_RepositoryModelUnloadRequest, context: ServerContext) async throws
        -> Inference_RepositoryModelUnloadResponse
    { throw RPCError(code: .unimplemented, message: "models are loaded at start-up (scion serve MODEL...)") }

    func model(_ name: String, _ version: String) throws -> ServedModel {
        try rpc { try server.model(name, version: version.isEmpty ? nil : version) }
    }

    /// Runs `body`, turning a `ServeError` into the gRPC status REST's HTTP status stands for.
    func rpc<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ServeError {
            throw RPCError(code: error.status == .notFound ? .notFound : .invalidArgument, message: error.message)
        }
    }
}
