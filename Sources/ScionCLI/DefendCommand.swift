import ArgumentParser
import Foundation
import ScionDefense
import ScionGraph

/// `scion defend`: the whole defense, and the baselines it is compared with, in one run folder.
struct DefendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defend", abstract: "The whole defense in one run folder: baseline, trap, replace, recover.",
        discussion: """
            Runs the undefended baseline (when --baseline-epochs > 0), stage 1 (trap), stage 2 (replace) and stage 3 (recover) on \
            the same data, each with its own epochs and otherwise the stage commands' defaults and options. Ends with report.md \
            and report.json (its "final" key names the defended model). --method ft, fp and replace-without-trap add the \
            baseline defenses, on the undefended model (so they need --baseline-epochs): FT fine-tunes it whole on the holdout, \
            fp prunes the last feature channels least active on the holdout (as many as cost at most 10 points of holdout \
            accuracy) and fine-tunes, replace-without-trap grafts a new head on its stem (stage 2 without stage 1). --pattern none defends your own data: \
            nothing is planted, and suspects.csv lists the training images most likely poisoned.
            """)

    enum Method: String, ExpressibleByArgument, CaseIterable {
        case tr, ft, fp
        case replaceWithoutTrap = "replace-without-trap"
    }

    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions
    @OptionGroup var options: StageOptions
    @OptionGroup var recovery: RecoveryOptions

    @Option(
        help:
            "A defense to run: tr (trap, replace, recover), ft, fp (fine-pruning) or replace-without-trap; repeat for several."
    )
    var method: [Method] = [.tr]

    @Option(help: "Append one row per model of this run to this CSV (BackdoorBench's columns; created if missing).")
    var results: String?

    @Option(help: "Epochs of the undefended baseline (0: none).")
    var baselineEpochs: Int = 0

    @Option(help: "Epochs of stage 1, trap.")
    var trapEpochs: Int = 200

    @Option(help: "Epochs of stage 2, replace (and of replace-without-trap).")
    var replaceEpochs: Int = 100

    @Option(help: "Epochs of stage 3, recover (0: stop after stage 2).")
    var recoverEpochs: Int = 20

    @Option(help: "Epochs of the FT baseline and of FP's fine-tuning.")
    var ftEpochs: Int = 20

    func validate() throws {
        guard options.epochs == nil, options.batchSize == nil, options.lr == nil else {
            throw ValidationError(
                "defend sets each stage's epochs with --trap-epochs etc. and keeps each stage's batch size and learning rate; run the stage commands to change those"
            )
        }
        guard baselineEpochs >= 0, trapEpochs >= 1, replaceEpochs >= 1, recoverEpochs >= 0, ftEpochs >= 1 else {
            throw ValidationError(
                "--trap-epochs, --replace-epochs and --ft-epochs must be positive, --baseline-epochs and --recover-epochs at least 0"
            )
        }
        guard baselineEpochs > 0 || method == [.tr] else {
            throw ValidationError(
                "--method ft, fp and replace-without-trap start from the undefended model: give --baseline-epochs")
        }
    }

    func run() throws {
        let setup = try StageSetup(stage: .trap, data: data, attack: attack, options: options)
        var report: RunReport?
        var undefended: Model?
        if baselineEpochs > 0 {
            undefended = try setup.runner.trainUndefended(try settings(.train, baselineEpochs))
            report = try setup.finish(.train, try required(undefended))
        }
        for m in method {
            switch m {
            case .tr: report = try trapReplaceRecover(setup)
            case .ft:
                let model = try setup.runner.fineTune(
                    undefended: try required(undefended), try settings(.fineTune, ftEpochs))
                report = try setup.finish(.fineTune, model)
            case .fp:
                let model = try setup.runner.finePrune(
                    undefended: try required(undefended), try settings(.finePrune, ftEpochs))
                report = try setup.finish(.finePrune, model)
            case .replaceWithoutTrap:
                let model = try setup.runner.replaceUntrapped(
                    undefended: try required(undefended), try settings(.replaceUntrapped, replaceEpochs))
                report = try setup.finish(.replaceUntrapped, model)
            }
        }
        if let results, let report {
            try report.appendResults(to: results)
            note("results appended to \(results)")
        }
        if let final = report?.final {
            note("the defended model: \(setup.folder)/\(final); serve it: scion serve \(setup.folder)/\(final)")
        }
    }

    func required(_ undefended: Model?) throws -> Model {
        guard let undefended else {
            throw ValidationError("the baselines start from the undefended model: give --baseline-epochs")
        }
        return undefended
    }

    func settings(_ stage: Stage, _ epochs: Int) throws -> StageSettings {
        var s = try options.settings(for: stage, dataset: data.dataset)
        s.epochs = epochs
        return s
    }

    func trapReplaceRecover(_ setup: StageSetup) throws -> RunReport? {
        let trapped = try setup.runner.trap(try settings(.trap, trapEpochs))
        try setup.finish(.trap, trapped)
        let sanitized = try setup.runner.replace(stage1: trapped, try settings(.replace, replaceEpochs))
        var report = try setup.finish(.replace, sanitized)
        if recoverEpochs > 0 {
            recovery.noteThinlyTrusted(setup.poisoned.holdout)
            let recovered = try setup.runner.recover(
                trapped: trapped, sanitized: sanitized, try settings(.recover, recoverEpochs), recovery.settings)
            report = try setup.finish(.recover, recovered)
        }
        return report
    }
}
