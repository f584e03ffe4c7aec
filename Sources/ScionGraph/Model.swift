import Foundation

/// A network ready to store, compile or train: graph, parameter data, metadata and lineage.
public struct Model: Sendable, Equatable {
    public var graph: Graph
    public var parameters: [String: Tensor]
    public var metadata: ModelMetadata
    public var provenance: Provenance

    public init(
        graph: Graph, parameters: [String: Tensor], metadata: ModelMetadata, provenance: Provenance = Provenance()
    ) {
        self.graph = graph
        self.parameters = parameters
        self.metadata = metadata
        self.provenance = provenance
    }

    /// Checks that every declared parameter has data of its declared dtype and shape, and that
    /// no undeclared data is present.
    public func validateParameters() throws {
        for p in graph.parameters {
            guard let t = parameters[p.name] else { throw GraphError.parameter(name: p.name, problem: "has no data") }
            guard t.dtype == p.dtype else {
                throw GraphError.parameter(
                    name: p.name, problem: "data is \(t.dtype.rawValue), declared \(p.dtype.rawValue)")
            }
            guard t.shape == p.shape else {
                throw GraphError.parameter(name: p.name, problem: "data has shape \(t.shape), declared \(p.shape)")
            }
        }
        for name in parameters.keys where graph.parameter(named: name) == nil {
            throw GraphError.parameter(name: name, problem: "has data but is not declared by the graph")
        }
    }
}

/// What a user of the model needs to feed it: the image it expects and its labels.
public struct ModelMetadata: Sendable, Equatable, Codable {
    public var modelName: String
    /// Class names in label order.
    public var labels: [String]
    public var input: InputSpec
    public var producer: String
    public var producerVersion: String
    /// Creation time, ISO 8601 in UTC.
    public var createdAt: String

    public init(
        modelName: String, labels: [String], input: InputSpec, producer: String = "scion",
        producerVersion: String = ScionVersion.string, createdAt: String = ScionVersion.timestamp()
    ) {
        self.modelName = modelName
        self.labels = labels
        self.input = input
        self.producer = producer
        self.producerVersion = producerVersion
        self.createdAt = createdAt
    }
}

/// The input image a model expects and how pixels become input values:
/// `x = (pixel / 255 - mean[c]) / std[c]` after resizing to `height × width`.
public struct InputSpec: Sendable, Equatable, Codable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var mean: [Float]
    public var std: [Float]

    public init(channels: Int, height: Int, width: Int, mean: [Float]? = nil, std: [Float]? = nil) {
        self.channels = channels
        self.height = height
        self.width = width
        self.mean = mean ?? Array(repeating: 0, count: channels)
        self.std = std ?? Array(repeating: 1, count: channels)
    }

    /// `[C, H, W]`.
    public var shape: [Int] { [channels, height, width] }
}

/// Scion's own version, written into every file it produces.
public enum ScionVersion {
    public static let string = "0.1.0"

    /// The current time as ISO 8601 UTC, e.g. `2026-11-24T20:00:00Z`.
    public static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }
}
