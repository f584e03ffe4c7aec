import Crypto
import Foundation
import ScionGraph

/// The content hash of a model: SHA-256 over the graph's canonical JSON and every parameter's
/// data, so two files with the same network and weights share a hash whatever their metadata.
///
/// Hashed bytes, in order: the ASCII text `scion-content-v1` and a zero byte; the graph JSON as
/// stored; then, for each parameter in the graph's declared order, its elements as little-endian
/// bytes. Written as `sha256:` followed by 64 lowercase hex digits.
public enum ContentHash {
    public static let prefix = "sha256:"

    /// The hash of `graphJSON` and `parameters` (which must hold every declared parameter).
    public static func compute(graphJSON: [UInt8], graph: Graph, parameters: [String: Tensor]) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("scion-content-v1".utf8) + [0])
        hasher.update(data: graphJSON)
        for p in graph.parameters {
            parameters[p.name]?.withRawBytes { hasher.update(bufferPointer: $0) }
        }
        return prefix + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The hash of a model as it would be stored.
    public static func of(_ model: Model) throws -> String {
        compute(graphJSON: try model.graph.canonicalJSON(), graph: model.graph, parameters: model.parameters)
    }
}

/// SHA-256 of arbitrary bytes, as `sha256:` and 64 hex digits (for data fingerprints).
public enum Digest {
    public static func sha256(_ bytes: [UInt8]) -> String {
        ContentHash.prefix + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
