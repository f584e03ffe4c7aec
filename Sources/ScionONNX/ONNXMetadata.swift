import Foundation
import ScionFormat
import ScionGraph

/// What ONNX has no field for, kept in `metadata_props` as `scion.*` entries (JSON values):
/// the model's name, labels, preprocessing and creation time, its cut points, its lineage (whose
/// steps carry content hashes), its own content hash, and the graph as Scion stores it, which
/// holds what ONNX cannot say (parameter roles, trainable flags, attributes as written).
enum ONNXMetadata {
    static let prefix = "scion."

    struct Stored {
        var metadata: ModelMetadata?
        var provenance = Provenance()
        var cutPoints: [CutPoint] = []
        var graph: Graph?
        var contentHash: String?
    }

    static func entries(of model: Model) throws -> [Onnx_StringStringEntryProto] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) throws -> String {
            String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        let pairs: [(String, String)] = [
            ("model_name", model.metadata.modelName),
            ("labels", try json(model.metadata.labels)),
            ("input", try json(model.metadata.input)),
            ("created_at", model.metadata.createdAt),
            ("cut_points", try json(model.graph.cutPoints)),
            ("lineage", try json(model.provenance)),
            ("content_hash", try ContentHash.of(model)),
            ("graph", String(decoding: try model.graph.canonicalJSON(), as: UTF8.self))
        ]
        return pairs.map { key, value in
            .with {
                $0.key = prefix + key; $0.value = value
            }
        }
    }

    /// The `scion.*` entries of a file; absent or unreadable entries are left out (a file from
    /// another exporter has none).
    static func read(_ entries: [Onnx_StringStringEntryProto]) -> Stored {
        var props: [String: String] = [:]
        for e in entries where e.key.hasPrefix(prefix) { props[String(e.key.dropFirst(prefix.count))] = e.value }
        func decode<T: Decodable>(_ key: String, as: T.Type) -> T? {
            props[key].flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
        }
        var stored = Stored()
        if let name = props["model_name"], let labels = decode("labels", as: [String].self),
            let input = decode("input", as: InputSpec.self)
        {
            stored.metadata = ModelMetadata(
                modelName: name, labels: labels, input: input,
                createdAt: props["created_at"] ?? ScionVersion.timestamp())
        }
        stored.provenance = decode("lineage", as: Provenance.self) ?? Provenance()
        stored.cutPoints = decode("cut_points", as: [CutPoint].self) ?? []
        stored.graph = props["graph"].flatMap { try? Graph(json: Array($0.utf8)) }
        stored.contentHash = props["content_hash"]
        return stored
    }
}
