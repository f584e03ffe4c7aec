import ScionFormat
import ScionGraph
import ScionTestSupport
import ScionZoo

/// Models the format tests write and read back.
enum Fixtures {
    static func model(_ arch: String, classes: Int = 10, input: [Int] = [3, 32, 32], seed: UInt64 = 1) throws -> Model {
        let net = try Zoo.classifier(try Architecture(parsing: arch), classes: classes, input: input)
        let metadata = ModelMetadata(
            modelName: arch, labels: (0..<classes).map { "class \($0)" },
            input: InputSpec(channels: input[0], height: input[1], width: input[2]))
        let step = LineageStep(
            operation: LineageStep.initialize, details: ["seed": .number(Double(seed)), "arch": .string(arch)])
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
            metadata: ModelMetadata(
                modelName: "tiny", labels: ["a", "b", "c"], input: InputSpec(channels: 1, height: 4, width: 4)))
    }
}
