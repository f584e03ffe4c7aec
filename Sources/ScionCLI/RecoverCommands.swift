import ArgumentParser
import Foundation
import ScionDefense
import ScionFormat

/// How stage 3 splits the untrusted data and what it trains (shared by `recover` and `defend`).
struct RecoveryOptions: ParsableArguments {
    @Option(help: "Suspect threshold on the loss ratio log p_trapped(y) - log p_new(y) of a training image.")
    var threshold: Double = SuspectSplit.Rule().threshold

    @Option(help: "Split-and-train rounds of stage 3, each split judged by the previous round's model.")
    var rounds: Int = 2

    @Flag(help: "Train only the head in stage 3, the stem frozen (default: train the whole network).")
    var freezeStem = false

    @Flag(help: "Leave the suspects out of stage 3 (default: relabel a poisoned class's suspects to the new head's most likely other class).")
    var dropSuspects = false

    var settings: RecoverySettings {
        var rule = SuspectSplit.Rule()
        rule.threshold = threshold
        return RecoverySettings(rule: rule, trainStem: !freezeStem, relabelSuspects: !dropSuspects, rounds: rounds)
    }
}

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover", abstract: "Stage 3, recover: train the sanitized model further on the untrusted images judged clean.",
        discussion: """
        Scores every untrusted training image with the trapped model (stage 1) and the sanitized model (stage 2): an image the \
        trapped head fits far better than the new head (loss ratio above --threshold) is a suspect. Then trains the sanitized \
        model on the clean holdout, the images judged clean and the suspects relabelled by the new head; Adam 1e-3, weight decay \
        5e-4, cosine, 20 epochs, batch 256, crop and flip by default. Writes recovered.h5 and suspects.csv (every training image \
        with its score, most suspect first); report.json gains the split's detection rates when the run planted the attack.
        """)
    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions
    @OptionGroup var options: StageOptions
    @OptionGroup var recovery: RecoveryOptions

    @Option(help: "The stage-1 model (default: trapped.h5 in the run folder).")
    var stage1: String?

    @Option(help: "The stage-2 model (default: sanitized.h5 in the run folder).")
    var stage2: String?

    func run() throws {
        let setup = try StageSetup(stage: .recover, data: data, attack: attack, options: options)
        let trapped = try ModelFile.read(stage1 ?? "\(setup.folder)/trapped.h5")
        let sanitized = try ModelFile.read(stage2 ?? "\(setup.folder)/sanitized.h5")
        try setup.finish(.recover, try setup.runner.recover(trapped: trapped, sanitized: sanitized, setup.settings, recovery.settings))
        note("serve it: scion serve \(setup.folder)/recovered.h5")
    }
}

struct DefendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defend", abstract: "The whole defense in one run folder: baseline, trap, replace, recover.",
        discussion: """
        Runs the undefended baseline (when --baseline-epochs > 0), stage 1 (trap), stage 2 (replace) and stage 3 (recover) on \
        the same data, each with its own epochs and otherwise the stage commands' defaults and options. Ends with report.md \
        and report.json (its "final" key names the defended model). --pattern none defends your own data: nothing is planted, \
        and suspects.csv lists the training images most likely poisoned.
        """)
    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions
    @OptionGroup var options: StageOptions
    @OptionGroup var recovery: RecoveryOptions

    @Option(help: "Append one row per model of this run to this CSV (BackdoorBench's columns; created if missing).")
    var results: String?

    @Option(help: "Epochs of the undefended baseline (0: none).")
    var baselineEpochs: Int = 0

    @Option(help: "Epochs of stage 1, trap.")
    var trapEpochs: Int = 200

    @Option(help: "Epochs of stage 2, replace.")
    var replaceEpochs: Int = 100

    @Option(help: "Epochs of stage 3, recover (0: stop after stage 2).")
    var recoverEpochs: Int = 20

    func validate() throws {
        guard options.epochs == nil, options.batchSize == nil, options.lr == nil else {
            throw ValidationError("defend sets each stage's epochs with --trap-epochs etc. and keeps each stage's batch size and learning rate; run the stage commands to change those")
        }
        guard baselineEpochs >= 0, trapEpochs >= 1, replaceEpochs >= 1, recoverEpochs >= 0 else {
            throw ValidationError("--trap-epochs and --replace-epochs must be positive, --baseline-epochs and --recover-epochs at least 0")
        }
    }

    func run() throws {
        let setup = try StageSetup(stage: .trap, data: data, attack: attack, options: options)
        let runner = setup.runner
        func settings(_ stage: Stage, _ epochs: Int) throws -> StageSettings {
            var s = try options.settings(for: stage, dataset: data.dataset)
            s.epochs = epochs
            return s
        }
        if baselineEpochs > 0 { try setup.finish(.train, try runner.trainUndefended(try settings(.train, baselineEpochs))) }
        let trapped = try runner.trap(try settings(.trap, trapEpochs))
        try setup.finish(.trap, trapped)
        let sanitized = try runner.replace(stage1: trapped, try settings(.replace, replaceEpochs))
        var final = Stage.replace
        var report = try setup.finish(.replace, sanitized)
        if recoverEpochs > 0 {
            let recovered = try runner.recover(trapped: trapped, sanitized: sanitized, try settings(.recover, recoverEpochs), recovery.settings)
            report = try setup.finish(.recover, recovered)
            final = .recover
        }
        if let results {
            try report.appendResults(to: results)
            note("results appended to \(results)")
        }
        note("the defended model: \(setup.folder)/\(final.modelFile); serve it: scion serve \(setup.folder)/\(final.modelFile)")
    }
}
