import ScionGraph
import ScionTraining

/// Fine-pruning (Liu et al., RAID 2018), the third baseline: backdoor neurons tend to sleep on
/// clean images, so the last feature channels least active on the clean holdout are pruned, as
/// many as keep holdout accuracy within `maxAccuracyDrop`, then the network is fine-tuned on the
/// holdout.
extension StageRunner {
    /// How far pruning may lower holdout accuracy (a fraction, BackdoorBench's 10 points).
    public static let maxAccuracyDrop = 0.10

    /// Prunes by zeroing the classifier's columns of those channels and keeps them pruned by
    /// freezing the classifier while the rest of the network fine-tunes (so nothing regrows).
    @discardableResult
    public func finePrune(undefended: Model, _ s: StageSettings) throws -> Model {
        let fc = try classifier(undefended)
        let features = try Evaluation.logits(
            Self.withOutput(undefended, fc.inputs[0]), [data.holdout], threads: s.threads, precision: s.precision)[0]
        guard let weight = undefended.parameters[fc.inputs[1]]?.floats, features.classes > 0,
            weight.count % features.classes == 0
        else {
            throw DefenseError.invalidSettings(
                "fine-pruning: the classifier \(fc.name) does not read the feature vector")
        }
        let bias = fc.inputs.count > 2 ? undefended.parameters[fc.inputs[2]]?.floats : nil
        let channels = features.classes, classes = weight.count / channels
        let mean = (0..<channels).map { c in
            (0..<features.count).reduce(0.0) { $0 + Double(features.values[$1 * channels + c]) }
        }
        let order = (0..<channels).sorted { mean[$0] < mean[$1] }
        func accuracy(pruning n: Int) -> Double {
            let kept = order.dropFirst(n).sorted()
            let right = (0..<features.count).filter { i in
                let scores = (0..<classes).map { k in
                    kept.reduce(Double(bias?[k] ?? 0)) {
                        $0 + Double(weight[k * channels + $1] * features.values[i * channels + $1])
                    }
                }
                return scores.indices.max { scores[$0] < scores[$1] } == Int(data.holdout.labels[i])
            }.count
            return Double(right) / Double(max(features.count, 1))
        }
        let base = accuracy(pruning: 0)
        let pruned =
            Array(stride(from: max(1, channels / 20), through: channels * 19 / 20, by: max(1, channels / 20)))
            .last { accuracy(pruning: $0) >= base - Self.maxAccuracyDrop } ?? 0
        var model = undefended
        var masked = weight
        for c in order.prefix(pruned) { for k in 0..<classes { masked[k * channels + c] = 0 } }
        model.parameters[fc.inputs[1]] = Tensor(shape: [classes, channels], values: masked)

        let spec = TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))],
            keepOutputs: ["logits"])
        // Pruning and fine-tuning are one step of the lineage, from the undefended model.
        return try fit(
            .finePrune, model, spec: spec, data: data.holdout, augmentation: .cropAndFlip, s,
            frozen: Set(fc.inputs.dropFirst()), origin: undefended,
            extra: [
                "pruned_channels": .number(Double(pruned)), "channels": .number(Double(channels)),
                "holdout_acc_before_pruning": .number(base),
                "holdout_acc_after_pruning": .number(accuracy(pruning: pruned))
            ])
    }

    /// The linear node that computes the logits.
    func classifier(_ model: Model) throws -> Node {
        guard
            let node = model.graph.nodes.first(where: {
                $0.op == .linear && $0.outputs.contains(model.graph.outputs[0])
            }), node.inputs.count >= 2
        else {
            throw DefenseError.invalidSettings("fine-pruning needs the logits to come from a linear layer")
        }
        return node
    }

    static func withOutput(_ model: Model, _ value: String) -> Model {
        var m = model
        m.graph.outputs = [value]
        return m
    }
}
