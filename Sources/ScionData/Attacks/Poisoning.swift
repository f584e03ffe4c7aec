import ScionGraph
import ScionImage

/// What to poison and how, with the reference's defaults.
public struct AttackConfiguration: Sendable {
    public enum Order: Sendable, Equatable {
        /// The first N eligible training images in dataset order (the reference).
        case first
        /// N eligible images chosen at random with this seed.
        case random(UInt64)
    }

    public var trigger: Trigger
    public var target: Int
    /// Poisoned images as a fraction of the full training set (train split plus holdout).
    public var triggeredRatio: Double
    public var order: Order
    /// For `cl`: adversarially perturbed images (uint8, HWC) for the training set in its
    /// original order, replacing the target-class images before the grid is stamped.
    public var cleanLabelImages: [UInt8]?

    public init(
        trigger: Trigger, target: Int = 0, triggeredRatio: Double = 0.1, order: Order = .first,
        cleanLabelImages: [UInt8]? = nil
    ) {
        self.trigger = trigger
        self.target = target
        self.triggeredRatio = triggeredRatio
        self.order = order
        self.cleanLabelImages = cleanLabelImages
    }
}

/// A dataset split and poisoned: what each stage trains and evaluates on.
public struct PoisonedDataset: Sendable {
    /// The training split with the poisoned images (labels set to the target for dirty-label attacks).
    public var train: ImageSet
    /// The clean holdout (never poisoned): the defender's trusted data.
    public var holdout: ImageSet
    /// The clean test set.
    public var test: ImageSet
    /// Every non-target test image with the trigger, labels unchanged: ASR is the share
    /// predicted as the target.
    public var triggeredTest: ImageSet
    /// Positions in `train` of the poisoned images.
    public var poisoned: [Int]
    public var split: SplitPlan
    /// The planted trigger (nil: nothing planted).
    public var trigger: Trigger?
    public var target: Int
    /// Fingerprints of the splits (train before poisoning, holdout, test).
    public var fingerprints: [String: String]
    /// Each `train` image's file, relative to the data root (folder datasets; else empty).
    public var trainFiles: [String] = []
}

public enum Poisoning {
    /// Splits `dataset` and poisons its training split as the reference does. With a
    /// `trustedHoldout` (the user's own clean images) that is the holdout and the whole
    /// training set is the (untrusted) train split. `attack` nil: nothing is planted and there
    /// is no triggered test set.
    public static func apply(
        _ dataset: LoadedDataset, ratioHoldout: Double, splitSeed: UInt64?, attack: AttackConfiguration?,
        trustedHoldout: ImageSet? = nil
    ) throws -> PoisonedDataset {
        guard let attack else {
            return try clean(dataset, ratioHoldout: ratioHoldout, splitSeed: splitSeed, trustedHoldout: trustedHoldout)
        }
        let full = dataset.train
        guard attack.target >= 0, attack.target < full.classes else {
            throw DataError.invalid(
                "--target \(attack.target) is not a class of \(dataset.name.rawValue) (0-\(full.classes - 1))")
        }
        guard attack.triggeredRatio >= 0, attack.triggeredRatio <= 1 else {
            throw DataError.invalid("--triggered-ratio must be in [0, 1]")
        }
        let t = attack.trigger
        guard t.height == full.height, t.width == full.width, t.channels == full.channels else {
            throw DataError.invalid(
                "the trigger is for \(t.height)x\(t.width)x\(t.channels) images, the dataset has \(full.height)x\(full.width)x\(full.channels)"
            )
        }
        var (split, train, _) = try divide(
            dataset, ratioHoldout: ratioHoldout, splitSeed: splitSeed, trustedHoldout: trustedHoldout)
        let plan = split.plan
        let chosen = try choose(train, full: full, attack: attack)
        if t.pattern == .cleanLabel {
            guard let adversarial = attack.cleanLabelImages, adversarial.count == full.count * full.imageSize else {
                throw DataError.invalid(
                    "cl needs adversarial images for the whole training set (\(full.count) images); pass --cl-images or --cl-model"
                )
            }
            for i in chosen {
                let source = plan.trainIndices[i] * full.imageSize
                train.pixels.replaceSubrange(
                    i * full.imageSize..<(i + 1) * full.imageSize, with: adversarial[source..<source + full.imageSize])
            }
        }
        stamp(&train, chosen, t)
        if !t.pattern.isCleanLabel { for i in chosen { train.labels[i] = Int32(attack.target) } }
        let sources = (0..<dataset.test.count).filter { dataset.test.labels[$0] != Int32(attack.target) }
        var triggered = dataset.test.subset(sources)
        stamp(&triggered, Array(0..<triggered.count), t)
        split.data.train = train
        split.data.triggeredTest = triggered
        split.data.poisoned = chosen
        split.data.trigger = t
        split.data.target = attack.target
        return split.data
    }

