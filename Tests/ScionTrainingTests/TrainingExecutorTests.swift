import ScionCompiler
import ScionGraph
import ScionRuntime
import ScionTraining
import ScionZoo
import Testing

/// The compiled executor runs training graphs as the reference interpreter does: losses,
/// every parameter gradient and the updated BatchNorm statistics.
@Suite struct TrainingExecutorTests {
    static let trainingPasses = TrainingSession.passes

    func compare(_ net: NetworkDefinition, spec: TrainingSpec, input: [Int], classes: Int, batch: Int = 3, label: String) throws {
        let training = try Autodiff.trainingGraph(for: net.graph, spec: spec)
        let parameters = net.initialParameters(seed: 1).merging(training.constants) { a, _ in a }
        let model = Model(graph: training.graph, parameters: parameters, metadata: ModelMetadata(modelName: label, labels: [], input: InputSpec(channels: input[0], height: input[1], width: input[2])))
        var rng = SeededGenerator(seed: 4)
        var feeds: [String: Tensor] = ["image": Tensor(shape: [batch] + input, values: (0..<(batch * input.reduce(1, *))).map { _ in Float(rng.nextDouble()) })]
        for target in training.targetInputs {
            var t = [Float](repeating: 0, count: batch * classes)
            for n in 0..<batch { t[n * classes + rng.nextInt(below: classes)] = 1 }
            feeds[target] = Tensor(shape: [batch, classes], values: t)
        }
        let expected = try ReferenceInterpreter(model: model).run(feeds, seed: 7)
        for threads in [1, 2] {
            let executor = try Executor(model: model, options: .init(maxBatch: 4, threads: threads, passes: Self.trainingPasses))
            let got = try executor.run(feeds, seed: 7)
            for name in training.graph.outputs {
                let e = try #require(expected[name]), g = try #require(got[name])
                // Relative to the largest value of each output (fp32 sums in another order).
                let scale = e.floats.map(abs).max() ?? 0
                let difference = zip(e.floats, g.floats).map { abs($0 - $1) }.max() ?? 0
                #expect(difference <= 1e-3 * scale + 1e-6, "\(label) threads \(threads): \(name) differs by \(difference) (largest \(scale))")
            }
            #expect(executor.fallbackNodes.isEmpty, "\(label): \(executor.fallbackNodes)")
        }
    }

    @Test func stage1TrainingStepMatchesReference() throws {
        let net = try Zoo.trapModel(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 16, 16], stem: 5)
        let spec = TrainingSpec(losses: [
            LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target")),
            LossTerm("mse", .mse, prediction: "reconstruction", target: .value("image"), weight: 10),
            LossTerm("tv", .totalVariation, prediction: "reconstruction", target: .none, weight: 1),
        ], keepOutputs: ["logits"])
        try compare(net, spec: spec, input: [3, 16, 16], classes: 10, label: "stage1")
    }

    @Test func frozenStemWithDropoutHeadMatchesReference() throws {
        // cnn-small, stem frozen in eval mode, a head with dropout trained.
        var b = GraphBuilder(name: "head")
        let x = b.input("image", .batched([1, 12, 12]))
        var h = b.relu(b.batchNorm(b.conv2d(x, out: 8, kernel: 3, padding: 1, name: "stem"), name: "stem_bn"))
        h = b.maxPool2d(h, kernel: 2)
        h = b.dropout(b.relu(b.batchNorm(b.conv2d(h, out: 16, kernel: 3, padding: 1, name: "head"), name: "head_bn")), p: 0.5, name: "drop")
        b.output(b.linear(b.flatten(b.globalAvgPool(h)), out: 5, name: "fc"), as: "logits")
        var net = try b.finish()
        let stemParameters = ["stem.weight", "stem.bias", "stem_bn.weight", "stem_bn.bias"]
        for i in net.graph.parameters.indices where stemParameters.contains(net.graph.parameters[i].name) {
            net.graph.parameters[i].trainable = false
        }
        let head = Set(net.graph.nodes.filter { !$0.name.hasPrefix("stem") }.map(\.name))
        let spec = TrainingSpec(losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))], trainModeNodes: head)
        try compare(net, spec: spec, input: [1, 12, 12], classes: 5, label: "frozen-stem")
        let training = try Autodiff.trainingGraph(for: net.graph, spec: spec)
        #expect(training.parameterGradients["stem.weight"] == nil)
        #expect(training.parameterGradients["head.weight"] != nil)
        #expect(!training.graph.nodes.contains { $0.op == .conv2dGradInput && $0.inputs[1] == "stem.weight" })
    }

    /// Epilogue fusion on a training graph: a train-mode BatchNorm absorbs the activation after
    /// it (its backward reads its input), but not when its output has a second reader. The
    /// executor runs the fused graph; the reference interpreter the unfused one.
    @Test func batchNormTrainAbsorbsItsActivationOnlyWhenItIsTheSoleReader() throws {
        func net(shared: Bool) throws -> NetworkDefinition {
            var b = GraphBuilder(name: "bn-act")
            let x = b.input("image", .batched([2, 8, 8]))
            // No conv bias: BatchNorm cancels it, so its true gradient is 0 and the computed one
            // only rounding noise, which no relative tolerance can compare.
            let y = b.batchNorm(b.conv2d(x, out: 16, kernel: 3, padding: 1, bias: false, name: "conv"), name: "bn")
            var h = b.leakyRelu(y, slope: 0.1)
            if shared { h = b.add(h, y) }
            b.output(b.linear(b.flatten(b.globalAvgPool(h)), out: 3, name: "fc"), as: "logits")
            return try b.finish()
        }
        let spec = TrainingSpec(losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))])
        for shared in [false, true] {
            let training = try Autodiff.trainingGraph(for: try net(shared: shared).graph, spec: spec)
            var unit = CompilationUnit(graph: training.graph, parameters: [:])
            _ = try EpilogueFusionPass().run(&unit)
            let bn = try #require(unit.graph.nodes.first { $0.op == .batchNormTrain })
            #expect((bn.string("activation") == "leaky_relu") == !shared, "shared \(shared)")
            #expect(unit.graph.nodes.contains { $0.op == .leakyRelu } == shared)
            try compare(try net(shared: shared), spec: spec, input: [2, 8, 8], classes: 3, label: "bn-act shared \(shared)")
        }
    }
}
