import Foundation
import ScionGraph

/// Reads and writes Scion model files (HDF5, format `scion-model` 1.x; see docs/FORMAT.md).
///
/// ```swift
/// try ModelFile.write(model, to: "wrn.h5")
/// let loaded = try ModelFile.read("wrn.h5")   // validated: version, graph, dtypes, shapes, hash
/// ```
public enum ModelFile {
    public static let formatName = "scion-model"
    public static let versionMajor = 1
    public static let versionMinor = 1

    /// The ops a file may hold (the format's op table); compiler and training ops stay in memory.
    static let storableOps = Set(OpRegistry.forwardOps)

    /// Upper bound on the graph and provenance JSON (bytes), against hostile sizes.
    static let maxTextBytes = 256 << 20

    /// Writes `model` atomically (temporary file, then rename). `extra` may add groups to the
    /// root (checkpoints add `/training`); readers of models ignore them.
    public static func write(_ model: Model, to path: String, extra: ((HDF5Group) throws -> Void)? = nil) throws {
        try model.validateParameters()
        try model.graph.verify()
        if let node = model.graph.nodes.first(where: { !ModelFile.storableOps.contains($0.op) }) {
            throw ModelFileError.writeFailed(
                path: path,
                detail:
                    "node '\(node.name)' uses '\(node.op.rawValue)', an in-memory op (compiler or training) that files do not hold"
            )
        }
        let graphJSON = try model.graph.canonicalJSON()
        let hash = ContentHash.compute(graphJSON: graphJSON, graph: model.graph, parameters: model.parameters)
        let lineage = try String(decoding: JSONEncoder.sorted.encode(model.provenance.lineage), as: UTF8.self)
        try AtomicFile.write(to: path) { temporary in
            try HDF5.withLock {
                do {
                    let file = try HDF5File.create(temporary)
                    try writeContents(model, graphJSON: graphJSON, hash: hash, lineage: lineage, root: file.root)
                    try extra?(file.root)
                    try file.close()
                } catch let error as HDF5Error {
                    throw ModelFileError.writeFailed(path: path, detail: error.description)
                }
            }
            try FileSeal.seal(temporary)
        }
    }

    private static func writeContents(
        _ model: Model, graphJSON: [UInt8], hash: String, lineage: String, root: HDF5Group
    ) throws {
        try HDF5Attributes.write(.string(formatName), named: "format", on: root.object)
        try HDF5Attributes.write(
            .ints([Int64(versionMajor), Int64(versionMinor)]), named: "format_version", on: root.object)
        try HDF5Attributes.write(.string(hash), named: "content_hash", on: root.object)
        try root.writeStrings("graph", [String(decoding: graphJSON, as: UTF8.self)], scalar: true)

        let parameters = try root.createGroup("parameters")
        for p in model.graph.parameters {
            guard let tensor = model.parameters[p.name] else { continue }
            let dataset = try tensor.withRawBytes {
                try parameters.writeDataset(p.name, type: HDF5Type(p.dtype), shape: p.shape, bytes: $0)
            }
            try HDF5Attributes.write(.string(p.role.rawValue), named: "role", on: dataset.object)
            try HDF5Attributes.write(.ints([p.trainable ? 1 : 0]), named: "trainable", on: dataset.object)
        }
        try writeMetadata(model.metadata, into: try root.createGroup("metadata"))
        let provenance = try root.createGroup("provenance")
        try provenance.writeStrings("lineage", [lineage], scalar: true)
        try HDF5Attributes.write(
            .ints([model.provenance.headReplaced ? 1 : 0]), named: "head_replaced", on: provenance.object)
    }

    private static func writeMetadata(_ m: ModelMetadata, into group: HDF5Group) throws {
        for (key, value) in [
            ("model_name", m.modelName), ("producer", m.producer), ("producer_version", m.producerVersion),
            ("created", m.createdAt)
        ] {
            try HDF5Attributes.write(.string(value), named: key, on: group.object)
        }
        try HDF5Attributes.write(.ints(m.input.shape.map { Int64($0) }), named: "input_shape", on: group.object)
        try HDF5Attributes.write(.floats(m.input.mean.map { Double($0) }), named: "mean", on: group.object)
        try HDF5Attributes.write(.floats(m.input.std.map { Double($0) }), named: "std", on: group.object)
        try group.writeStrings("labels", m.labels)
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, for reproducible files.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}
