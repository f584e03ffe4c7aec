import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Wraps every request: errors become `{"error": ...}` JSON with their status (the server
/// never answers with a stack trace or drops the connection), each request is counted and
/// timed, logged with its outcome, and when unsanitized models are loaded every response says so.
struct ResponseMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: ScionServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let start = ContinuousClock.now
        server.metrics.inFlight.increment()
        defer { server.metrics.inFlight.decrement() }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as ServeError {
            response = JSONResponse.error(error.status, error.message)
        } catch let error as HTTPError {
            response = JSONResponse.error(
                error.status,
                error.status == .notFound
                    ? "no such endpoint: \(request.method) \(request.uri.path)" : (error.body ?? "\(error.status)"))
        } catch let error as any HTTPResponseError {
            let message =
                error.status == .contentTooLarge
                ? "the body exceeds the \(server.settings.maxBodyBytes / 1_048_576) MiB limit (--max-body-mb)"
                : "\(error.status)"
            response = JSONResponse.error(error.status, message)
        } catch {
            response = JSONResponse.error(.internalServerError, "\(error)")
        }
        let unsanitized = server.unsanitized
        if !unsanitized.isEmpty, let name = HTTPField.Name("Scion-Unsanitized-Models") {
            response.headers[name] = unsanitized.joined(separator: ",")
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let path = request.uri.path
        let endpoint = Self.endpoint(path)
        // Only served names become label values, so clients cannot grow the metric series.
        let named = path.hasPrefix("/v2/models/") ? String(path.dropFirst(11).split(separator: "/").first ?? "") : ""
        let model = named.isEmpty || server.models.contains(where: { $0.name == named }) ? named : "unknown"
        server.metrics.record(endpoint: endpoint, model: model, status: Int(response.status.code), seconds: seconds)
        server.logger.info(
            "request",
            metadata: [
                "method": "\(request.method)", "path": "\(path)", "status": "\(response.status.code)",
                "ms": "\(String(format: "%.2f", seconds * 1000))"
            ])
        return response
    }

    /// A low-cardinality label for a path.
    static func endpoint(_ path: String) -> String {
        if path.hasSuffix("/infer") { return "infer" }
        if path.hasSuffix("/classify") { return "classify" }
        if path.hasSuffix("/ready") { return path.hasPrefix("/v2/models") ? "model_ready" : "ready" }
        if path.hasPrefix("/v2/models/") { return "model_metadata" }
        if path.hasPrefix("/v2/health") { return "live" }
        if path == "/v2" { return "server_metadata" }
        if path == "/metrics" { return "metrics" }
        return "other"
    }
}

/// JSON responses.
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        make(["error": message], status: status)
    }
}
