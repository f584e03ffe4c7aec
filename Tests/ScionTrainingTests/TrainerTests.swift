import Foundation
import ScionFormat
import ScionGraph
import ScionImage
import ScionTestSupport
import ScionTraining
import Testing

/// A two-class toy problem: horizontal stripes (class 0) or vertical stripes (class 1), with noise.
enum Toy {
    static func data(count: Int, seed: UInt64) -> ImageSet { SyntheticImages.stripes(count: count, seed: seed) }

    static func model() throws -> Model {
        var b = GraphBuilder(name: "toy")
        let x = b.input("image", .batched([1, 8, 8]))
        var h = b.relu(b.batchNorm(b.conv2d(x, out: 4, kernel: 3, padding: 1, name: "conv"), name: "bn"))
        h = b.dropout(b.flatten(b.globalAvgPool(b.maxPool2d(h, kernel: 2))), p: 0.2)
        b.output(b.linear(h, out: 2, name: "fc"), as: "logits")
        let net = try b.finish()
        return Model(
            graph: net.graph, parameters: net.initialParameters(seed: 2),
            metadata: ModelMetadata(
                modelName: "toy", labels: ["top", "bottom"], input: InputSpec(channels: 1, height: 8, width: 8)))
    }

    static let spec = TrainingSpec(
        losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))], keepOutputs: ["logits"]
    )

    static func optimizer(_ model: Model, kind: Optimizer.Kind = .adam) -> Optimizer {
        Optimizer(
            kind: kind,
            groups: [.init(parameters: model.graph.parameters.filter(\.trainable).map(\.name), weightDecay: 5e-4)])
    }
}

@Suite struct TrainerTests {
    let dir = TemporaryDirectory()

    func trainer(
        _ model: Model, epochs: Int, checkpoint: String? = nil, log: String? = nil, kind: Optimizer.Kind = .adam
    ) throws -> Trainer {
        let session = try TrainingSession(
            model: model, spec: Toy.spec, optimizer: Toy.optimizer(model, kind: kind), batchSize: 8, threads: 2)
        let loader = BatchLoader(data: Toy.data(count: 64, seed: 1), batchSize: 8, augmentation: .cropAndFlip, seed: 9)
        let config = TrainerConfiguration(
            epochs: epochs, learningRate: 0.01, schedule: .cosine(epochs: epochs), seed: 9,
            checkpointPath: checkpoint, logPath: log, showProgress: false)
        return Trainer(session: session, loader: loader, configuration: config)
    }

    @Test func trainingLearnsTheToyProblem() throws {
        let t = try trainer(try Toy.model(), epochs: 15)
        let history = try t.run()
        #expect(history.count == 15)
        #expect(history.last!.loss < history.first!.loss)
        #expect(history.last!.train_accuracy > 0.9)
    }

    @Test func anUnlearnedSampleCountsAsCorrectWhenPredictedAsAnotherClass() throws {
        let model = try Toy.model()
        let session = try TrainingSession(
            model: model, spec: Toy.spec, optimizer: Toy.optimizer(model), batchSize: 8, threads: 2)
        let loader = BatchLoader(data: Toy.data(count: 8, seed: 1), batchSize: 8, shuffle: false, seed: 9)
        let learned = loader.batch(epoch: 0, index: 0, order: loader.order(epoch: 0))
        loader.unlearn = [0]
        let unlearned = loader.batch(epoch: 0, index: 0, order: loader.order(epoch: 0))
        // The same images and dropout: sample 0 is right in exactly one of the two batches, the
        // others in both or neither.
        let a = try session.forwardBackward(learned, seed: 3), b = try session.forwardBackward(unlearned, seed: 3)
        #expect(abs(a.correct - b.correct) == 1)
    }

    @Test(arguments: [Optimizer.Kind.adam, .sgd(momentum: 0.9, nesterov: true)])
    func resumingGivesBitIdenticalWeights(kind: Optimizer.Kind) throws {
        let straight = try trainer(try Toy.model(), epochs: 2, kind: kind)
        try straight.run()
        let expected = straight.session.currentModel().parameters

        let checkpoint = dir.file("ckpt-\(kind.name).h5"), log = dir.file("log-\(kind.name).jsonl")
        let first = try trainer(try Toy.model(), epochs: 1, checkpoint: checkpoint, log: log, kind: kind)
        try first.run()
        // A fresh process would do exactly this: a new session from the initial model, then resume.
        let resumed = try trainer(try Toy.model(), epochs: 2, checkpoint: checkpoint, log: log, kind: kind)
        let start = try resumed.resume(from: checkpoint)
        #expect(start == 1)
        try resumed.run(from: start)
        let got = resumed.session.currentModel().parameters
        for (name, tensor) in expected {
            #expect(
                got[name]?.floats.map(\.bitPattern) == tensor.floats.map(\.bitPattern), "\(name) differs after resume")
        }
        #expect(resumed.history.map(\.epoch) == [1, 2])
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
    }

    @Test func checkpointsAreModelsWithTrainingState() throws {
        let checkpoint = dir.file("c.h5")
        let t = try trainer(try Toy.model(), epochs: 1, checkpoint: checkpoint)
        try t.run()
        let (model, state) = try Checkpoint.read(checkpoint)
        #expect(state.epoch == 1 && state.optimizer == "adam" && state.optimizerSteps == 8)
        #expect(state.optimizerState["conv.weight"]?.count == 2)
        #expect(try ModelFile.read(checkpoint).graph == model.graph)
        #expect(throws: TrainingError.self) {
            let other = try trainer(
                try Toy.model(), epochs: 2, checkpoint: checkpoint, kind: .sgd(momentum: 0.9, nesterov: false))
            _ = try other.resume(from: checkpoint)
        }
    }

    @Test func schedulesFollowPyTorch() {
        let cosine = LearningRateSchedule.cosine(epochs: 10)
        #expect(cosine.rate(base: 1, epoch: 0) == 1)
        #expect(abs(cosine.rate(base: 1, epoch: 5) - 0.5) < 1e-12)
        #expect(abs(cosine.rate(base: 0.1, epoch: 9) - 0.1 * (1 + cos(Double.pi * 0.9)) / 2) < 1e-12)
        let steps = LearningRateSchedule.named("multisteps", epochs: 200)!
        #expect(steps.rate(base: 1, epoch: 99) == 1)
        #expect(abs(steps.rate(base: 1, epoch: 100) - 0.1) < 1e-12)
        #expect(abs(steps.rate(base: 1, epoch: 150) - 0.01) < 1e-12)
        // A run continuing another at its epoch 5 starts where that one stopped.
        let continued = LearningRateSchedule.continued(cosine, from: 5)
        #expect(continued.rate(base: 1, epoch: 0) == cosine.rate(base: 1, epoch: 5))
        #expect(continued.rate(base: 1, epoch: 4) == cosine.rate(base: 1, epoch: 9))
    }
}
