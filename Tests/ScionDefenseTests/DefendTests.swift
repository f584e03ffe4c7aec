import Foundation
import ScionData
import ScionDefense
import ScionFormat
import ScionGraph
import ScionTestSupport
import ScionTraining
import Testing

/// The whole defense on a small generated dataset: the undefended model learns the trigger, and
/// trap, replace and recover take it away while keeping the accuracy.
@Suite struct DefendTests {
    let dir = TemporaryDirectory()

    func settings(_ stage: Stage, epochs: Int) -> StageSettings {
        var s = StageSettings.defaults(for: stage, arch: .cnnSmall)
        s.epochs = epochs
        s.batchSize = [.replace, .replaceUntrapped, .fineTune, .finePrune].contains(stage) ? 16 : 32
        s.learningRate = [.replace, .replaceUntrapped].contains(stage) ? 0.01 : 3e-3
        s.threads = 2
        s.evalEvery = epochs
        s.showProgress = false
        return s
    }

    /// A runner writing to the test's folder, for the badnet_grid attack on class 1 of `data`.
    func runner(_ data: PoisonedDataset) -> StageRunner {
        let context = RunContext(
            dataset: "synthetic", pattern: "badnet_grid", target: 1, triggeredRatio: 0.1, ratioHoldout: 0.1,
            triggerSeed: 0)
        return StageRunner(data: data, context: context, folder: dir.path)
    }

    @Test func recoverWithTheStemFrozenTrainsOnlyTheNewHead() throws {
        let data = try DefenseTests.poisoned(train: 400, test: 100)
        let runner = runner(data)
        let trapped = try runner.trap(settings(.trap, epochs: 1))
        let sanitized = try runner.replace(stage1: trapped, settings(.replace, epochs: 1))
        // The sanitized model's stem ends at its `graft` seam (it has no `stem<N>` cut point).
        let recovered = try runner.recover(
            trapped: trapped, sanitized: sanitized, settings(.recover, epochs: 1),
            RecoverySettings(trainStem: false, rounds: 1))
        let seam = try #require(sanitized.graph.cutPoint(named: "graft")).value
        let stem = Set(try sanitized.graph.stem(upTo: seam).parameters.map(\.name))
        let trained = sanitized.graph.parameters.filter(\.trainable).map(\.name)
        let changed = trained.filter { recovered.parameters[$0]?.floats != sanitized.parameters[$0]?.floats }
        #expect(!changed.isEmpty && changed.allSatisfy { !stem.contains($0) }, "changed: \(changed)")
    }

    @Test func stageThreeTrainsOnTheCleanTheRelabelledAndTheUnlearned() throws {
        let data = try DefenseTests.poisoned(train: 40, test: 8)
        let runner = runner(data)
        let labels = data.train.labels.map(Int.init)
        var split = SuspectSplit.split(
            scores: labels.map { _ in 0 }, labels: labels, relabels: labels.map { ($0 + 1) % 4 }, classes: 4,
            rule: .init())
        split.verdicts[0] = .dropped
        split.verdicts[1] = .relabelled
        split.verdicts[2] = .unlearned
        split.verdicts[3] = .unlearned
        let (training, unlearn) = runner.recoveryData(split, RecoverySettings())
        let kept = data.holdout.count + labels.count - 4
        #expect(training.count == kept + 3)
        #expect(training.labels[kept] == Int32((labels[1] + 1) % 4))
        #expect(unlearn == [kept + 1, kept + 2])
        #expect(training.labels[kept + 1] == data.train.labels[2])
        let without = runner.recoveryData(split, RecoverySettings(relabelSuspects: false, unlearnSuspects: false))
        #expect(without.0.count == kept && without.unlearn.isEmpty)
    }

    @Test func defendRemovesABackdoorTheUndefendedModelLearned() throws {
        let data = try DefenseTests.poisoned(train: 1200, test: 200)
        let runner = runner(data)
        let undefended = try runner.trainUndefended(settings(.train, epochs: 4))
        let trapped = try runner.trap(settings(.trap, epochs: 4))
        let sanitized = try runner.replace(stage1: trapped, settings(.replace, epochs: 5))
        let recovered = try runner.recover(
            trapped: trapped, sanitized: sanitized, settings(.recover, epochs: 4), RecoverySettings())
        func measure(_ m: Model) throws -> Metrics {
            try Evaluation.measure(
                m, clean: data.test, triggered: data.triggeredTest, target: 1, threads: 2, precision: .fp32)
        }
        let baseline = try measure(undefended), defended = try measure(recovered)

        #expect(baseline.asr > 0.9, "the undefended model did not learn the trigger: ASR \(baseline.asr)")
        #expect(defended.asr < 0.1, "ASR after the defense: \(defended.asr)")
        #expect(defended.acc >= baseline.acc - 0.05, "ACC \(baseline.acc) -> \(defended.acc)")
        #expect(recovered.provenance.lineage.map(\.operation).suffix(2) == ["recover", "recover"])
        // Still a model with a new head, so `scion serve` accepts it.
        #expect(recovered.provenance.headReplaced)
        let report = try RunReport.collect(dir.path)
        #expect(report.final == "recovered.h5")
        let detection = try #require(report.stages[RunReport.name(.recover)]?.detection)
        #expect(detection.poisoned == data.poisoned.count && (detection.tpr ?? 0) > 0.5)
        #expect(FileManager.default.fileExists(atPath: dir.file("suspects.csv")))
        #expect(FileManager.default.fileExists(atPath: dir.file("suspects_round1.csv")))
        // The baselines, in the same folder and report.
        let tuned = try runner.fineTune(undefended: undefended, settings(.fineTune, epochs: 2))
        let untrapped = try runner.replaceUntrapped(undefended: undefended, settings(.replaceUntrapped, epochs: 2))
        let pruned = try runner.finePrune(undefended: undefended, settings(.finePrune, epochs: 2))
        #expect(!tuned.provenance.headReplaced && untrapped.provenance.headReplaced && !pruned.provenance.headReplaced)
        // Every model the run wrote carries its own history (issue 17's lineage check).
        for file in [
            "undefended.h5", "trapped.h5", "sanitized.h5", "recovered.h5", "finetuned.h5", "replaced_untrapped.h5",
            "pruned.h5"
        ] {
            let check = try ModelFile.read(dir.file(file)).lineageCheck()
            #expect(check == .consistent, "\(file): \(check)")
        }
        // The pruned channels' classifier columns are zero after fine-tuning too.
        let step = try #require(pruned.provenance.lineage.last)
        let count = Int(step.details["pruned_channels"]?.numberValue ?? 0),
            channels = Int(step.details["channels"]?.numberValue ?? 0)
        let weight = try #require(pruned.parameters["fc.weight"]?.floats)
        let zeroColumns = (0..<channels).filter { c in
            stride(from: c, to: weight.count, by: channels).allSatisfy { weight[$0] == 0 }
        }
        #expect(
            count > 0 && zeroColumns.count == count, "\(count) pruned, \(zeroColumns.count) zero columns of \(channels)"
        )
        #expect(untrapped.provenance.lineage.map(\.operation) == ["init", "train", "cut", "graft", "replace"])
        let all = try RunReport.collect(dir.path)
        #expect(
            all.resultRows().map { $0.split(separator: ",")[4] } == [
                "none", "trap_only", "tr", "tr_recover", "ft", "replace_without_trap", "fp"
            ])
        #expect(all.final == "recovered.h5" && all.defense_seconds == report.defense_seconds)
    }
}
