import Foundation
import ScionFormat
import ScionGraph

/// How a training run goes: epochs, learning rate and schedule, seed, and where it reports.
public struct TrainerConfiguration: Sendable {
    public var epochs: Int
    public var learningRate: Double
    public var schedule: LearningRateSchedule
    public var seed: UInt64
    /// Written atomically after every epoch (a model file with the training state).
    public var checkpointPath: String?
    /// One JSON object per epoch (rewritten atomically after every epoch).
    public var logPath: String?
    /// Prefix of progress lines, e.g. "trap".
    public var label: String
    public var showProgress: Bool
    /// Trains on adversarial versions of each batch (`AdversarialTraining`); nil: the batches as
    /// loaded.
    public var adversarial: AdversarialTraining?

    public init(
        epochs: Int, learningRate: Double, schedule: LearningRateSchedule, seed: UInt64, checkpointPath: String? = nil,
        logPath: String? = nil, label: String = "train", showProgress: Bool = true
    ) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.schedule = schedule
        self.seed = seed
        self.checkpointPath = checkpointPath
        self.logPath = logPath
        self.label = label
        self.showProgress = showProgress
    }
}

/// One epoch's results, as logged (JSONL) and plotted.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var learning_rate: Double
    public var loss: Double
    public var losses: [String: Double]
    public var train_accuracy: Double
    public var images_per_second: Double
    public var seconds: Double
    /// Whatever the evaluation hook measured (e.g. `acc`, `asr`).
    public var metrics: [String: Double]
}

/// The epoch loop: batches from a `BatchLoader` through a `TrainingSession`, with a progress
/// line, an evaluation hook, a JSONL log and a checkpoint every epoch.
public final class Trainer {
    public let session: TrainingSession
    public let loader: BatchLoader
    public let configuration: TrainerConfiguration
    /// Called after every epoch with the current model and the epoch (1-based); on rank 0 only
    /// when training data-parallel.
    public var evaluate: ((Model, Int) throws -> [String: Double])?
    public private(set) var history: [EpochRecord] = []

    public init(session: TrainingSession, loader: BatchLoader, configuration: TrainerConfiguration) {
        self.session = session
        self.loader = loader
        self.configuration = configuration
    }

    /// Restores parameters, optimizer state and history from `checkpoint`; returns the epoch to
    /// continue at.
    public func resume(from checkpoint: String) throws -> Int {
        let (model, state) = try Checkpoint.read(checkpoint)
        guard state.optimizer == session.optimizer.kind.name else {
            throw TrainingError.incompatibleCheckpoint(
                "\(checkpoint) was written by optimizer \(state.optimizer), this run uses \(session.optimizer.kind.name)"
            )
        }
        guard state.seed == configuration.seed else {
            throw TrainingError.incompatibleCheckpoint(
                "\(checkpoint) was trained with seed \(state.seed), this run uses \(configuration.seed)")
        }
        session.load(parameters: model.parameters)
        session.optimizer.restore(steps: state.optimizerSteps, state: state.optimizerState)
        if let log = configuration.logPath, let text = try? String(contentsOfFile: log, encoding: .utf8) {
            history = text.split(separator: "\n").compactMap {
                try? JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8))
            }
            .filter { $0.epoch <= state.epoch }
        }
        return state.epoch
    }

    /// Trains from epoch `start` (0-based) to the configured count; returns every epoch's record.
    @discardableResult
    public func run(from start: Int = 0) throws -> [EpochRecord] {
        let collective = session.collective
        let start = Int(try collective.broadcast(Double(start)))
        try session.broadcastState()
        let progress = Progress(
            label: configuration.label, epochs: configuration.epochs, steps: loader.batchesPerEpoch,
            enabled: configuration.showProgress && collective.isRoot,
            stepsToDo: (configuration.epochs - start) * loader.batchesPerEpoch)
        for epoch in start..<configuration.epochs {
            var record = try trainEpoch(epoch, progress: progress)
            if let evaluate, collective.isRoot {
                record.metrics = try evaluate(session.currentModel(), epoch + 1)
            }
            history.append(record)
            progress.finishEpoch(record)
            if collective.isRoot { try save(epoch: epoch + 1) }
        }
        return history
    }

    private func trainEpoch(_ epoch: Int, progress: Progress) throws -> EpochRecord {
        let lr = configuration.schedule.rate(base: configuration.learningRate, epoch: epoch)
        let start = ActiveClock.now()
        var seen = 0, correct = 0, total = 0.0
        var terms: [String: Double] = [:]
        for (index, batch) in loader.batches(epoch: epoch).enumerated() {
            var stepSeed = SeededGenerator.derive(seed: configuration.seed, stream: "step:\(epoch):\(index)")
            let dropoutSeed = stepSeed.next()
            var batch = batch
            if let adversarial = configuration.adversarial {
                batch = try adversarial.perturb(batch, session: session, seed: stepSeed.next())
            }
            let result = try session.step(batch, learningRate: Float(lr), seed: dropoutSeed)
            guard result.total.isFinite else { throw TrainingError.diverged(epoch: epoch + 1, step: index + 1) }
            seen += result.samples
            correct += result.correct
            total += Double(result.total) * Double(result.samples)
            for (k, v) in result.losses { terms[k, default: 0] += Double(v) * Double(result.samples) }
            progress.step(
                epoch: epoch, index: index, loss: total / Double(seen), terms: terms.mapValues { $0 / Double(seen) },
                accuracy: Double(correct) / Double(seen),
                imagesPerSecond: Double(seen) / (ActiveClock.now() - start))
        }
        let seconds = ActiveClock.now() - start
        return EpochRecord(
            epoch: epoch + 1, learning_rate: lr, loss: total / Double(max(seen, 1)),
            losses: terms.mapValues { $0 / Double(max(seen, 1)) },
            train_accuracy: Double(correct) / Double(max(seen, 1)), images_per_second: Double(seen) / seconds,
            seconds: seconds, metrics: [:])
    }

    private func save(epoch: Int) throws {
        if let path = configuration.checkpointPath {
            let state = TrainingState(
                epoch: epoch, seed: configuration.seed, optimizer: session.optimizer.kind.name,
                optimizerSteps: session.optimizer.steps, optimizerState: session.optimizer.state)
            try Checkpoint.write(model: session.currentModel(), state: state, to: path)
        }
        if let path = configuration.logPath {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let lines = try history.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
            try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: path)
        }
    }
}

/// Why training stopped.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case diverged(epoch: Int, step: Int)
    case incompatibleCheckpoint(String)
    /// Data-parallel processes that do not train the same thing.
    case inconsistentProcesses(String)
    /// Adversarial training on a session whose spec does not compute the input's gradient.
    case missingInputGradient(String)

    public var description: String {
        switch self {
        case .diverged(let epoch, let step):
            return "the loss became NaN or infinite at epoch \(epoch), step \(step); lower the learning rate"
        case .incompatibleCheckpoint(let problem): return "cannot resume: \(problem)"
        case .inconsistentProcesses(let problem): return "data-parallel training stopped: \(problem)"
        case .missingInputGradient(let input):
            return "adversarial training needs the gradient of input \(input) (TrainingSpec.inputGradients)"
        }
    }
}
