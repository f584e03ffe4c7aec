import ScionGraph
import ScionTestSupport
import ScionTraining
import Testing

@Suite struct AdversarialTrainingTests {
    @Test func aSignedStepMovesUpTheGradientAndStaysInTheBallAndTheRange() {
        var x: [Float] = [0.5, 0.5, 0.98, 0.02, 0.5]
        let clean: [Float] = [0.5, 0.5, 0.98, 0.02, 0.5]
        SignedGradientStep.apply(to: &x, gradient: [1, -1, 1, -1, 0], around: clean, stepSize: 0.1, epsilon: 0.08)
        let expected: [Float] = [0.58, 0.42, 1, 0, 0.5]
        for (a, b) in zip(x, expected) { #expect(abs(a - b) < 1e-6, "\(x)") }
    }

    static let spec: TrainingSpec = {
        var spec = Toy.spec
        spec.inputGradients = ["image"]
        return spec
    }()

    /// A session on the toy model and one batch of `count` toy images.
    static func sessionAndBatch(spec: TrainingSpec, count: Int) throws -> (TrainingSession, Batch) {
        let model = try Toy.model()
        let session = try TrainingSession(
            model: model, spec: spec, optimizer: Toy.optimizer(model), batchSize: count, threads: 2)
        let loader = BatchLoader(data: Toy.data(count: count, seed: 4), batchSize: count, shuffle: false, seed: 1)
        return (session, loader.batch(epoch: 0, index: 0, order: loader.order(epoch: 0)))
    }

    @Test func perturbedBatchesStayWithinEpsilonAndRaiseTheLoss() throws {
        let (session, batch) = try Self.sessionAndBatch(spec: Self.spec, count: 16)
        let fgsm = AdversarialTraining(epsilon: 0.1, input: "image")
        let adversarial = try fgsm.perturb(batch, session: session, seed: 7)
        #expect(adversarial.labels == batch.labels && adversarial.targets == batch.targets)
        let moved = zip(adversarial.images, batch.images).map { abs($0 - $1) }
        #expect(moved.allSatisfy { $0 <= 0.1 + 1e-6 })
        #expect(adversarial.images.allSatisfy { (0...1).contains($0) })
        #expect(moved.filter { $0 > 0.09 }.count > moved.count / 4, "most pixels end on the ball's edge")
        // FGSM climbs the loss: the same dropout, a higher loss (a flipped sign would lower it).
        let before = try session.forwardBackward(batch, seed: 3).total,
            after = try session.forwardBackward(adversarial, seed: 3).total
        #expect(after > before, "loss \(before) -> \(after)")
    }

    @Test func withoutTheInputGradientItSaysSo() throws {
        let (session, batch) = try Self.sessionAndBatch(spec: Toy.spec, count: 8)
        #expect(throws: TrainingError.missingInputGradient("image")) {
            try AdversarialTraining(epsilon: 0.1, input: "image").perturb(batch, session: session, seed: 1)
        }
    }

    @Test func theTrainerLearnsFromAdversarialBatches() throws {
        let model = try Toy.model()
        let session = try TrainingSession(
            model: model, spec: Self.spec, optimizer: Toy.optimizer(model), batchSize: 8, threads: 2)
        let loader = BatchLoader(data: Toy.data(count: 64, seed: 1), batchSize: 8, augmentation: .cropAndFlip, seed: 9)
        var config = TrainerConfiguration(
            epochs: 10, learningRate: 0.01, schedule: .cosine(epochs: 10), seed: 9, showProgress: false)
        config.adversarial = AdversarialTraining(epsilon: 2 / 255, input: "image")
        let history = try Trainer(session: session, loader: loader, configuration: config).run()
        #expect(history.count == 10)
        #expect(history.last!.loss < history.first!.loss)
    }
}
