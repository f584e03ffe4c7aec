import GRPCCore
import GRPCNIOTransportHTTP2
import ServiceLifecycle

/// The gRPC listener beside the REST one, as a lifecycle service: it stops accepting and
/// finishes its calls when the service group shuts down (SIGTERM, SIGINT).
struct GRPCEndpoint: Service {
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    init(_ scion: ScionServer, host: String, port: Int) {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = scion.settings.maxBodyBytes  // follows --max-body-mb
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port), transportSecurity: .plaintext, config: config)
        server = GRPCServer(transport: transport, services: [OIPGRPCService(server: scion)])
    }

    /// The bound port, once listening.
    var port: Int {
        get async throws { try await server.listeningAddress?.ipv4?.port ?? 0 }
    }

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.serve()
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
        }
    }
}
