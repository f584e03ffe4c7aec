import ScionFormat
import ScionGraph

/// Writes a model file by hand through the HDF5 API, optionally broken in one way, to check
/// that the reader names each problem.
public struct HandWrittenFile {
    public var formatVersion: [Int64] = [1, 0]
    public var graphJSON: String
    public var skipParameter: String? = nil
    public var float64Parameter: String? = nil
    /// Values written instead of the string metadata attributes (model_name, producer, ...).
    public var metadataOverrides: [String: HDF5AttributeValue] = [:]
    public var hash: String
    public let model: Model

    public init(_ model: Model) throws {
        self.model = model
        graphJSON = String(decoding: try model.graph.canonicalJSON(), as: UTF8.self)
        hash = try ContentHash.of(model)
    }

    public func write(to path: String) throws {
        let file = try HDF5File.create(path)
        let root = file.root
        try root.setAttribute(.string("scion-model"), named: "format")
        try root.setAttribute(.ints(formatVersion), named: "format_version")
        try root.setAttribute(.string(hash), named: "content_hash")
        try root.writeStrings("graph", [graphJSON], scalar: true)
        let params = try root.createGroup("parameters")
        for p in model.graph.parameters where p.name != skipParameter {
            let tensor = model.parameters[p.name]!
            if p.name == float64Parameter {
                let wide = tensor.floats.map { Double($0) }
                try wide.withUnsafeBytes {
                    _ = try params.writeDataset(p.name, type: .float64, shape: p.shape, bytes: $0)
                }
            } else {
                try params.writeTensor(p.name, tensor)
            }
        }
        let meta = try root.createGroup("metadata")
        for key in ["model_name", "producer", "producer_version", "created"] where metadataOverrides[key] == nil {
            try meta.setAttribute(.string("x"), named: key)
        }
        let input = model.metadata.input
        try meta.setAttribute(.ints(input.shape.map { Int64($0) }), named: "input_shape")
        try meta.setAttribute(.floats(input.mean.map { Double($0) }), named: "mean")
        try meta.setAttribute(.floats(input.std.map { Double($0) }), named: "std")
        for (key, value) in metadataOverrides { try meta.setAttribute(value, named: key) }
        try file.close()
        try FileSeal.seal(path)
    }
}
