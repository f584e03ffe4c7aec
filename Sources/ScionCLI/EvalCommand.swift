import ArgumentParser
import Foundation
import ScionData
import ScionDefense
import ScionFormat

/// `scion eval`: clean accuracy and attack success rate of a model.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Clean accuracy and attack success rate, overall and per class.",
        discussion: "ASR is the share of triggered test images of the non-target classes predicted as the target. JSON keys acc, asr and clean_to_target (the share of clean non-target images predicted as the target) are fractions in [0, 1].")

    @Argument(help: "Model file (.h5); its first output must be the logits.")
    var model: String

    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let m = try ModelFile.read(model)
        let loaded = try data.load()
        let poisoned = try attack.poison(loaded, options: data, threads: threads)
        let metrics = try Evaluation.measure(
            m, clean: poisoned.test, triggered: attack.isNone ? nil : poisoned.triggeredTest, target: attack.target,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        if json { return try printJSON(metrics) }
        print(String(format: "%@ on %@ (%@, target %d): clean ACC %.2f%%, ASR %.2f%%", model as NSString, loaded.name.rawValue as NSString,
                     attack.pattern as NSString, attack.target, metrics.acc * 100, metrics.asr * 100))
        if let floor = metrics.clean_to_target {
            print(String(format: "  without the trigger, %.2f%% of clean non-target images are predicted as the target", floor * 100))
        }
        for k in 0..<loaded.test.classes {
            guard let c = metrics.per_class[String(k)] else { continue }
            let name = k < loaded.test.classNames.count ? loaded.test.classNames[k] : String(k)
            print(String(format: "  %3d %-16@ ACC %6.2f%%  ASR %@", k, name as NSString, c.acc * 100,
                         (c.asr.map { String(format: "%6.2f%%", $0 * 100) } ?? "   -") as NSString))
        }
    }
}
