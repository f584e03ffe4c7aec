import ArgumentParser
import Crypto
import Foundation
import ScionData
import ScionDefense
import ScionFormat
import ScionGraph
import ScionSigning
import ScionZoo

/// Options of the training stages, spelled as the reference's flags (its spellings `--md`,
/// `--Lambda`, `--Lambda2`, `--stem_end_block`, `--cpus` work too; `--gpu` and `--tb` are
/// accepted and ignored). Unset options take the stage's reference default.
struct StageOptions: ParsableArguments {
    @Option(
        name: [.customLong("arch"), .customLong("md")],
        help:
            "Architecture: wrn16-1 (default; the reference's WRN16), wrn{d}-{k}, resnet18, resnet34 (ResNet34), cnn-small (default for fashion-mnist and mnist)."
    )
    var arch: String?

    @Option(
        name: [.customLong("stem"), .customLong("stem_end_block")],
        help: "Cut point: WRN16 4/5/6 (default 5), ResNet-34 27/29/31/33 (default 31), cnn-small 1-3 (default 3).")
    var stem: Int?

    @Option(
        name: [.customShort("e"), .customLong("epochs")],
        help: "Epochs (reference: 200 for train and trap, 100 for replace).")
    var epochs: Int?

    @Option(name: [.customShort("b"), .customLong("batch-size")], help: "Batch size (reference: 256; 64 for replace).")
    var batchSize: Int?

    @Option(help: "Learning rate (reference: 1e-3; 0.03 for replace).")
    var lr: Double?

    @Option(help: "Optimizer: adam (default), adamw, sgd (momentum 0.9).")
    var opt: String?

    @Option(help: "Weight decay (default 5e-4).")
    var wd: Double?

    @Option(help: "Schedule: cos (default), multisteps, constant.")
    var decay: String?

    @Option(help: "Dropout of the new head (replace; default 0.5).")
    var dropout: Double?

    @Option(
        name: [.customLong("lambda"), .customLong("Lambda")],
        help: "Weight of the reconstruction MSE (trap; default 10).")
    var lambda: Double?

    @Option(
        name: [.customLong("lambda2"), .customLong("Lambda2")], help: "Weight of the total variation (trap; default 1)."
    )
    var lambda2: Double?

    @Option(help: "Seed of initialisation, shuffling, augmentation and dropout.")
    var seed: UInt64 = 0

    @Option(name: [.customLong("out")], help: "Run folder (default runs/<ds>-<pattern>-target<t>).")
    var out: String?

    @Option(
        name: [.customLong("threads"), .customLong("cpus")],
        help: "Threads (default: all cores; under mpirun, shared by the ranks on a machine).")
    var threads: Int?

    @Option(name: .customLong("bucket-mb"), help: ProcessGroup.bucketHelp)
    var bucketMiB: Double?

    @Option(help: "Evaluate ACC and ASR every N epochs and after the last (default: every ceil(epochs / 5)).")
    var evalEvery: Int?

    @Flag(help: "Continue from the stage's checkpoint in the run folder.")
    var resume = false

    @Flag(help: "No progress lines.")
    var quiet = false

    @Option(
        name: .customLong("sign-key"),
        help: "Private key (PEM, from scion keygen): sign each model the stage writes (MODEL.sig beside it).")
    var signKey: String?

    @OptionGroup var precision: PrecisionOption

    @Option(help: .hidden) var gpu: String?
    @Option(help: .hidden) var tb: Int?

    /// The settings of `stage`: the reference's defaults overridden by the flags given.
    func settings(for stage: Stage, dataset: String) throws -> StageSettings {
        let architecture = try Self.architecture(
            arch ?? (["fashion-mnist", "mnist"].contains(dataset) ? "cnn-small" : "wrn16-1"))
        var s = StageSettings.defaults(for: stage, arch: architecture)
        if let stem { s.stem = stem }
        if let epochs { s.epochs = epochs }
        if let batchSize { s.batchSize = batchSize }
        if let lr { s.learningRate = lr }
        if let opt { s.optimizer = opt }
        if let wd { s.weightDecay = wd }
        if let decay { s.decay = decay }
        if let dropout { s.dropout = dropout }
        if let lambda { s.lambda = lambda }
        if let lambda2 { s.lambda2 = lambda2 }
        s.seed = seed
        s.threads = threads ?? ProcessGroup.defaultThreads
        s.collective = try ProcessGroup.world()
        s.bucketBytes = try ProcessGroup.bucketBytes(bucketMiB)
        if let evalEvery { s.evalEvery = evalEvery }
        s.resume = resume
        s.showProgress = !quiet && ProcessGroup.isRoot
        s.precision = try precision.checked()
        guard s.epochs >= 1, s.batchSize >= 1, s.learningRate > 0, s.threads >= 1 else {
            throw UsageError("epochs, batch size, learning rate and threads must be positive")
        }
        return s
    }

    /// Parses an architecture, accepting the reference's names too.
    static func architecture(_ name: String) throws -> Architecture {
        switch name {
        case "WRN16": return .wideResNet(depth: 16, widen: 1)
        case "WRN28": return .wideResNet(depth: 28, widen: 2)
        case "ResNet34": return .resNet34
        default: return try Architecture(parsing: name)
        }
    }
}

