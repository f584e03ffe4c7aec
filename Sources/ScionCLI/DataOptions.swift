import ArgumentParser
import Foundation
import ScionKernels
import ScionData
import ScionDefense
import ScionFormat
import ScionGraph
import ScionImage
import ScionTraining

/// Which dataset and how to split it (shared by every command that reads data).
struct DataOptions: ParsableArguments {
    @Option(
        name: [.customLong("ds"), .customLong("dataset")],
        help: "Dataset: cifar10, gtsrb, fashion-mnist, mnist, folder.")
    var dataset: String = "cifar10"

    @Option(
        name: [.customLong("data-root"), .customLong("data_root")],
        help: "Folder holding the dataset (fashion-mnist defaults to /usr/share/datasets/fashion-mnist).")
    var dataRoot: String?

    @Option(
        name: [.customLong("ratio-holdout"), .customLong("ratio_holdout")],
        help: "Share of the training set held out clean for stage 2.")
    var ratioHoldout: Double = 0.05

    @Option(
        help:
            "Trusted clean images for stage 2 and 3, as <class>/ folders named like the training set's: the holdout, instead of --ratio-holdout of the training set (which is then all untrusted)."
    )
    var holdout: String?

    @Option(help: "Seed of the one-time shuffle before splitting datasets grouped by class (GTSRB, folder).")
    var splitSeed: UInt64 = 0

    @Option(help: "Side of the images for the folder dataset.")
    var imageSize: Int = 32

    @Option(help: "Use only the first N training and test images (quick runs and CI); 0 means all.")
    var limit: Int = 0

    func load() throws -> LoadedDataset {
        let name = try DatasetName(parsing: dataset)
        var data = try DatasetReader.load(name, root: try resolvedRoot(name), imageSize: imageSize)
        if limit > 0 {
            data.train = data.train.subset(Array(0..<min(limit, data.train.count)))
            data.test = data.test.subset(Array(0..<min(limit, data.test.count)))
        }
        return data
    }
}

extension DataOptions {
    /// `--data-root`, or the first existing default: `$SCION_DATA/<folder>`, `data/<folder>`,
    /// `../shared/data/<folder>` (Fashion-MNIST: Debian's package).
    func resolvedRoot(_ name: DatasetName) throws -> String? {
        if let dataRoot { return dataRoot }
        if let root = name.defaultRoot { return root }
        let folder =
            [DatasetName.cifar10: "cifar-10-batches-bin", .gtsrb: "GTSRB", .mnist: "mnist", .folder: "images"][name]
            ?? name.rawValue
        var candidates = ["data/\(folder)", "../shared/data/\(folder)"]
        if let env = ProcessInfo.processInfo.environment["SCION_DATA"] { candidates.insert("\(env)/\(folder)", at: 0) }
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) { return found }
        throw UsageError(
            "no --data-root given and none of \(candidates.joined(separator: ", ")) exists; pass --data-root (\(name.layout))"
        )
    }

    /// The default run folder for a dataset and attack.
    func defaultRunFolder(_ attack: AttackOptions) -> String {
        "runs/\(dataset)-\(attack.pattern)-target\(attack.target)"
    }
}

/// Which backdoor to plant (shared by poison, train, trap, replace and eval).
struct AttackOptions: ParsableArguments {
    @Option(
        help:
            "Trigger: badnet_sq, badnet_grid, trojan_3x3, trojan_8x8, trojan_wm, l0_inv, l2_inv, blend, smooth, sig, cl; or none."
    )
    var pattern: String = "badnet_grid"

    @Option(help: "Target label of the backdoor.")
    var target: Int = 0

    @Option(
        name: [.customLong("triggered-ratio"), .customLong("triggered_ratio")],
        help: "Poisoned images as a share of the full training set.")
    var triggeredRatio: Double = 0.1

    @Option(help: "Which eligible images to poison: first (dataset order, as the reference) or random.")
    var poisonOrder: String = "first"

    @Option(help: "Seed of generated triggers and of --poison-order random.")
    var triggerSeed: UInt64 = 0

    @Option(help: "Your own trigger picture (PNG, JPEG or PPM), resized to the image size.")
    var trigger: String?

    @Option(
        help: "Your own l0_inv mask: a PNG (nonzero = overwritten) or a .npy (C x H x W or H x W, 1 = overwritten).")
    var mask: String?

