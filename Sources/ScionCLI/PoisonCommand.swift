import ArgumentParser
import Foundation
import ScionData
import ScionImage

/// `scion poison`: plant a backdoor in a dataset, preview it, and save the splits.
struct PoisonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poison",
        abstract: "Poison a dataset as the reference does; save a preview grid and the poisoned splits.",
        discussion:
            "The trigger is stamped on the uint8 images before augmentation. Dirty-label attacks poison the first N non-target training images (N = triggered ratio x training set) and relabel them; clean-label attacks (sig, cl) poison target-class images. The triggered test set is every non-target test image with the trigger."
    )

    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions

    @Option(help: "Preview PNG: clean images above, triggered below.")
    var preview: String?

    @Option(
        name: .shortAndLong,
        help: "Write the poisoned train split, clean holdout, test set and triggered test set (HDF5).")
    var output: String?

    @Option(help: "Threads (for cl's PGD).")
    var threads: Int?

    func run() throws {
        guard !attack.isNone else { throw UsageError("scion poison needs a --pattern") }
        let loaded = try data.load()
        let poisoned = try attack.poison(loaded, options: data, threads: threads)
        note(
            "\(loaded.name.rawValue): poisoned \(poisoned.poisoned.count) of \(poisoned.train.count) training images with \(poisoned.trigger?.pattern.rawValue ?? "none") (target \(poisoned.target)); holdout \(poisoned.holdout.count) clean; triggered test \(poisoned.triggeredTest.count)"
        )
        if let preview {
            let shown = Array(poisoned.poisoned.prefix(8))
            let originals = loaded.train.subset(shown.map { poisoned.split.trainIndices[$0] })
            let image = Preview.grid(
                clean: originals, triggered: poisoned.train.subset(shown), indices: Array(0..<shown.count))
            try AtomicFileWrite.png(image, to: preview)
            note("wrote \(preview)")
        }
        if let output {
            try PoisonedDataFile.write(poisoned, dataset: loaded.name, to: output)
            note("wrote \(output)")
        }
    }
}

import ScionFormat
/// PNG files, written atomically.
enum AtomicFileWrite {
    static func png(_ image: Image, to path: String) throws {
        try AtomicFile.write(try ImageCodec.encodePNG(image), to: path)
    }
}
