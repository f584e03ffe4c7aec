import CHDF5
import Foundation
import ScionGraph

/// Loading validates like ONNX's checker and GGUF's loader: format name and version, the graph
/// (known ops, SSA, no dangling references, shapes), each parameter's dtype and shape against
/// the graph, sizes against the file, and the content hash. Nothing read from the file is
/// trusted before it is checked.
extension ModelFile {
    /// Reads and validates the model at `path`.
    public static func read(_ path: String) throws -> Model {
        let fileSize = try checkFileExists(path)
        if case .damaged(let problem) = try FileSeal.verify(path) {
            throw ModelFileError.damaged(path: path, problem: problem)
        }
        return try HDF5.withLock {
            guard H5Fis_hdf5(path) > 0 else {
                H5Eclear2(scion_H5E_DEFAULT())
                throw ModelFileError.notHDF5(path: path)
            }
            let file: HDF5File
            do { file = try HDF5File.open(path) } catch let error as HDF5Error {
                throw ModelFileError.unreadable(path: path, detail: error.detail)
            }
            do {
                return try ModelReader(path: path, root: file.root, fileSize: fileSize).read()
            } catch let error as HDF5Error {
                throw ModelFileError.malformed(path: path, object: "/", problem: error.description)
            }
        }
    }

    /// The file's size; throws for a missing or empty file.
    static func checkFileExists(_ path: String) throws -> Int {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            throw ModelFileError.missingFile(path: path)
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size > 0 else { throw ModelFileError.emptyFile(path: path) }
        return size
    }
}

/// One validated read of a model file; holds the open root group for its lifetime.
struct ModelReader {
    let path: String
    let root: HDF5Group
    let fileSize: Int

    func read() throws -> Model {
        let minor = try checkFormat()
        let graphText = try text("graph", in: root, object: "/graph")
        let graph: Graph
        do { graph = try Graph(json: Array(graphText.utf8)) } catch {
            throw ModelFileError.malformed(path: path, object: "/graph", problem: "not a valid graph JSON: \(error)")
        }
        if minor > ModelFile.versionMinor,
            let unknown = graph.nodes.first(where: { OpRegistry.schema(for: $0.op) == nil })
        {
            throw ModelFileError.newerMinorWithUnknownOp(
                path: path, version: "\(ModelFile.versionMajor).\(minor)", op: unknown.op.rawValue)
        }
        do { try graph.verify() } catch let error as GraphError {
            throw ModelFileError.invalidGraph(path: path, error: error)
        }
        if let node = graph.nodes.first(where: { !ModelFile.storableOps.contains($0.op) }) {
            throw ModelFileError.invalidGraph(path: path, error: .unknownOp(node: node.name, op: node.op.rawValue))
        }
        let parameters = try readParameters(graph)
        let computed = ContentHash.compute(graphJSON: Array(graphText.utf8), graph: graph, parameters: parameters)
        let stored = try string("content_hash", on: root.object, object: "/")
        guard stored == computed else {
            throw ModelFileError.hashMismatch(path: path, stored: stored, computed: computed)
        }
        return Model(
            graph: graph, parameters: parameters, metadata: try readMetadata(), provenance: try readProvenance())
    }

    /// Checks the format name and major version; returns the minor version.
    private func checkFormat() throws -> Int {
        let format = try HDF5Attributes.read("format", on: root.object)
        guard case .string(ModelFile.formatName)? = format else {
            let found = format.map { "\($0)" } ?? "missing"
            throw ModelFileError.notAScionModel(path: path, found: found)
        }
        guard case .ints(let version)? = try HDF5Attributes.read("format_version", on: root.object), version.count == 2
        else {
            throw ModelFileError.malformed(
                path: path, object: "/", problem: "attribute 'format_version' must be two integers")
        }
        guard version[0] == ModelFile.versionMajor, version[1] >= 0 else {
            throw ModelFileError.unsupportedVersion(
                path: path, found: "\(version[0]).\(version[1])",
                supported: "\(ModelFile.versionMajor).0 to \(ModelFile.versionMajor).\(ModelFile.versionMinor)")
        }
        return Int(clamping: version[1])
    }

    private func readParameters(_ graph: Graph) throws -> [String: Tensor] {
        guard root.contains("parameters") else {
            if graph.parameters.isEmpty { return [:] }
            throw ModelFileError.missingParameter(path: path, name: graph.parameters[0].name)
        }
        let group = try root.openGroup("parameters")
        let declared = Set(graph.parameters.map(\.name))
        for name in try group.memberNames() where !declared.contains(name) {
            throw ModelFileError.unexpectedParameter(path: path, name: name)
        }
        // Declared sizes are bounded by the file before anything is allocated.
        let totalBytes = graph.parameters.reduce(0) { $0 &+ $1.elementCount &* $1.dtype.byteSize }
        guard totalBytes >= 0, totalBytes <= fileSize else {
            throw ModelFileError.malformed(
                path: path, object: "/parameters",
                problem: "the graph declares \(totalBytes) bytes of parameters but the file has \(fileSize)")
        }
        var out: [String: Tensor] = [:]
        for p in graph.parameters {
            out[p.name] = try readParameter(p, group)
        }
        return out
    }

