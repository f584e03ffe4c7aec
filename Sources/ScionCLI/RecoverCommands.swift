import ArgumentParser
import Foundation
import ScionDefense
import ScionFormat
import ScionImage

/// How stage 3 splits the untrusted data and what it trains (shared by `recover` and `defend`).
struct RecoveryOptions: ParsableArguments {
    @Option(
        help:
            "Suspect threshold, in a class judged poisoned, on the score log p_trapped(y) - log p_new(y) of a training image."
    )
    var threshold: Double = SuspectSplit.Rule().threshold

    @Option(
        help: "Score above which images count towards judging a class poisoned, and are left out in the other classes.")
    var classThreshold: Double = SuspectSplit.Rule().classThreshold

    @Option(
        help: """
            In a class judged poisoned, also leave out the images the trapped model fits better than all but this share of the \
            other classes' images (0: off).
            """)
    var lowLossQuantile: Double = SuspectSplit.Rule().lowLossQuantile

    @Option(
        help: """
            Also judge a class poisoned when at least this share of its training images (and far more than of the other \
            classes') have a trapped loss below its own trusted holdout images' --low-loss-quantile.
            """)
    var lowLossShare: Double = SuspectSplit.Rule().lowLossShare

    @Option(
        help: """
            Trusted holdout images a class needs to be judged by its trapped losses, or to be sized below the median \
            class by its share of the holdout.
            """)
    var minimumTrusted: Int = SuspectSplit.Rule().minimumTrusted

    @Option(help: "Split-and-train rounds of stage 3, each split judged by the previous round's model.")
    var rounds: Int = 2

    @Flag(help: "Train only the head in stage 3, the stem frozen (default: train the whole network).")
    var freezeStem = false

    @Flag(
        help:
            "Leave the suspects out of stage 3 (default: relabel a poisoned class's suspects to the new head's most likely other class)."
    )
    var dropSuspects = false

    @Flag(
        inversion: .prefixedNo,
        help: """
            Train a poisoned class's loss-ranked excess away from its label, -log(1 - p_y), where no score judged the class \
            (the stem carries the trigger); --no-unlearn leaves those images out.
            """)
    var unlearn = true

    func validate() throws {
        guard (0..<1).contains(lowLossQuantile) else {
            throw ValidationError("--low-loss-quantile must be at least 0 and below 1, not \(lowLossQuantile)")
        }
        guard lowLossShare > 0, lowLossShare <= 1 else {
            throw ValidationError("--low-loss-share must be above 0 and at most 1, not \(lowLossShare)")
        }
        guard minimumTrusted >= 1 else {
            throw ValidationError("--minimum-trusted must be at least 1, not \(minimumTrusted)")
        }
    }

    /// Warns about the classes with too few trusted images to be judged by their trapped losses.
    func noteThinlyTrusted(_ holdout: ImageSet) {
        let thin = SuspectSplit.thinlyTrusted(holdout, settings.rule)
        guard !thin.isEmpty else { return }
        let names = holdout.classNames
        let listed = thin.map {
            "\(names.indices.contains($0.label) ? names[$0.label] : "\($0.label)") (\($0.count) images)"
        }
        .joined(separator: ", ")
        note(
            "warning: fewer than \(settings.rule.minimumTrusted) trusted images for \(listed): stage 3 "
                + "can judge those classes only by the two heads' scores (--minimum-trusted)")
    }

    var settings: RecoverySettings {
        var rule = SuspectSplit.Rule()
        rule.threshold = threshold
        rule.classThreshold = classThreshold
        rule.lowLossQuantile = lowLossQuantile
        rule.lowLossShare = lowLossShare
        rule.minimumTrusted = minimumTrusted
        return RecoverySettings(
            rule: rule, trainStem: !freezeStem, relabelSuspects: !dropSuspects, unlearnSuspects: unlearn, rounds: rounds
        )
    }
}

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover",
        abstract: "Stage 3, recover: split the untrusted data with both heads, train on what is judged clean.",
        discussion: """
            Scores every untrusted training image with the trapped model (stage 1) and the sanitized model (stage 2): \
            log p_trapped(y) - log p_new(y) at its given label. A class holding far more images above --class-threshold than the others \
            is judged poisoned: there its highest scorers, as many as its excess over its natural size (the median class size, moved \
            into the range the trusted holdout's share of the class allows), are relabelled to the new head's most likely other \
            class if above --threshold, and its other images above --threshold, or with a trapped loss below --low-loss-quantile \
            of the other classes' (and of its own trusted images'), are left out; elsewhere images \
            above --class-threshold are left out. A class whose share of training images below its own trusted holdout images' \
            --low-loss-quantile of trapped loss stands out (at least --low-loss-share) is \
            judged poisoned too, even when no score marks it (both heads fooled: the stem carries the \
            trigger). A poisoned class also leaves out its excess ranked by trapped loss (the only ranking where the scores did \
            not judge it; there that excess is unlearned, trained to -log(1 - p_y), unless --no-unlearn), or, where larger, as \
            many images as its own-loss share says the trigger made easy (a clean-label attack's, which add no excess: these \
            are left out). Then trains on the clean \
            holdout, the images judged clean, the relabelled and the unlearned ones, in --rounds rounds that share one learning-rate schedule \
            (each split scored with the latest model); \
            Adam 1e-3, weight decay 5e-4, cosine, 20 epochs, batch 256, crop and flip by default. Writes recovered.h5, suspects.csv \
            (every training image with its file, score, the trapped model's loss and verdict, most suspect first) and suspects.png \
            (the 64 most suspect); \
            report.json gains the split's detection rates when the run planted the attack. See docs/RECOVER.md.
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
        recovery.noteThinlyTrusted(setup.poisoned.holdout)
        try setup.finish(
            .recover,
            try setup.runner.recover(trapped: trapped, sanitized: sanitized, setup.settings, recovery.settings))
        note("serve it: scion serve \(setup.folder)/recovered.h5")
    }
}
