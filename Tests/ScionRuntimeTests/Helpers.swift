import ScionCompiler
import ScionGraph
import ScionRuntime
import ScionZoo
import Testing

/// Shared fixtures for executor and pass tests.
enum Fixture {
    static func model(_ arch: Architecture, classes: Int = 10, input: [Int] = [3, 32, 32], seed: UInt64 = 5) throws
        -> Model
    {
        let net = try Zoo.classifier(arch, classes: classes, input: input)
        var params = net.initialParameters(seed: seed)
        // Give BatchNorm non-trivial statistics so folding is exercised.
        var rng = SeededGenerator(seed: seed &+ 1)
        for p in net.graph.parameters where p.role != .weight || p.shape.count == 1 {
            let values = (0..<p.elementCount).map { _ -> Float in
                switch p.role {
                case .runningVar: return Float(0.5 + rng.nextDouble())
                case .runningMean, .bias: return Float(rng.nextDouble() - 0.5) * 0.2
                default: return Float(0.8 + 0.4 * rng.nextDouble())
                }
            }
            params[p.name] = Tensor(shape: p.shape, values: values)
        }
        return Model(
            graph: net.graph, parameters: params,
            metadata: ModelMetadata(
                modelName: "\(arch)", labels: [],
                input: InputSpec(channels: input[0], height: input[1], width: input[2])))
    }

    static func input(_ shape: [Int], seed: UInt64 = 9) -> Tensor {
        var rng = SeededGenerator(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextDouble()) })
    }
}
