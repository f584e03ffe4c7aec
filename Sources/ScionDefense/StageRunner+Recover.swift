import Foundation
import ScionData
import ScionFormat
import ScionGraph
import ScionImage
import ScionTraining

/// How stage 3 splits the untrusted training set and what it trains.
public struct RecoverySettings: Sendable {
    /// How the training set is split (see `SuspectSplit`).
    public var rule: SuspectSplit.Rule
    /// Train the stem too (true), or only the head with the stem frozen.
    public var trainStem: Bool
    /// Train on the suspects of poisoned classes relabelled (unlearning the trigger), instead of
    /// leaving them out.
    public var relabelSuspects: Bool
    /// Train the suspects judged `unlearned` away from their label (`-log(1 - p_y)`), instead of
    /// leaving them out.
    public var unlearnSuspects: Bool
    /// Split and train this many times, each split judged with the previous round's model: a
    /// head with less of the backdoor finds more of the poisons.
    public var rounds: Int

    public init(
        rule: SuspectSplit.Rule = .init(), trainStem: Bool = true, relabelSuspects: Bool = true,
        unlearnSuspects: Bool = true, rounds: Int = 2
    ) {
        self.rule = rule
        self.trainStem = trainStem
        self.relabelSuspects = relabelSuspects
        self.unlearnSuspects = unlearnSuspects
        self.rounds = rounds
    }
}

extension StageRunner {
    /// Stage 3, recover: in each round the trapped model and the latest model score every
    /// untrusted training image (`SuspectSplit`), and the latest model is trained on the clean
    /// holdout, the images judged clean and the relabelled suspects, with crop and flip; the
    /// rounds share out the epochs of one learning-rate schedule. Writes recover_round<N>.h5 and
    /// suspects_round<N>.csv per earlier round, recovered.h5 and suspects.csv (the last split).
    @discardableResult
    public func recover(trapped: Model, sanitized: Model, _ s: StageSettings, _ r: RecoverySettings) throws -> Model {
        let rounds = max(1, min(r.rounds, s.epochs))
        var model = sanitized
        var detections: [JSONValue] = []
        var poisonedClasses: [Int]?
        let trappedLogits = try Evaluation.logits(
            trapped, [data.train, data.holdout], threads: s.threads, precision: s.precision)
        for round in 1...rounds {
            // Only the first round's head (stage 2's) never trained on this stage's own relabels,
            // so it alone judges which classes are poisoned (later heads flagged clean classes).
            let split = try SuspectSplit.score(
                trapped: trappedLogits[0], trappedHoldout: trappedLogits[1], replaced: model, data: data.train,
                holdout: data.holdout, rule: r.rule,
                poisonedClasses: poisonedClasses, threads: s.threads, precision: s.precision)
            poisonedClasses = split.poisonedClasses
            let detection = split.detection(truth: data.poisoned)
            detections.append(detectionJSON(detection, split))
            // The rounds share one schedule: each later round continues at the rate where the
            // one before stopped, instead of restarting at the peak rate.
            let start = (round - 1) * s.epochs / rounds
            var settings = s
            settings.epochs = round * s.epochs / rounds - start
            let last = round == rounds
            let name = last ? nil : "recover_round\(round)"
            // Every round's split stays on disk: a later round's is judged by a model the
            // earlier one shaped, and comparing them is how that shows.
            if s.collective.isRoot { try writeSuspects(split, round: last ? nil : round) }
            if let name, s.resume, let done = try? ModelFile.read("\(folder)/\(name).h5") {
                model = done
                continue
            }
            var extra = recoveryDetails(r, detection: detection)
            extra["round"] = .number(Double(round))
            if last { extra["rounds"] = .array(detections) }
            let (training, unlearn) = recoveryData(split, r)
            model = try fit(
                .recover, model, spec: recoverySpec(model, r, s), data: training, unlearn: unlearn,
                augmentation: .cropAndFlip, settings, frozen: try frozenStem(model, r, s), extra: extra, run: name,
                schedulePart: (start, s.epochs))
        }
        return model
    }

    /// What stage 3 trains on: the holdout, the images judged clean, (if asked) the relabelled
    /// suspects under their new labels and the unlearned ones under their given labels, with the
    /// indices of the unlearned ones in the result (for `BatchLoader.unlearn`).
    public func recoveryData(_ split: SuspectSplit, _ r: RecoverySettings) -> (ImageSet, unlearn: Set<Int>) {
        var training = data.holdout + data.train.subset(split.indices(.clean))
        if r.relabelSuspects {
            let chosen = split.indices(.relabelled)
            var relabelled = data.train.subset(chosen)
            relabelled.labels = chosen.map { Int32(split.relabels[$0]) }
            training = training + relabelled
        }
        guard r.unlearnSuspects else { return (training, []) }
        let first = training.count
        training = training + data.train.subset(split.indices(.unlearned))
        return (training, Set(first..<training.count))
    }

