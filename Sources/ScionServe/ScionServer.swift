import Foundation
import Hummingbird
import Logging
import NIOCore
import ScionGraph
import ScionImage
import ServiceLifecycle

/// The HTTP inference server: the Open Inference Protocol (KServe v2) REST surface over
/// sanitized Scion models, with dynamic batching, Prometheus metrics, structured logs and
/// graceful shutdown.
///
/// ```swift
/// let server = try ScionServer(models: ["runs/demo/sanitized.h5"], settings: ServerSettings(port: 8080))
/// try await server.run()          // until SIGTERM or SIGINT; in-flight requests finish
/// ```
public final class ScionServer: Sendable {
    public let settings: ServerSettings
    public let models: [ServedModel]
    let metrics: ServerMetrics
    let logger: Logger

    /// The protocol extensions `/v2` and gRPC's ServerMetadata name.
    var extensions: [String] {
        [
            "classify", "metrics", "binary_tensor_data",
            settings.allowUnsanitized ? "unsanitized_allowed" : "sanitized_only"
        ]
    }

    /// Loads `arguments` (`PATH`, `NAME=PATH` or `NAME:VERSION=PATH`). A model whose lineage
    /// shows no head replacement is refused unless `settings.allowUnsanitized`.
    public init(models arguments: [String], settings: ServerSettings, logger: Logger = Logger(label: "scion.serve"))
        throws
    {
        guard !arguments.isEmpty else { throw ServeError.badRequest("give at least one model") }
        var loaded: [ServedModel] = []
        for argument in arguments {
            let (name, version, path) = ServedModel.parse(argument)
            guard !loaded.contains(where: { $0.name == name && $0.version == version }) else {
                throw ServeError.badRequest("two models are named \(name) version \(version); name them NAME=PATH")
            }
            let model = try ServedModel(name: name, version: version, path: path, settings: settings)
            if !model.sanitized {
                logger.warning(
                    "serving an unsanitized model: it may carry a backdoor",
                    metadata: ["model": "\(name)", "lineage": "\(model.lineage)"])
            } else if model.signer == nil {
                logger.warning(
                    "the model's sanitization is self-declared: its lineage is not signed by a trusted key (--trusted-keys)",
                    metadata: ["model": "\(name)", "lineage_check": "\(model.lineageCheck)"])
            } else if case .unrecorded(let why) = model.lineageCheck {
                logger.warning(
                    "the model's sanitization is self-declared and its lineage cannot be checked",
                    metadata: ["model": "\(name)", "why": "\(why)"])
            }
            loaded.append(model)
        }
        models = loaded
        self.settings = settings
        self.logger = logger
        metrics = ServerMetrics()
        for model in models {
            let metrics = self.metrics
            model.scheduler.onBatch = { metrics.batchSize.record(Double($0)) }
        }
    }

    /// Names of the loaded models that were never sanitized.
    var unsanitized: [String] { models.filter { !$0.sanitized }.map(\.name) }

    /// Serves REST (and gRPC with `settings.grpcPort`) until SIGTERM or SIGINT, then stops
    /// accepting and finishes what is in flight on both.
    public func run() async throws {
        let app = makeApplication(port: settings.port) { [logger, settings] port in
            logger.info("listening", metadata: ["host": "\(settings.host)", "port": "\(port)", "protocol": "http"])
        }
        var services: [any Service] = [app]
        if let grpcPort = settings.grpcPort {
            services.append(GRPCEndpoint(self, host: settings.host, port: grpcPort))
            logger.info("listening", metadata: ["host": "\(settings.host)", "port": "\(grpcPort)", "protocol": "grpc"])
        }
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        shutdown()
        logger.info("stopped")
    }

    /// Starts serving REST on `port` and gRPC on `grpcPort` (0: any free port; nil: no gRPC)
    /// without signal handling; for tests and embedding.
    public func start(port: Int = 0, grpcPort: Int? = nil) async throws -> RunningServer {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = makeApplication(port: port) { continuation.yield($0) }
        let grpc = grpcPort.map { GRPCEndpoint(self, host: settings.host, port: $0) }
        let services: [any Service] = [app] + (grpc.map { [$0] } ?? [])
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        let task = Task { try await group.run() }
        var iterator = stream.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw ServeError.unavailable("the server did not start") }
        let grpcBound = try await grpc?.port
        return RunningServer(port: bound, grpcPort: grpcBound, group: group, task: task, server: self)
    }

    func shutdown() {
        for model in models { model.shutdown() }
    }

    func makeApplication(port: Int, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ResponseMiddleware(server: self))
        Routes(server: self).register(on: router)
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(settings.host, port: port), serverName: "scion/\(ScionVersion.string)"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// The model `name` (at `version`, when given), or a 404.
    func model(_ name: String?, version: String?) throws -> ServedModel {
        guard let name,
            let model = models.first(where: { $0.name == name && (version == nil || $0.version == version) })
        else {
            let known = models.map { "\($0.name) (version \($0.version))" }.joined(separator: ", ")
            throw ServeError.notFound(
                "no model \(name ?? "")\(version.map { " version \($0)" } ?? ""); this server has \(known)")
        }
        return model
    }
}

/// A server started with `ScionServer.start`.
public struct RunningServer: Sendable {
    public let port: Int
    public let grpcPort: Int?
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let server: ScionServer

    /// Stops accepting, lets in-flight requests finish, and waits for the server to end.
    public func shutdown() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        server.shutdown()
    }
}
