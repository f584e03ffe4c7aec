import Foundation
import ScionData
import ScionFormat
import ScionGraph
import ScionImage
import ScionTraining
import ScionZoo

/// Runs the stages of Trap-and-Replace on a poisoned dataset, writing each stage's model, JSONL
/// log and checkpoint into the run folder.
///
/// ```swift
/// let runner = StageRunner(data: poisoned, context: context, folder: "runs/demo")
/// let undefended = try runner.trainUndefended(settings)
/// let trapped = try runner.trap(settings)
/// let sanitized = try runner.replace(stage1: trapped, settings)
/// ```
public struct StageRunner {
    public let data: PoisonedDataset
    public let context: RunContext
    public let folder: String

    public init(data: PoisonedDataset, context: RunContext, folder: String) {
        self.data = data
        self.context = context
        self.folder = folder
    }

    /// Normal training on the whole training set (the poisoned train split plus the clean
    /// holdout), cross-entropy: the no-defense model.
    @discardableResult
    public func trainUndefended(_ s: StageSettings) throws -> Model {
        let model = try initialModel(Zoo.classifier(s.arch, classes: data.train.classes, input: inputShape), s)
        let spec = TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))],
            keepOutputs: ["logits"])
        return try fit(.train, model, spec: spec, data: data.train + data.holdout, augmentation: .cropAndFlip, s)
    }

    /// Stage 1, bait and trap: classifier plus reconstruction decoder at the stem, loss
    /// CE + Λ·MSE(reconstruction, input) + Λ2·TV(reconstruction), on the train split only.
    @discardableResult
    public func trap(_ s: StageSettings) throws -> Model {
        let model = try initialModel(
            Zoo.trapModel(s.arch, classes: data.train.classes, input: inputShape, stem: s.stem), s)
        let spec = TrainingSpec(
            losses: [
                LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target")),
                LossTerm("mse", .mse, prediction: "reconstruction", target: .value("image"), weight: s.lambda),
                LossTerm("tv", .totalVariation, prediction: "reconstruction", target: .none, weight: s.lambda2)
            ], keepOutputs: ["logits"])
        return try fit(
            .trap, model, spec: spec, data: data.train, augmentation: .cropAndFlip, s,
            extra: ["stem": .number(Double(s.stem)), "lambda": .number(s.lambda), "lambda2": .number(s.lambda2)])
    }

    /// Stage 2, remove and patch: cut the stage-1 model at its stem, drop the decoder and the old
    /// head, graft a freshly initialised head (dropout inside its block and on its output),
    /// freeze the stem (its BatchNorm on running statistics) and train only the new head on the
    /// clean holdout with CutMix and label smoothing 0.1.
    @discardableResult
    public func replace(stage1: Model, _ s: StageSettings, as stage: Stage = .replace) throws -> Model {
        let cutName = "stem\(s.stem)"
        guard let cut = stage1.graph.cutPoint(named: cutName) else {
            throw GraphError.surgery(
                "the stage-1 model has no cut point \(cutName); its cut points are "
                    + stage1.graph.cutPoints.map(\.name).joined(separator: ", "))
        }
        let (stem, _) = try ModelSurgery.cut(stage1, at: cutName, headOutputs: ["logits"])
        let headSeed = SeededGenerator.derive(seed: s.seed, stream: "replacement-head").state[0]
        let fresh = try Zoo.replacementHead(
            s.arch, classes: data.train.classes, input: inputShape, stem: s.stem, dropout: s.dropout,
            inputName: cut.value, inputType: stage1.graph.values[cut.value]!)
        let head = Model(
            graph: fresh.graph, parameters: fresh.initialParameters(seed: headSeed), metadata: stage1.metadata)
        let grafted = try ModelSurgery.graft(
            stem: stem, head: head,
            details: [
                "cut": .string(cutName), "head_seed": .string(String(headSeed)), "dropout": .number(s.dropout),
                "head_parameters": .number(Double(fresh.graph.parameterCount))
            ])
        let headNodes = Set(fresh.graph.nodes.map(\.name))
        let spec = TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))],
            trainModeNodes: headNodes, keepOutputs: ["logits"])
        let augmentation = Augmentation(cropPadding: 4, horizontalFlip: true, cutMix: true, labelSmoothing: 0.1)
        return try fit(
            stage, grafted, spec: spec, data: data.holdout, augmentation: augmentation, s,
            frozen: Set(stem.graph.parameters.map(\.name)),
            extra: [
                "stem": .number(Double(s.stem)), "dropout": .number(s.dropout), "cutmix": true, "label_smoothing": 0.1
            ])
    }

    var inputShape: [Int] { [data.train.channels, data.train.height, data.train.width] }

    /// A freshly initialised model with metadata and an init lineage step.
    func initialModel(_ net: NetworkDefinition, _ s: StageSettings) throws -> Model {
        let metadata = ModelMetadata(
            modelName: net.graph.name, labels: data.train.classNames,
            input: InputSpec(channels: inputShape[0], height: inputShape[1], width: inputShape[2]))
        let step = LineageStep(
            operation: LineageStep.initialize,
            details: ["arch": .string(s.arch.description), "seed": .number(Double(s.seed))])
        return try Model(graph: net.graph, parameters: net.initialParameters(seed: s.seed), metadata: metadata)
            .recording(step)
    }

    /// Trains `initial` (its parameters in `frozen` held fixed) and writes it to the run folder with
    /// a lineage step holding the settings, the data's fingerprints and the final ACC/ASR; the
    /// step's parent is `origin` (default: `initial`), the model the stage started from, so the
    /// lineage stays a chain. `schedulePart` given: the run is epochs `start ..< start + s.epochs`
    /// of a schedule over `total` epochs (stage 3's rounds). `unlearn`: indices of the training
    /// data trained away from their label (`BatchLoader.unlearn`).
    func fit(
        _ stage: Stage, _ initial: Model, spec: TrainingSpec, data trainingData: ImageSet, unlearn: Set<Int> = [],
        augmentation: Augmentation, _ s: StageSettings, frozen: Set<String> = [], origin: Model? = nil,
        extra: [String: JSONValue] = [:],
        run: String? = nil, schedulePart: (start: Int, total: Int)? = nil
    ) throws -> Model {
        guard trainingData.count >= s.batchSize else {
            throw DefenseError.invalidSettings(
                "the \(stage.rawValue) data has \(trainingData.count) images, fewer than the batch size \(s.batchSize)")
        }
        let name = run ?? stage.rawValue
        let (session, trainer) = try makeTrainer(
            initial, frozen: frozen, spec: spec, data: trainingData, augmentation: augmentation, s, name: name,
            schedulePart: schedulePart)
        trainer.loader.unlearn = unlearn
        // The last epoch's evaluation is the final one: kept, so the model is not measured twice.
        var last: Metrics?
        trainer.evaluate = { current, epoch in
            guard epoch % s.evaluationInterval == 0 || epoch == s.epochs else { return [:] }
            let m = try measure(current, s)
            if epoch == s.epochs { last = m }
            return Self.recorded(m)
        }
        let started = ActiveClock.now()
        let checkpoint = "\(folder)/\(name).ckpt.h5"
        var start = 0
        if s.resume, FileManager.default.fileExists(atPath: checkpoint) { start = try trainer.resume(from: checkpoint) }
        let history = try trainer.run(from: start)
        var trained = session.currentModel()
        // The flags as they came in (frozen ones were frozen for this run only).
        trained.graph.parameters = initial.graph.parameters
        // Every process holds the same model; rank 0 measures, records and writes it.
        guard s.collective.isRoot else { return trained }
        var details = s.details.merging(context.details(data)) { a, _ in a }.merging(extra) { a, _ in a }
        for (key, value) in Self.recorded(try last ?? measure(trained, s)) { details[key] = .number(value) }
        details["seconds"] = .number(history.reduce(0) { $0 + $1.seconds })
        details["wall_seconds"] = .number(ActiveClock.now() - started)
        details["training_images"] = .number(Double(trainingData.count))
        trained = try trained.recording(
            LineageStep(
                operation: stage.lineageOperation, parents: [try ContentHash.of(origin ?? initial)], details: details))
        try ModelFile.write(trained, to: run.map { "\(folder)/\($0).h5" } ?? "\(folder)/\(stage.modelFile)")
        return trained
    }

    /// What the epoch logs and the lineage record of an evaluation: ACC, ASR and, where
    /// measured, the no-trigger rate and RA.
    static func recorded(_ m: Metrics) -> [String: Double] {
        var values = ["acc": m.acc, "asr": m.asr]
        values["clean_to_target"] = m.clean_to_target
        values["ra"] = m.ra
        return values
    }

    /// ACC, ASR, RA and the no-trigger rate of `model` on the run's test sets.
    private func measure(_ model: Model, _ s: StageSettings) throws -> Metrics {
        try Evaluation.measure(
            model, clean: data.test, triggered: data.triggeredTest, target: data.target, threads: s.threads,
            precision: s.precision)
    }

    /// The training session over `initial` (its `frozen` parameters held fixed on a working copy)
    /// and the trainer that runs `s.epochs` epochs of it, logging to `name`.jsonl and
    /// checkpointing to `name`.ckpt.h5 in the run folder.
    private func makeTrainer(
        _ initial: Model, frozen: Set<String>, spec: TrainingSpec, data trainingData: ImageSet,
        augmentation: Augmentation, _ s: StageSettings, name: String, schedulePart: (start: Int, total: Int)?
    ) throws -> (TrainingSession, Trainer) {
        // Freezing is a setting of this training run, not a change to the model: the flags are set
        // on a working copy only, so the recorded model is the one the previous step produced.
        var model = initial
        for i in model.graph.parameters.indices where frozen.contains(model.graph.parameters[i].name) {
            model.graph.parameters[i].trainable = false
        }
        let trainable = model.graph.parameters.filter(\.trainable).map(\.name)
        let optimizer = Optimizer(
            kind: try optimizerKind(s.optimizer),
            groups: [.init(parameters: trainable, weightDecay: Float(s.weightDecay))])
        let world = s.collective
        var spec = spec
        var adversarial: AdversarialTraining?
        if s.adversarialEpsilon > 0, let input = model.graph.inputs.first {
            adversarial = AdversarialTraining(epsilon: s.adversarialEpsilon, input: input)
            spec.inputGradients.append(input)
        }
        let session = try TrainingSession(
            model: model, spec: spec, optimizer: optimizer, batchSize: (s.batchSize + world.size - 1) / world.size,
            threads: s.threads, collective: world, bucketBytes: s.bucketBytes, precision: s.precision)
        let loader = BatchLoader(data: trainingData, batchSize: s.batchSize, augmentation: augmentation, seed: s.seed)
        loader.shard = (world.rank, world.size)
        guard let whole = LearningRateSchedule.named(s.decay, epochs: schedulePart?.total ?? s.epochs) else {
            throw DefenseError.invalidSettings("unknown --decay \(s.decay); use cos, multisteps or constant")
        }
        let schedule = schedulePart.map { LearningRateSchedule.continued(whole, from: $0.start) } ?? whole
        var config = TrainerConfiguration(
            epochs: s.epochs, learningRate: s.learningRate, schedule: schedule, seed: s.seed,
            checkpointPath: "\(folder)/\(name).ckpt.h5",
            logPath: "\(folder)/\(name).jsonl", label: name, showProgress: s.showProgress)
        config.adversarial = adversarial
        return (session, Trainer(session: session, loader: loader, configuration: config))
    }

    func optimizerKind(_ name: String) throws -> Optimizer.Kind {
        switch name.lowercased() {
        case "adam": return .adam
        case "adamw": return .adamW
        case "sgd": return .sgd(momentum: 0.9, nesterov: false)
        default: throw DefenseError.invalidSettings("unknown --opt \(name); use adam, adamw or sgd")
        }
    }
}

/// Settings that cannot work together.
public enum DefenseError: Error, Equatable, CustomStringConvertible {
    case invalidSettings(String)

    public var description: String {
        switch self {
        case .invalidSettings(let problem): return problem
        }
    }
}