    /// The splits with nothing planted.
    static func clean(_ dataset: LoadedDataset, ratioHoldout: Double, splitSeed: UInt64?, trustedHoldout: ImageSet?)
        throws -> PoisonedDataset
    {
        try divide(dataset, ratioHoldout: ratioHoldout, splitSeed: splitSeed, trustedHoldout: trustedHoldout).split.data
    }

    /// The split plan and the clean splits (holdout: `trustedHoldout` if given), as an
    /// unpoisoned dataset with an empty triggered test set.
    static func divide(_ dataset: LoadedDataset, ratioHoldout: Double, splitSeed: UInt64?, trustedHoldout: ImageSet?)
        throws
        -> (split: (plan: SplitPlan, data: PoisonedDataset), train: ImageSet, holdout: ImageSet)
    {
        let full = dataset.train
        let plan = try SplitPlan(
            trainingCount: full.count, ratioHoldout: trustedHoldout == nil ? ratioHoldout : 0,
            shuffleSeed: dataset.name.groupedByClass ? (splitSeed ?? 0) : nil)
        let train = full.subset(plan.trainIndices)
        let holdout = trustedHoldout ?? full.subset(plan.holdoutIndices)
        let holdoutIndices = trustedHoldout == nil ? plan.holdoutIndices : Array(0..<holdout.count)
        let fingerprints = [
            "train": SplitPlan.fingerprint(indices: plan.trainIndices, labels: train.labels),
            "holdout": SplitPlan.fingerprint(indices: holdoutIndices, labels: holdout.labels),
            "test": SplitPlan.fingerprint(indices: Array(0..<dataset.test.count), labels: dataset.test.labels)
        ]
        var data = PoisonedDataset(
            train: train, holdout: holdout, test: dataset.test, triggeredTest: dataset.test.subset([]), poisoned: [],
            split: plan, trigger: nil, target: 0, fingerprints: fingerprints)
        if !dataset.trainFiles.isEmpty { data.trainFiles = plan.trainIndices.map { dataset.trainFiles[$0] } }
        return ((plan, data), train, holdout)
    }

    /// Positions in the train split to poison: `int(ratio · N_full)` eligible images (non-target
    /// for dirty-label attacks; target-class, at most all of them, for clean-label ones).
    static func choose(_ train: ImageSet, full: ImageSet, attack: AttackConfiguration) throws -> [Int] {
        let cleanLabel = attack.trigger.pattern.isCleanLabel
        let eligible = (0..<train.count).filter { (train.labels[$0] == Int32(attack.target)) == cleanLabel }
        let count = min(Int(attack.triggeredRatio * Double(full.count)), eligible.count)
        switch attack.order {
        case .first: return Array(eligible.prefix(count))
        case .random(let seed):
            var rng = SeededGenerator.derive(seed: seed, stream: "poison-order")
            return rng.permutation(eligible.count).prefix(count).map { eligible[$0] }.sorted()
        }
    }

    static func stamp(_ set: inout ImageSet, _ indices: [Int], _ trigger: Trigger) {
        let size = set.imageSize
        set.pixels.withUnsafeMutableBufferPointer { p in
            for i in indices { trigger.stamp(p.baseAddress! + i * size) }
        }
    }
}
