import ScionGraph
import ScionTraining

/// The defenses Trap and Replace is compared with, in the same harness and data: each starts
/// from the undefended model and uses only the clean holdout.
extension StageRunner {
    /// FT: the whole undefended model fine-tuned on the holdout with crop and flip.
    @discardableResult
    public func fineTune(undefended: Model, _ s: StageSettings) throws -> Model {
        let spec = TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))],
            keepOutputs: ["logits"])
        return try fit(.fineTune, undefended, spec: spec, data: data.holdout, augmentation: .cropAndFlip, s)
    }

    /// Replace without trap (the paper's ablation): stage 2 on the undefended model's stem,
    /// which no decoder kept general, so the backdoor may sit in the stem.
    @discardableResult
    public func replaceUntrapped(undefended: Model, _ s: StageSettings) throws -> Model {
        try replace(stage1: undefended, s, as: .replaceUntrapped)
    }
}