    @Option(help: "Weight of the trigger in blend and sig (default 0.2).")
    var alpha: Float?

    @Option(help: "cl: adversarial training images as a .npy (N x H x W x C uint8, the official inf_16.npy layout).")
    var clImages: String?

    @Option(
        help:
            "cl: a clean model Scion trained, to compute the adversarial images with PGD (L-inf 16/255); as in Turner et al., an adversarially robust one (scion train --pattern none --adversarial-epsilon 8)."
    )
    var clModel: String?

    var isNone: Bool { pattern.lowercased() == "none" }

    /// The trigger for images of `data`'s size.
    func makeTrigger(for data: ImageSet) throws -> Trigger {
        let p = try TriggerPattern(parsing: pattern)
        let custom = try trigger.map { try ImageCodec.decode(contentsOf: $0) }
        let customMask = try mask.map {
            try loadMask($0, height: data.height, width: data.width, channels: data.channels)
        }
        return try TriggerFactory.make(
            p, height: data.height, width: data.width, channels: data.channels, seed: triggerSeed,
            custom: custom, customMask: customMask, alpha: alpha)
    }

    /// Splits `data` and plants the backdoor (none: clean splits and no triggered test set).
    func poison(_ data: LoadedDataset, options: DataOptions, threads: Int? = nil) throws -> PoisonedDataset {
        var clean = data
        let trusted = try options.holdout.map { try DatasetReader.loadHoldout($0, like: data.train) }
        if isNone {
            return try Poisoning.apply(
                clean, ratioHoldout: options.ratioHoldout, splitSeed: options.splitSeed, attack: nil,
                trustedHoldout: trusted)
        }
        let trigger = try makeTrigger(for: data.train)
        var adversarial: [UInt8]?
        if trigger.pattern == .cleanLabel {
            adversarial = try cleanLabelImages(data.train, threads: threads)
        }
        guard ["first", "random"].contains(poisonOrder) else { throw UsageError("--poison-order is first or random") }
        let attack = AttackConfiguration(
            trigger: trigger, target: target, triggeredRatio: triggeredRatio,
            order: poisonOrder == "first" ? .first : .random(triggerSeed), cleanLabelImages: adversarial)
        clean.train = data.train
        return try Poisoning.apply(
            clean, ratioHoldout: options.ratioHoldout, splitSeed: options.splitSeed, attack: attack,
            trustedHoldout: trusted)
    }

    private func cleanLabelImages(_ train: ImageSet, threads: Int?) throws -> [UInt8] {
        if let clImages {
            let tensor = try NPY.read(clImages)
            guard tensor.shape == [train.count, train.height, train.width, train.channels],
                case .uint8(let pixels) = tensor.storage
            else {
                throw UsageError(
                    "\(clImages) must be uint8 [\(train.count), \(train.height), \(train.width), \(train.channels)] (the training set in order)"
                )
            }
            return pixels
        }
        guard let clModel else {
            throw UsageError(
                "cl needs adversarial images: pass --cl-model clean.h5 (a robust model trained on clean data: `scion train --pattern none --adversarial-epsilon 8`) or --cl-images inf_16.npy"
            )
        }
        note("cl: computing PGD adversarial images of the target class against \(clModel)")
        var settings = CleanLabelAttack.Settings()
        settings.threads = threads ?? CPUBudget.threads
        return try CleanLabelAttack.perturb(
            train, model: try ModelFile.read(clModel), target: target, settings: settings
        ) { done, total in
            if done == total || done % (settings.batchSize * 10) == 0 { note("cl: \(done)/\(total) images") }
        }
    }

    private func loadMask(_ path: String, height: Int, width: Int, channels: Int) throws -> [Float] {
        if path.hasSuffix(".npy") {
            let t = try NPY.read(path)
            let v = t.floats
            if t.shape == [channels, height, width] {
                // C x H x W (the official mask.npy) to H x W x C.
                return (0..<(height * width * channels)).map { i in v[(i % channels) * height * width + i / channels] }
            }
            if t.shape == [height, width] { return (0..<(height * width * channels)).map { v[$0 / channels] } }
            throw UsageError(
                "\(path): mask shape \(t.shape), expected [\(channels), \(height), \(width)] or [\(height), \(width)]")
        }
        let image = try ImageCodec.decode(contentsOf: path).withChannels(channels).resized(width: width, height: height)
        return image.pixels.map { $0 > 0 ? 1 : 0 }
    }
}
