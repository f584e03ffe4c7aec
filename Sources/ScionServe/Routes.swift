import Foundation
import Hummingbird
import NIOCore
import ScionGraph
import ScionImage
import ScionRuntime

/// The endpoints: the Open Inference Protocol's health, server and model metadata, readiness
/// and inference, plus image classification and Prometheus metrics.
struct Routes {
    let server: ScionServer

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v2/health/live") { _, _ in JSONResponse.make(["live": true]) }
        router.get("/v2/health/ready") { _, _ in JSONResponse.make(["ready": true]) }
        router.get("/v2") { _, _ in
            JSONResponse.make(["name": "scion", "version": ScionVersion.string, "extensions": server.extensions])
        }
        for prefix in ["/v2/models/:name", "/v2/models/:name/versions/:version"] {
            router.get(RouterPath(prefix)) { _, context in
                JSONResponse.make(try model(context).metadata)
            }
            router.get(RouterPath(prefix + "/ready")) { _, context in
                JSONResponse.make(["name": try model(context).name, "ready": true])
            }
            router.post(RouterPath(prefix + "/infer")) { request, context in
                try await infer(request, model: try model(context))
            }
            router.post(RouterPath(prefix + "/classify")) { request, context in
                try await classify(request, model: try model(context))
            }
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: server.metrics.text)))
        }
    }

    func model(_ context: BasicRequestContext) throws -> ServedModel {
        try server.model(context.parameters.get("name"), version: context.parameters.get("version"))
    }

    func body(_ request: Request) async throws -> Data {
        let buffer = try await request.body.collect(upTo: server.settings.maxBodyBytes)
        return Data(buffer.readableBytesView)
    }

    func infer(_ request: Request, model: ServedModel) async throws -> Response {
        model.scheduler.announce()
        let parsed: InferenceCodec.Request
        do {
            let (json, binary) = try BinaryTensorExtension.split(
                try await body(request), headerLength: request.headers[BinaryTensorExtension.headerField])
            parsed = try InferenceCodec.parse(json, binary: binary, for: model)
        } catch {
            model.scheduler.withdraw()
            throw error
        }
        let outputs = try await model.scheduler.submit(parsed.input, count: parsed.count)
        let (data, headerLength) = try InferenceCodec.response(
            model, id: parsed.id, outputs: outputs, names: parsed.outputs, count: parsed.count,
            binary: parsed.binaryOutputs)
        var headers: HTTPFields = [.contentType: headerLength == nil ? "application/json" : "application/octet-stream"]
        if let headerLength { headers[BinaryTensorExtension.headerField] = String(headerLength) }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// PNG, JPEG or PPM bytes in; the top-k labels with probabilities out (`?top=k`, default 3).
    func classify(_ request: Request, model: ServedModel) async throws -> Response {
        model.scheduler.announce()
        let image: Image
        do { image = try await decodeImage(request) } catch {
            model.scheduler.withdraw()
            throw error
        }
        let input = Preprocessing.input(from: image, spec: model.model.metadata.input)
        let outputs = try await model.scheduler.submit(input, count: 1)
        let logits = outputs[model.model.graph.outputs[0]] ?? []
        let top = min(max(Int(request.uri.queryParameters.get("top") ?? "3") ?? 3, 1), logits.count)
        let ranked = RankedClass.top(top, of: logits[...], labels: model.model.metadata.labels)
        return JSONResponse.make([
            "model_name": model.name, "model_version": model.version,
            "predictions": ranked.map { ["label": $0.label, "index": $0.index, "probability": Double($0.probability)] }
        ])
    }

    func decodeImage(_ request: Request) async throws -> Image {
        let bytes = try await body(request)
        do {
            return try ImageCodec.decode(bytes, source: "the request body", maxPixels: server.settings.maxImagePixels)
        } catch let error as ImageError {
            if case .tooLarge = error { throw ServeError.tooLarge("\(error)") }
            throw ServeError.badRequest("\(error)")
        }
    }
}
