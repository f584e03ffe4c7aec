import ArgumentParser
import Foundation
import Logging
import ScionServe
import ScionSigning

/// `scion serve`: the inference server (REST, and gRPC with `--grpc-port`).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve sanitized models over the Open Inference Protocol (KServe v2): REST and gRPC.",
        discussion: """
            Each model is PATH (named after the file), NAME=PATH, or NAME:VERSION=PATH.
            REST endpoints:
              GET  /v2/health/live, /v2/health/ready, /v2, /metrics
              GET  /v2/models/NAME[/versions/V], /v2/models/NAME[/versions/V]/ready
              POST /v2/models/NAME[/versions/V]/infer     FP32 or UINT8 [N, C, H, W]
                   tensors as JSON, or raw bytes (binary tensor extension)
              POST /v2/models/NAME[/versions/V]/classify  PNG, JPEG or PPM; ?top=K
            With --grpc-port, inference.GRPCInferenceService on that port too.
            Models whose lineage shows no head replacement are refused unless
            --allow-unsanitized.
            KServe: --model_dir DIR serves the single .h5 in DIR as --model_name
            (listening on 0.0.0.0); --http_port is --port, which defaults to $PORT;
            threads default to the container's CPU limit.
            SIGTERM or SIGINT stops accepting and finishes the requests in flight.
            """)

    @Argument(help: "Model files: PATH, NAME=PATH or NAME:VERSION=PATH.")
    var models: [String] = []

    @Option(help: "Address to listen on (default 127.0.0.1; 0.0.0.0 with --model_dir).")
    var host: String?

    @Option(
        name: [.customLong("port"), .customLong("http_port"), .customLong("http-port")],
        help: "Port to listen on (0: any free port; default $PORT, else 8080).")
    var port: Int?

    @Option(
        name: [.customLong("grpc-port"), .customLong("grpc_port")],
        help: "Also serve the Open Inference Protocol over gRPC on this port.")
    var grpcPort: Int?

    @Option(
        name: [.customLong("model_dir"), .customLong("model-dir")],
        help: "KServe's model folder (e.g. /mnt/models): serve the single .h5 in it, on every interface.")
    var modelDir: String?

    @Option(
        name: [.customLong("model_name"), .customLong("model-name")],
        help: "Name of the --model_dir model (default: its file name).")
    var modelName: String?

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

    @OptionGroup var precision: PrecisionOption

    @Option(name: .customLong("log-format"), help: "Log lines as text or json.")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    enum LogFormat: String, ExpressibleByArgument { case text, json }

    func validate() throws {
        guard !models.isEmpty || modelDir != nil else { throw ValidationError("give a model file or --model_dir") }
        guard port.map({ (0...65535).contains($0) }) ?? true else { throw ValidationError("--port must be 0...65535") }
        guard grpcPort.map({ (1...65535).contains($0) }) ?? true else {
            throw ValidationError("--grpc-port must be 1...65535")
        }
        guard modelName == nil || modelDir != nil else {
            throw ValidationError("--model_name names the --model_dir model")
        }
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
        var served = models
        if let modelDir {
            let path = try KServeConventions.model(in: modelDir)
            served.append(modelName.map { "\($0)=\(path)" } ?? path)
        }
        let settings = ServerSettings(
            host: host ?? (modelDir == nil ? "127.0.0.1" : "0.0.0.0"),
            port: try KServeConventions.port(option: port, environment: ProcessInfo.processInfo.environment),
            grpcPort: grpcPort,
            maxBatch: maxBatch, maxDelayMilliseconds: maxDelayMs, maxBodyMegabytes: maxBodyMb,
            allowUnsanitized: allowUnsanitized,
            trustedKeys: try trustedKeys.map { try SigningKeys.trusted(in: $0).map(\.pemRepresentation) } ?? [],
            threads: threads, precision: try precision.checked())
        let server = try ScionServer(models: served, settings: settings)
        try await server.run()
    }
}