    private func readParameter(_ p: ParameterInfo, _ group: HDF5Group) throws -> Tensor {
        guard group.contains(p.name) else { throw ModelFileError.missingParameter(path: path, name: p.name) }
        let dataset = try group.openDataset(p.name)
        let stored = try dataset.storedType()
        guard let type = stored.type, type == HDF5Type(p.dtype) else {
            throw ModelFileError.wrongDType(
                path: path, name: p.name, expected: p.dtype.rawValue, found: stored.description)
        }
        let shape = try dataset.shape()
        guard shape == p.shape else {
            throw ModelFileError.wrongShape(path: path, name: p.name, expected: p.shape, found: shape)
        }
        guard dataset.storageSize > 0 || p.elementCount == 0 else {
            throw ModelFileError.malformed(
                path: path, object: "/parameters/\(p.name)", problem: "the dataset holds no data")
        }
        switch p.dtype {
        case .float32: return Tensor(shape: shape, storage: .float32(try readArray(dataset, type, p.elementCount)))
        case .int32: return Tensor(shape: shape, storage: .int32(try readArray(dataset, type, p.elementCount)))
        case .uint8: return Tensor(shape: shape, storage: .uint8(try readArray(dataset, type, p.elementCount)))
        }
    }

    private func readArray<T: Numeric>(_ dataset: HDF5Dataset, _ type: HDF5Type, _ count: Int) throws -> [T] {
        var values = [T](repeating: 0, count: count)
        try values.withUnsafeMutableBytes { try dataset.read(as: type, into: $0) }
        return values
    }

    private func readMetadata() throws -> ModelMetadata {
        guard root.contains("metadata") else {
            throw ModelFileError.malformed(path: path, object: "/metadata", problem: "the group is missing")
        }
        let g = try root.openGroup("metadata")
        let shape = try ints("input_shape", on: g.object, object: "/metadata")
        guard shape.count == 3, shape.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
            throw ModelFileError.malformed(
                path: path, object: "/metadata", problem: "'input_shape' must be three positive extents C, H, W")
        }
        let mean = try floats("mean", on: g.object, object: "/metadata")
        let std = try floats("std", on: g.object, object: "/metadata")
        guard mean.count == shape[0], std.count == shape[0], std.allSatisfy({ $0 > 0 }) else {
            throw ModelFileError.malformed(
                path: path, object: "/metadata", problem: "'mean' and 'std' need one value per channel, std positive")
        }
        let labels =
            g.contains("labels") ? try g.openDataset("labels").readStrings(maxBytes: ModelFile.maxTextBytes) : []
        return ModelMetadata(
            modelName: try string("model_name", on: g.object, object: "/metadata"), labels: labels,
            input: InputSpec(channels: shape[0], height: shape[1], width: shape[2], mean: mean, std: std),
            producer: try string("producer", on: g.object, object: "/metadata"),
            producerVersion: try string("producer_version", on: g.object, object: "/metadata"),
            createdAt: try string("created", on: g.object, object: "/metadata"))
    }

    private func readProvenance() throws -> Provenance {
        guard root.contains("provenance") else { return Provenance() }
        let g = try root.openGroup("provenance")
        guard g.contains("lineage") else { return Provenance() }
        let text = try self.text("lineage", in: g, object: "/provenance/lineage")
        do {
            return Provenance(lineage: try JSONDecoder().decode([LineageStep].self, from: Data(text.utf8)))
        } catch {
            throw ModelFileError.malformed(
                path: path, object: "/provenance/lineage", problem: "not a valid lineage JSON: \(error)")
        }
    }

    /// The scalar string dataset `object` (its `name` in `group`), bounded by the file size.
    private func text(_ name: String, in group: HDF5Group, object: String) throws -> String {
        guard group.contains(name) else {
            throw ModelFileError.malformed(path: path, object: object, problem: "the dataset is missing")
        }
        let strings: [String]
        do {
            strings = try group.openDataset(name).readStrings(maxBytes: min(ModelFile.maxTextBytes, fileSize))
        } catch let error as HDF5Error {
            throw ModelFileError.malformed(path: path, object: object, problem: error.detail)
        }
        guard strings.count == 1 else {
            throw ModelFileError.malformed(path: path, object: object, problem: "expected one string")
        }
        return strings[0]
    }

    private func string(_ key: String, on object: HDF5Object, object name: String) throws -> String {
        guard case .string(let s) = try attribute(key, "a string", on: object, object: name) else { return "" }
        return s
    }

    private func ints(_ key: String, on object: HDF5Object, object name: String) throws -> [Int] {
        guard case .ints(let v) = try attribute(key, "integers", on: object, object: name) else { return [] }
        return v.map { Int(clamping: $0) }
    }

    private func floats(_ key: String, on object: HDF5Object, object name: String) throws -> [Float] {
        guard case .floats(let v) = try attribute(key, "numbers", on: object, object: name) else { return [] }
        return v.map { Float($0) }
    }

    /// Attribute `key`, which must exist and be `expected` ("a string", "integers", "numbers").
    private func attribute(_ key: String, _ expected: String, on object: HDF5Object, object name: String) throws
        -> HDF5AttributeValue
    {
        guard let value = try HDF5Attributes.read(key, on: object) else {
            throw ModelFileError.malformed(path: path, object: name, problem: "attribute '\(key)' is missing")
        }
        let found: String
        switch value {
        case .string: found = "a string"
        case .ints: found = "integers"
        case .floats: found = "numbers"
        }
        guard found == expected else {
            throw ModelFileError.malformed(
                path: path, object: name, problem: "attribute '\(key)' must be \(expected), found \(found)")
        }
        return value
    }
}
