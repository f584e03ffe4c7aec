import Foundation
import ScionKernels

/// How `scion serve` runs.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// The gRPC port (Open Inference Protocol over gRPC), nil for REST only.
    public var grpcPort: Int?
    public var maxBatch: Int
    public var maxDelay: TimeInterval
    public var maxBodyBytes: Int
    public var allowUnsanitized: Bool
    /// Public keys (PEM texts). When not empty, only models signed by one of these keys
    /// (`MODEL.sig` beside the file) are served, and the lineage their signature covers must show
    /// a new head.
    public var trustedKeys: [String]
    public var threads: Int
    /// Largest image (pixels) `classify` decodes.
    public var maxImagePixels: Int
    /// The convolutions' arithmetic (`Precision`).
    public var precision: Precision

    public init(
        host: String = "127.0.0.1", port: Int = 8080, grpcPort: Int? = nil, maxBatch: Int = 64,
        maxDelayMilliseconds: Double = 5,
        maxBodyMegabytes: Double = 16, allowUnsanitized: Bool = false, trustedKeys: [String] = [],
        threads: Int? = nil, maxImagePixels: Int = 16_000_000, precision: Precision = .fp32
    ) {
        self.trustedKeys = trustedKeys
        self.host = host
        self.port = port
        self.grpcPort = grpcPort
        self.maxBatch = max(1, maxBatch)
        self.maxDelay = max(0, maxDelayMilliseconds) / 1000
        self.maxBodyBytes = Int(maxBodyMegabytes * 1_048_576)
        self.allowUnsanitized = allowUnsanitized
        self.threads = max(1, threads ?? CPUBudget.threads)
        self.maxImagePixels = maxImagePixels
        self.precision = precision
    }
}
