import ArgumentParser
import Foundation
import ScionKernels
import ScionData
import ScionDefense
import ScionFormat

/// `scion eval`: clean accuracy and attack success rate of a model.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Clean accuracy and attack success rate, overall and per class.",
        discussion:
            "ASR is the share of triggered test images of the non-target classes predicted as the target. RA is the share of the same images predicted as their true label. JSON keys acc, asr, ra and clean_to_target (the share of clean non-target images predicted as the target) are fractions in [0, 1]; der (defense effectiveness rating, 0.5 = no change) is given when the model's folder holds a report.json with an undefended model."
    )

    @Argument(help: "Model file (.h5); its first output must be the logits.")
    var model: String

    @OptionGroup var data: DataOptions
    @OptionGroup var attack: AttackOptions

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @OptionGroup var precision: PrecisionOption

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let m = try ModelFile.read(model)
        let loaded = try data.load()
        let poisoned = try attack.poison(loaded, options: data, threads: threads)
        var metrics = try Evaluation.measure(
            m, clean: poisoned.test, triggered: attack.isNone ? nil : poisoned.triggeredTest, target: attack.target,
            threads: threads ?? CPUBudget.threads, precision: try precision.checked())
        if let before = undefendedMetrics(), !attack.isNone {
            metrics.der = Metrics.der(before: before, after: (metrics.acc, metrics.asr))
        }
        if json { return try printJSON(metrics) }
        var line = String(
            format: "%@ on %@ (%@, target %d): clean ACC %.2f%%, ASR %.2f%%", model, loaded.name.rawValue,
            attack.pattern, attack.target, metrics.acc * 100, metrics.asr * 100)
        if let ra = metrics.ra { line += String(format: ", RA %.2f%%", ra * 100) }
        if let der = metrics.der {
            line += String(format: ", DER %.1f (against the folder's undefended model)", der * 100)
        }
        print(line)
        if let floor = metrics.clean_to_target {
            print(
                String(
                    format: "  without the trigger, %.2f%% of clean non-target images are predicted as the target",
                    floor * 100))
        }
        for k in 0..<loaded.test.classes {
            guard let c = metrics.per_class[String(k)] else { continue }
            let name = k < loaded.test.classNames.count ? loaded.test.classNames[k] : String(k)
            print(
                String(
                    format: "  %3d %-16@ ACC %6.2f%%  ASR %@", k, name as NSString, c.acc * 100,
                    (c.asr.map { String(format: "%6.2f%%", $0 * 100) } ?? "   -") as NSString))
        }
    }

    /// The undefended model's ACC and ASR from report.json beside the model, if there is one
    /// (a report of another attack is not comparable, so it must name the same pattern).
    func undefendedMetrics() -> (acc: Double, asr: Double)? {
        let folder = (model as NSString).deletingLastPathComponent
        guard let data = FileManager.default.contents(atPath: (folder.isEmpty ? "." : folder) + "/report.json"),
            let report = try? JSONDecoder().decode(RunReport.self, from: data), report.pattern == attack.pattern,
            let before = report.stages[RunReport.name(.train)]
        else { return nil }
        return (before.acc, before.asr)
    }
}
