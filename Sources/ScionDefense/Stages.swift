import Foundation
import ScionKernels
import ScionData
import ScionFormat
import ScionGraph
import ScionTraining
import ScionZoo

/// Hyperparameters of one stage, with the reference's flags and defaults (see `defaults(for:)`).
public struct StageSettings: Sendable {
    public var arch: Architecture
    public var stem: Int
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var optimizer: String
    public var weightDecay: Double
    public var decay: String
    public var dropout: Double
    public var lambda: Double
    public var lambda2: Double
    public var seed: UInt64
    public var threads: Int
    /// Evaluate ACC and ASR every this many epochs (and always after the last); 0: about five
    /// times per stage, which the curves need and the test set's cost allows.
    public var evalEvery: Int
    public var resume: Bool
    public var showProgress: Bool
    /// The processes training together (`mpirun`); `batchSize` is the batch over all of them.
    public var collective: any Collective = SingleProcess()
    /// Gradient bytes per allreduce started during the backward pass (data parallelism).
    public var bucketBytes = TrainingSession.defaultBucketBytes
    /// The convolutions' arithmetic in training, evaluation and stage 3's scoring (`Precision`).
    public var precision = Precision.fp32
    /// Fast adversarial training's L∞ bound on [0, 1] pixels (`AdversarialTraining`); 0: off.
    public var adversarialEpsilon: Float = 0

    /// The epochs between evaluations that `evalEvery` asks for.
    public var evaluationInterval: Int { evalEvery > 0 ? evalEvery : max(1, (epochs + 4) / 5) }

    /// The reference's defaults: normal training and stage 1 use Adam 1e-3, batch 256, 200
    /// epochs; stage 2 uses Adam 0.03, batch 64, 100 epochs, dropout 0.5. All: weight decay
    /// 5e-4, cosine schedule, Λ = 10, Λ2 = 1.
    /// Stage 3 (not in the reference) fine-tunes like normal training, for 20 epochs. The
    /// baselines: replace-without-trap as stage 2; FT (and FP's fine-tuning) the whole model on
    /// the holdout, Adam 1e-4, batch 64, 20 epochs (a gentler rate than training, or it forgets more than the backdoor).
    public static func defaults(for stage: Stage, arch: Architecture) -> StageSettings {
        let replace = [.replace, .replaceUntrapped].contains(stage),
            holdoutOnly = replace || [.fineTune, .finePrune].contains(stage)
        return StageSettings(
            arch: arch, stem: arch.defaultStem,
            epochs: replace ? 100 : [.recover, .fineTune, .finePrune].contains(stage) ? 20 : 200,
            batchSize: holdoutOnly ? 64 : 256,
            learningRate: replace ? 0.03 : [.fineTune, .finePrune].contains(stage) ? 1e-4 : 1e-3, optimizer: "adam",
            weightDecay: 5e-4, decay: "cos", dropout: 0.5, lambda: 10,
            lambda2: 1, seed: 0, threads: CPUBudget.threads, evalEvery: 0, resume: false,
            showProgress: true)
    }

    var details: [String: JSONValue] {
        var details: [String: JSONValue] = [
            "arch": .string(arch.description), "epochs": .number(Double(epochs)),
            "batch_size": .number(Double(batchSize)),
            "lr": .number(learningRate), "optimizer": .string(optimizer), "weight_decay": .number(weightDecay),
            "decay": .string(decay),
            "seed": .number(Double(seed))
        ]
        if collective.size > 1 { details["world_size"] = .number(Double(collective.size)) }
        if precision != .fp32 { details["precision"] = .string(precision.rawValue) }
        if adversarialEpsilon > 0 { details["adversarial_epsilon"] = .number(Double(adversarialEpsilon)) }
        return details
    }
}

/// The runs of the defense, named as the commands that start them.
public enum Stage: String, Sendable, CaseIterable {
    /// Normal training: the undefended baseline.
    case train
    /// Stage 1, bait and trap.
    case trap
    /// Stage 2, remove and patch.
    case replace
    /// Stage 3, recover: the sanitized model trained further on the untrusted images judged clean.
    case recover
    /// Baseline defense: the undefended model fine-tuned whole on the clean holdout (FT).
    case fineTune = "finetune"
    /// Baseline defense, the paper's ablation: stage 2 on the undefended model's stem.
    case replaceUntrapped = "replace_untrapped"
    /// Baseline defense: fine-pruning (prune dormant channels, fine-tune on the holdout).
    case finePrune = "fineprune"

    /// The model file each stage writes in the run folder.
    public var modelFile: String {
        switch self {
        case .train: return "undefended.h5"
        case .trap: return "trapped.h5"
        case .replace: return "sanitized.h5"
        case .recover: return "recovered.h5"
        case .fineTune: return "finetuned.h5"
        case .replaceUntrapped: return "replaced_untrapped.h5"
        case .finePrune: return "pruned.h5"
        }
    }

    /// The lineage operation of the stage's training step.
    public var lineageOperation: String {
        switch self {
        case .train: return LineageStep.train
        case .trap: return LineageStep.trap
        case .replace, .replaceUntrapped: return LineageStep.replace
        case .recover: return LineageStep.recover
        case .fineTune: return LineageStep.fineTune
        case .finePrune: return LineageStep.finePrune
        }
    }

    /// The stages of Trap and Replace (and Scion's recover), whose compute is the defense's.
    public var isDefense: Bool { [.trap, .replace, .recover].contains(self) }
}

/// Where the data came from and how it was attacked; recorded in every model's lineage.
public struct RunContext: Sendable {
    public var dataset: String
    public var pattern: String
    public var target: Int
    public var triggeredRatio: Double
    public var ratioHoldout: Double
    public var triggerSeed: UInt64

    public init(
        dataset: String, pattern: String, target: Int, triggeredRatio: Double, ratioHoldout: Double, triggerSeed: UInt64
    ) {
        self.dataset = dataset
        self.pattern = pattern
        self.target = target
        self.triggeredRatio = triggeredRatio
        self.ratioHoldout = ratioHoldout
        self.triggerSeed = triggerSeed
    }

    func details(_ data: PoisonedDataset) -> [String: JSONValue] {
        var d: [String: JSONValue] = [
            "dataset": .string(dataset), "pattern": .string(pattern), "target": .number(Double(target)),
            "triggered_ratio": .number(triggeredRatio), "ratio_holdout": .number(ratioHoldout),
            "trigger_seed": .number(Double(triggerSeed)),
            "poisoned_images": .number(Double(data.poisoned.count))
        ]
        for (k, v) in data.fingerprints { d["fingerprint_\(k)"] = .string(v) }
        if let seed = data.split.shuffleSeed { d["split_seed"] = .number(Double(seed)) }
        return d
    }
}
