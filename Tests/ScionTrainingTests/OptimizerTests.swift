import ScionGraph
import ScionRuntime
import ScionTraining
import Testing

/// Three steps on a three-element parameter with gradients g, 2g, 3g; expected values from
/// PyTorch 2.13 (`torch.optim`).
@Suite struct OptimizerTests {
    func run(_ kind: Optimizer.Kind, lr: Float, wd: Float) throws -> [Float] {
        // A graph only to hold the parameter `fc.weight` ([1, 3]) in an executor's store.
        var b = GraphBuilder(name: "p")
        b.output(b.linear(b.input("x", .batched([3])), out: 1, bias: false, name: "fc"))
        let net = try b.finish()
        let executor = try Executor(
            model: Model(
                graph: net.graph, parameters: ["fc.weight": Tensor(shape: [1, 3], values: [1, -2, 0.5])],
                metadata: ModelMetadata(modelName: "p", labels: [], input: InputSpec(channels: 1, height: 1, width: 1))),
            options: .init(maxBatch: 1, threads: 1, passes: []))
        let optimizer = Optimizer(kind: kind, groups: [.init(parameters: ["fc.weight"], weightDecay: wd)])
        for s in 1...3 {
            let g: [Float] = [0.1, -0.2, 0.3].map { $0 * Float(s) }
            g.withUnsafeBufferPointer {
                optimizer.step(
                    parameters: executor.parameters, gradients: ["fc.weight": $0.baseAddress!], learningRate: lr)
            }
        }
        return executor.parameters.tensor("fc.weight")!.floats
    }

    @Test func matchesPyTorch() throws {
        let cases: [(Optimizer.Kind, Float, Float, [Float])] = [
            (.sgd(momentum: 0.9, nesterov: true), 0.1, 0.01, [0.84654999, -1.69309998, 0.05973777]),
            (.sgd(momentum: 0.9, nesterov: false), 0.1, 0.01, [0.89935285, -1.79870570, 0.21207136]),
            (.adam, 0.01, 0.01, [0.97066981, -1.97067034, 0.47075045]),
            (.adamW, 0.01, 0.1, [0.96780086, -1.96480393, 0.46929935])
        ]
        for (kind, lr, wd, expected) in cases {
            let got = try run(kind, lr: lr, wd: wd)
            #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 2e-6 }, "\(kind): \(got) vs PyTorch \(expected)")
        }
    }

    @Test func parametersWithoutGradientsAreLeftAlone() throws {
        let optimizer = Optimizer(kind: .adam, groups: [.init(parameters: ["a", "b"], weightDecay: 0.5)])
        #expect(optimizer.state.isEmpty)
        #expect(optimizer.kind.name == "adam")
    }
}
