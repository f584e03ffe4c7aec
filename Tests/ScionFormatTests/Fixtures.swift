import ScionFormat
import ScionGraph
import ScionZoo

/// Models the format tests write and read back.
enum Fixtures {
    static func model(_ arch: String, classes: Int = 10, input: [Int] = [3, 32, 32], seed: UInt64 = 1) throws -> Model {
        let net = try Zoo.classifier(try Architecture(parsing: arch), classes: classes, input: input)
        let metadata = ModelMetadata(
            modelName: arch, labels: (0..<classes).map { "class \($0)" },
            input: InputSpec(channels: input[0], height: input[1], width: input[2]))
        let step = LineageStep(operation: LineageStep.initialize, details: ["seed": .number(Double(seed)), "arch": .string(arch)])
        return Model(
            graph: net.graph, parameters: net.initialParameters(seed: seed), metadata: metadata,
            provenance: Provenance(lineage: [step]))
    }

    /// A few-kilobyte model, so random corruptions often land in HDF5 metadata.
    static func tiny() throws -> Model {
        var b = GraphBuilder(name: "tiny")
        let x = b.input("image", .batched([1, 4, 4]))
        let h = b.relu(b.batchNorm(b.conv2d(x, out: 2, kernel: 3, padding: 1, name: "conv"), name: "bn"))
        b.output(b.linear(b.flatten(h), out: 3, name: "fc"), as: "logits")
        let net = try b.finish()
        return Model(
            graph: net.graph, parameters: net.initialParameters(seed: 3),
            metadata: ModelMetadata(modelName: "tiny", labels: ["a", "b", "c"], input: InputSpec(channels: 1, height: 4, width: 4)))
    }
}

/// Writes a model file by hand through the HDF5 API, optionally broken in one way, to check
/// that the reader names each problem.
struct HandWrittenFile {
    var formatVersion: [Int64] = [1, 0]
    var graphJSON: String
    var skipParameter: String? = nil
    var float64Parameter: String? = nil
    var hash: String
    let model: Model

    init(_ model: Model) throws {
        self.model = model
        graphJSON = String(decoding: try model.graph.canonicalJSON(), as: UTF8.self)
        hash = try ContentHash.of(model)
    }

    func write(to path: String) throws {
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
                try wide.withUnsafeBytes { _ = try params.writeDataset(p.name, type: .float64, shape: p.shape, bytes: $0) }
            } else {
                try params.writeTensor(p.name, tensor)
            }
        }
        let meta = try root.createGroup("metadata")
        for key in ["model_name", "producer", "producer_version", "created"] {
            try meta.setAttribute(.string("x"), named: key)
        }
        let input = model.metadata.input
        try meta.setAttribute(.ints(input.shape.map { Int64($0) }), named: "input_shape")
        try meta.setAttribute(.floats(input.mean.map { Double($0) }), named: "mean")
        try meta.setAttribute(.floats(input.std.map { Double($0) }), named: "std")
        try file.close()
        try FileSeal.seal(path)
    }
}
