import ScionCompiler
import ScionGraph
import ScionRuntime
import ScionTestSupport
import ScionTraining
import ScionZoo
import Testing

/// The compiled executor runs training graphs as the reference interpreter does: losses,
/// every parameter gradient and the updated BatchNorm statistics.
@Suite struct TrainingExecutorTests {
    static let trainingPasses = TrainingSession.passes

    func compare(
        _ net: NetworkDefinition, spec: TrainingSpec, input: [Int], classes: Int, batch: Int = 3, label: String
    ) throws {
        let training = try Autodiff.trainingGraph(for: net.graph, spec: spec)
        let parameters = net.initialParameters(seed: 1).merging(training.constants) { a, _ in a }
        let model = Model(
            graph: training.graph, parameters: parameters,
            metadata: ModelMetadata(
                modelName: label, labels: [], input: InputSpec(channels: input[0], height: input[1], width: input[2])))
        var rng = SeededGenerator(seed: 4)
        var feeds: [String: Tensor] = [
            "image": Tensor(
                shape: [batch] + input, values: (0..<(batch * input.reduce(1, *))).map { _ in Float(rng.nextDouble()) })
        ]
        for target in training.targetInputs {
            var t = [Float](repeating: 0, count: batch * classes)
            for n in 0..<batch { t[n * classes + rng.nextInt(below: classes)] = 1 }
            feeds[target] = Tensor(shape: [batch, classes], values: t)
        }
        let expected = try ReferenceInterpreter(model: model).run(feeds, seed: 7)
        for threads in [1, 2] {
            let executor = try Executor(
                model: model, options: .init(maxBatch: 4, threads: threads, passes: Self.trainingPasses))
            let got = try executor.run(feeds, seed: 7)
            for name in training.graph.outputs {
                let e = try #require(expected[name]), g = try #require(got[name])
                // Relative to the largest value of each output (fp32 sums in another order).
                let scale = e.floats.map(abs).max() ?? 0
                let difference = maxDifference(e, g)
                #expect(
                    difference <= 1e-3 * scale + 1e-6,
                    "\(label) threads \(threads): \(name) differs by \(difference) (largest \(scale))")
            }
            #expect(executor.fallbackNodes.isEmpty, "\(label): \(executor.fallbackNodes)")
        }
    }

    @Test func stage1TrainingStepMatchesReference() throws {
        let net = try Zoo.trapModel(.wideResNet(depth: 16, widen: 1), classes: 10, input: [3, 16, 16], stem: 5)
        let spec = TrainingSpec(
            losses: [
                LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target")),
                LossTerm("mse", .mse, prediction: "reconstruction", target: .value("image"), weight: 10),
                LossTerm("tv", .totalVariation, prediction: "reconstruction", target: .none, weight: 1)
            ], keepOutputs: ["logits"])
        try compare(net, spec: spec, input: [3, 16, 16], classes: 10, label: "stage1")
        // Where BatchNorm's input gradient has other readers (the last BatchNorm's feeds the
        // head's convolution gradients too), or the gradient it would be summed with comes
        // later, gradient fusion leaves the sum alone.
        let training = try Autodiff.trainingGraph(for: net.graph, spec: spec)
        var unit = CompilationUnit(graph: training.graph, parameters: [:])
        for pass in Self.trainingPasses { _ = try pass.run(&unit) }
        let grads = Dictionary(
            uniqueKeysWithValues: unit.graph.nodes.filter { $0.op == .batchNormTrainGrad }.map { ($0.name, $0) })
        #expect(grads["grad:bn1"]?.view.bool("has_residual") != true)
        #expect(grads["grad:block3.1.bn1"]?.view.bool("has_residual") != true)
        #expect(grads["grad:block1.1.bn1"]?.view.bool("has_residual") == true)
        #expect(grads.values.allSatisfy { $0.view.string("activation") == "leaky_relu" })
        // Convolutions' bias gradients ride on their weight gradients; a transposed
        // convolution's (the decoder's: its weight gradient reads that dy as x) and the linear
        // layer's stay separate sums.
        let sums = unit.graph.nodes.filter { $0.op == .channelSum }.map(\.name).sorted()
        #expect(sums == ["grad:decoder.0:b", "grad:decoder.2:b", "grad:fc:b"], "\(sums)")
        #expect(unit.graph.nodes.filter { $0.op == .conv2dGradWeightBias }.count == 15)
    }

    @Test func frozenStemWithDropoutHeadMatchesReference() throws {
        // cnn-small, stem frozen in eval mode, a head with dropout trained.
        var b = GraphBuilder(name: "head")
        let x = b.input("image", .batched([1, 12, 12]))
        var h = b.relu(b.batchNorm(b.conv2d(x, out: 8, kernel: 3, padding: 1, name: "stem"), name: "stem_bn"))
        h = b.maxPool2d(h, kernel: 2)
        h = b.dropout(
            b.relu(b.batchNorm(b.conv2d(h, out: 16, kernel: 3, padding: 1, name: "head"), name: "head_bn")), p: 0.5,
            name: "drop")
        b.output(b.linear(b.flatten(b.globalAvgPool(h)), out: 5, name: "fc"), as: "logits")
        var net = try b.finish()
        let stemParameters = ["stem.weight", "stem.bias", "stem_bn.weight", "stem_bn.bias"]
        for i in net.graph.parameters.indices where stemParameters.contains(net.graph.parameters[i].name) {
            net.graph.parameters[i].trainable = false
        }
        let head = Set(net.graph.nodes.filter { !$0.name.hasPrefix("stem") }.map(\.name))
        let spec = TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))],
            trainModeNodes: head)
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
            #expect((bn.view.string("activation") == "leaky_relu") == !shared, "shared \(shared)")
            #expect(unit.graph.nodes.contains { $0.op == .leakyRelu } == shared)
            try compare(
                try net(shared: shared), spec: spec, input: [2, 8, 8], classes: 3, label: "bn-act shared \(shared)")
        }
    }

    /// Gradient fusion: BatchNorm's backward absorbs the gradient of the activation fused into
    /// its forward pass and the sum with a residual branch's gradient. The fused executor gives
    /// bit-identical gradients to the unfused one; where the forward BatchNorm did not absorb
    /// the activation (its output has a second reader) the activation gradient stays.
    @Test func batchNormGradientAbsorbsActivationGradientAndGradientSum() throws {
        func net(activation: String, shared: Bool, channels: Int) throws -> NetworkDefinition {
            var b = GraphBuilder(name: "bn-grad")
            let x = b.input("image", .batched([2, 8, 8]))
            let stem = b.conv2d(x, out: channels, kernel: 3, padding: 1, bias: false, name: "stem")
            let y = b.batchNorm(stem, name: "bn")
            var h = activation == "relu" ? b.relu(y) : b.leakyRelu(y, slope: 0.1)
            if shared { h = b.add(h, y) }
            h = b.add(b.conv2d(h, out: channels, kernel: 3, padding: 1, bias: false, name: "conv"), stem)
            b.output(b.linear(b.flatten(b.globalAvgPool(h)), out: 3, name: "fc"), as: "logits")
            return try b.finish()
        }
        let spec = TrainingSpec(losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))])
        // 16 channels take the kernels' vector path, 6 their scalar one.
        for (activation, channels) in [("relu", 16), ("leaky_relu", 16), ("leaky_relu", 6)] {
            for shared in [false, true] {
                let label = "\(activation) \(channels) channels shared \(shared)"
                let network = try net(activation: activation, shared: shared, channels: channels)
                let training = try Autodiff.trainingGraph(for: network.graph, spec: spec)
                var unit = CompilationUnit(graph: training.graph, parameters: [:])
                _ = try EpilogueFusionPass().run(&unit)
                _ = try GradientFusionPass().run(&unit)
                try unit.graph.verify()
                let grad = try #require(unit.graph.nodes.first { $0.op == .batchNormTrainGrad })
                #expect((grad.view.string("activation") == activation) == !shared, "\(label)")
                #expect(
                    unit.graph.nodes.contains { $0.op == .reluGrad || $0.op == .leakyReluGrad } == shared, "\(label)")
                // The stem's gradient sums the residual branch's and the BatchNorm's.
                #expect(grad.view.bool("has_residual") == true, "\(label)")
                try compare(network, spec: spec, input: [2, 8, 8], classes: 3, label: label)
                try expectBitIdenticalGradients(network, spec: spec, label: label)
            }
        }
    }

    /// Runs the training graph with and without `GradientFusionPass` and expects every output
    /// to be bit-identical.
    func expectBitIdenticalGradients(_ net: NetworkDefinition, spec: TrainingSpec, label: String) throws {
        let training = try Autodiff.trainingGraph(for: net.graph, spec: spec)
        let parameters = net.initialParameters(seed: 1).merging(training.constants) { a, _ in a }
        let model = Model(
            graph: training.graph, parameters: parameters,
            metadata: ModelMetadata(modelName: label, labels: [], input: InputSpec(channels: 2, height: 8, width: 8)))
        var rng = SeededGenerator(seed: 5)
        let feeds: [String: Tensor] = [
            "image": Tensor(shape: [4, 2, 8, 8], values: (0..<(4 * 128)).map { _ in Float(rng.nextDouble()) - 0.5 }),
            "target": Tensor(shape: [4, 3], values: (0..<12).map { $0 % 3 == $0 / 3 % 3 ? 1 : 0 })
        ]
        let unfused: [any CompilerPass] = Self.trainingPasses.filter { !($0 is GradientFusionPass) }
        let plain = try Executor(model: model, options: .init(maxBatch: 4, threads: 2, passes: unfused)).run(
            feeds, seed: 3)
        let fused = try Executor(model: model, options: .init(maxBatch: 4, threads: 2, passes: Self.trainingPasses))
            .run(feeds, seed: 3)
        for name in training.graph.outputs {
            #expect(plain[name]?.floats == fused[name]?.floats, "\(label): \(name) differs")
        }
    }
}