/// What every stage command shares: load and poison the data, prepare the run folder.
struct StageSetup {
    let poisoned: PoisonedDataset
    let context: RunContext
    let folder: String
    let settings: StageSettings
    /// Signs each stage's model as it is written (`--sign-key`).
    let signingKey: P256.Signing.PrivateKey?

    init(stage: Stage, data: DataOptions, attack: AttackOptions, options: StageOptions) throws {
        settings = try options.settings(for: stage, dataset: data.dataset)
        signingKey = try options.signKey.map(SigningKeys.privateKey)
        folder = options.out ?? data.defaultRunFolder(attack)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let loaded = try data.load()
        poisoned = try attack.poison(loaded, options: data, threads: settings.threads)
        context = RunContext(
            dataset: loaded.name.rawValue, pattern: attack.pattern, target: attack.target,
            triggeredRatio: attack.isNone ? 0 : attack.triggeredRatio,
            ratioHoldout: data.holdout == nil ? data.ratioHoldout : 0, triggerSeed: attack.triggerSeed)
        note(
            "\(loaded.name.rawValue): \(poisoned.train.count) training (\(poisoned.poisoned.count) poisoned with \(attack.pattern)), \(poisoned.holdout.count) holdout, \(poisoned.test.count) test images; run folder \(folder)"
        )
    }

    var runner: StageRunner { StageRunner(data: poisoned, context: context, folder: folder) }

    /// Signs the stage's model, writes the report and prints the stage's line; nil on the ranks
    /// other than 0 (which write nothing).
    @discardableResult
    func finish(_ stage: Stage, _ model: Model) throws -> RunReport? {
        guard settings.collective.isRoot else { return nil }
        if let signingKey {
            let path = "\(folder)/\(stage.modelFile)"
            try AtomicFile.write(
                try ModelSignature.sign(path, key: signingKey), to: ModelSignature.defaultPath(for: path))
        }
        let report = try RunReport.collect(folder)
        try report.write()
        guard let s = report.stages[RunReport.name(stage)] else { return report }
        var line = String(format: "%@: clean ACC %.2f%%, ASR %.2f%%", stage.rawValue, s.acc * 100, s.asr * 100)
        if let ra = s.ra { line += String(format: ", RA %.2f%%", ra * 100) }
        if let der = s.der { line += String(format: ", DER %.1f", der * 100) }
        if let d = s.detection {
            line += String(format: "; %d suspects found", d.suspects)
            if let tpr = d.tpr { line += String(format: " (TPR %.1f%%, FPR %.1f%%)", tpr * 100, d.fpr * 100) }
        }
        note(line + " -> \(folder)/\(stage.modelFile) (report: \(folder)/report.md)")
        return report
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Normal training on the poisoned data: the no-defense baseline (the reference's normal_training.py).",
        discussion:
            "Trains on the whole training set (train split plus holdout) with cross-entropy; Adam 1e-3, weight decay 5e-4, cosine, 200 epochs, batch 256 by default. Writes undefended.h5."
    )
    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions
    @OptionGroup var options: StageOptions

    @Option(
        help:
            "Fast adversarial training (FGSM from a random start, Wong et al. 2020) with this L-inf bound in pixel levels of 255, e.g. 8; 0: off. For the source model of the cl attack's PGD images (--cl-model)."
    )
    var adversarialEpsilon: Double = 0

    func run() throws {
        guard (0..<255).contains(adversarialEpsilon) else {
            throw UsageError("--adversarial-epsilon is in pixel levels, from 0 to under 255")
        }
        let setup = try StageSetup(stage: .train, data: data, attack: attack, options: options)
        var settings = setup.settings
        settings.adversarialEpsilon = Float(adversarialEpsilon / 255)
        try setup.finish(.train, try setup.runner.trainUndefended(settings))
    }
}

struct TrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trap", abstract: "Stage 1, bait and trap (the reference's backdoor_trapper_bait_and_trap.py).",
        discussion:
            "Stem, classification head and reconstruction decoder at --stem; loss CE + lambda MSE + lambda2 TV; Adam 1e-3, weight decay 5e-4, cosine, 200 epochs, batch 256 by default; trains on the poisoned train split only. Writes trapped.h5."
    )
    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions
    @OptionGroup var options: StageOptions

    func run() throws {
        let setup = try StageSetup(stage: .trap, data: data, attack: attack, options: options)
        try setup.finish(.trap, try setup.runner.trap(setup.settings))
    }
}

struct ReplaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replace",
        abstract: "Stage 2, remove and patch (the reference's backdoor_trapper_remove_and_patch.py).",
        discussion:
            "Cuts the stage-1 model at --stem, drops its decoder and head, grafts a freshly initialised head (dropout inside its block and on its output), freezes the stem (BatchNorm on running statistics) and trains the new head on the clean holdout with CutMix and label smoothing 0.1; Adam 0.03, weight decay 5e-4, cosine, 100 epochs, batch 64 by default. Writes sanitized.h5: stem and new head only."
    )
    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions
    @OptionGroup var options: StageOptions

    @Option(help: "The stage-1 model (default: trapped.h5 in the run folder).")
    var stage1: String?

    func run() throws {
        let setup = try StageSetup(stage: .replace, data: data, attack: attack, options: options)
        let trapped = try ModelFile.read(stage1 ?? "\(setup.folder)/trapped.h5")
        try setup.finish(.replace, try setup.runner.replace(stage1: trapped, setup.settings))
        note("serve it: scion serve \(setup.folder)/sanitized.h5")
    }
}
