import ArgumentParser
import Foundation
import Logging
import ScionServe
import ScionSigning

/// `scion serve`: the HTTP inference server.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve sanitized models over HTTP (Open Inference Protocol, KServe v2 REST).",
        discussion: """
            Each model is PATH (named after the file), NAME=PATH, or NAME:VERSION=PATH. Endpoints:
              GET  /v2/health/live, /v2/health/ready, /v2, /metrics
              GET  /v2/models/NAME[/versions/V], /v2/models/NAME[/versions/V]/ready
              POST /v2/models/NAME[/versions/V]/infer     JSON tensors, FP32 or UINT8, [N, C, H, W]
              POST /v2/models/NAME[/versions/V]/classify  PNG, JPEG or PPM bytes; ?top=K
            Models whose lineage shows no head replacement are refused unless --allow-unsanitized.
            SIGTERM or SIGINT stops accepting and finishes the requests in flight.
            """)

    @Argument(help: "Model files: PATH, NAME=PATH or NAME:VERSION=PATH.")
    var models: [String]

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(name: .customLong("max-batch"), help: "Most samples coalesced into one run.")
    var maxBatch = 64

    @Option(name: .customLong("max-delay-ms"), help: "Longest a request waits for batch-mates, in milliseconds.")
    var maxDelayMs = 5.0

    @Option(name: .customLong("max-body-mb"), help: "Largest request body, in MiB.")
    var maxBodyMb = 16.0

    @Flag(name: .customLong("allow-unsanitized"), help: "Serve models that were never sanitized (responses say so).")
    var allowUnsanitized = false

    @Option(
        name: .customLong("trusted-keys"),
        help: "A folder of public keys (.pem): serve only models signed by one of them (MODEL.sig beside the model).")
    var trustedKeys: String?

    @Option(help: "Threads for the kernels (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("log-format"), help: "Log lines as text or json.")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    enum LogFormat: String, ExpressibleByArgument { case text, json }

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("give at least one model file") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard maxBatch >= 1, maxBatch <= 4096 else { throw ValidationError("--max-batch must be 1...4096") }
        guard maxDelayMs >= 0, maxDelayMs <= 10_000 else { throw ValidationError("--max-delay-ms must be 0...10000") }
        guard maxBodyMb > 0 else { throw ValidationError("--max-body-mb must be positive") }
        guard threads.map({ $0 >= 1 }) ?? true else { throw ValidationError("--threads must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        let format = logFormat
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let settings = ServerSettings(
            host: host, port: port, maxBatch: maxBatch, maxDelayMilliseconds: maxDelayMs, maxBodyMegabytes: maxBodyMb,
            allowUnsanitized: allowUnsanitized,
            trustedKeys: try trustedKeys.map { try SigningKeys.trusted(in: $0).map(\.pemRepresentation) } ?? [],
            threads: threads)
        let server = try ScionServer(models: models, settings: settings)
        try await server.run()
    }
}
