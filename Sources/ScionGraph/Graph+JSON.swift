import Foundation

/// The graph's JSON form, as stored in model files (see docs/FORMAT.md).
extension Graph {
    /// Canonical UTF-8 JSON: keys sorted, no insignificant whitespace, so equal graphs give equal
    /// bytes and the content hash is stable.
    public func canonicalJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// Decodes a graph from its JSON form. Throws `DecodingError` for malformed JSON; call
    /// `verify()` afterwards to check the graph itself.
    public init(json: [UInt8]) throws {
        self = try JSONDecoder().decode(Graph.self, from: Data(json))
    }
}

extension GraphBuilder {
    /// The handle of an already defined value (for continuing from a cut point).
    public func value(_ name: String) -> Value? {
        guard let type = graphSoFar.values[name] else { return nil }
        return Value(name: name, type: type)
    }
}