    /// The stem's parameters, when stage 3 keeps the stem fixed (`--freeze-stem`).
    func frozenStem(_ model: Model, _ r: RecoverySettings, _ s: StageSettings) throws -> Set<String> {
        guard !r.trainStem else { return [] }
        return Set(try model.graph.stem(upTo: try cutValue(model, s)).parameters.map(\.name))
    }

    func recoverySpec(_ model: Model, _ r: RecoverySettings, _ s: StageSettings) throws -> TrainingSpec {
        var trainModeNodes: Set<String>?
        if !r.trainStem {
            let stemNodes = Set(try model.graph.stem(upTo: try cutValue(model, s)).nodes.map(\.name))
            trainModeNodes = Set(model.graph.nodes.map(\.name)).subtracting(stemNodes)
        }
        return TrainingSpec(
            losses: [LossTerm("ce", .crossEntropy, prediction: "logits", target: .input("target"))],
            trainModeNodes: trainModeNodes, keepOutputs: ["logits"])
    }

    func recoveryDetails(_ r: RecoverySettings, detection: Detection) -> [String: JSONValue] {
        var extra: [String: JSONValue] = [
            "threshold": .number(r.rule.threshold), "class_threshold": .number(r.rule.classThreshold),
            "share_factor": .number(r.rule.shareFactor), "minimum_share": .number(r.rule.minimumShare),
            "leader_fraction": .number(r.rule.leaderFraction), "excess_factor": .number(r.rule.excessFactor),
            "low_loss_quantile": .number(r.rule.lowLossQuantile), "low_loss_share": .number(r.rule.lowLossShare),
            "minimum_trusted": .number(Double(r.rule.minimumTrusted)),
            "train_stem": .bool(r.trainStem), "relabel_suspects": .bool(r.relabelSuspects),
            "unlearn_suspects": .bool(r.unlearnSuspects),
            "suspects": .number(Double(detection.suspects)), "detection_fpr": .number(detection.fpr)
        ]
        if let tpr = detection.tpr { extra["detection_tpr"] = .number(tpr) }
        return extra
    }

    func detectionJSON(_ d: Detection, _ split: SuspectSplit) -> JSONValue {
        var o: [String: JSONValue] = [
            "suspects": .number(Double(d.suspects)), "fpr": .number(d.fpr),
            "relabelled": .number(Double(split.indices(.relabelled).count)),
            "unlearned": .number(Double(split.indices(.unlearned).count)),
            "poisoned_classes": .array(split.poisonedClasses.map { .number(Double($0)) }),
            "class_score_shares": .array(split.classScoreShares.map { .number(($0 * 1e4).rounded() / 1e4) }),
            "class_own_loss_shares": .array(split.classOwnLossShares.map { .number(($0 * 1e4).rounded() / 1e4) })
        ]
        if let tpr = d.tpr { o["tpr"] = .number(tpr) }
        return .object(o)
    }

    /// The value where stem and head meet: a grafted model's seam (`graft`; the stage-2 model
    /// keeps only the stem's cut points before it), else the stage-2 cut point `stem<N>`.
    func cutValue(_ model: Model, _ s: StageSettings) throws -> String {
        if let seam = model.graph.cutPoint(named: "graft") { return seam.value }
        guard let cut = model.graph.cutPoint(named: "stem\(s.stem)") else {
            throw GraphError.surgery(
                "the model has no cut point stem\(s.stem); its cut points are "
                    + model.graph.cutPoints.map(\.name).joined(separator: ", "))
        }
        return cut.value
    }

    /// suspects.csv: every untrusted training image with its file (folder datasets), label, the
    /// new head's label, its score, the trapped model's loss at its label, its verdict and (when
    /// Scion planted the attack) whether it was poisoned, most suspect first; suspects.png: the
    /// 64 most suspect images. An earlier `round`'s split: suspects_round<N>.csv alone.
    func writeSuspects(_ split: SuspectSplit, round: Int? = nil) throws {
        let planted = Set(data.poisoned)
        let ranked = split.scores.indices.sorted { split.scores[$0] > split.scores[$1] }
        var lines = ["index,file,label,relabel,score,trapped_loss,verdict,planted"]
        for i in ranked {
            let truth = data.trigger == nil ? "" : planted.contains(i) ? "1" : "0"
            let file = i < data.trainFiles.count ? RunReport.csvField(data.trainFiles[i]) : ""
            let label = Int(data.train.labels[i])
            let loss = i < split.trappedLosses.count ? String(format: "%.3g", split.trappedLosses[i]) : ""
            let numbers = String(format: "%.4f,", split.scores[i]) + loss
            lines.append("\(i),\(file),\(label),\(split.relabels[i]),\(numbers),\(split.verdicts[i].rawValue),\(truth)")
        }
        let name = round.map { "suspects_round\($0)" } ?? "suspects"
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: "\(folder)/\(name).csv")
        guard round == nil else { return }
        let preview = Preview.mosaic(
            data.train, indices: Array(ranked.prefix(64)), columns: 8, scale: max(1, 64 / max(data.train.height, 1)))
        try AtomicFile.write(try ImageCodec.encodePNG(preview), to: "\(folder)/suspects.png")
    }
}
