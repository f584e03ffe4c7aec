import Foundation
import ScionFormat
import ScionGraph
import ScionImage
import ScionTraining

/// The summary of a run folder: `report.json`, `report.md` and `curves.png`, rebuilt from the
/// models' lineage and the JSONL logs whenever a stage finishes.
public struct RunReport: Codable, Sendable {
    public struct StageSummary: Codable, Sendable {
        public var model: String
        public var acc: Double
        public var asr: Double
        /// Clean non-target test images predicted as the target: the ASR's floor without a trigger.
        public var clean_to_target: Double?
        /// Triggered non-target test images predicted as their true label.
        public var ra: Double?
        /// Defense effectiveness rating against the undefended model of the same folder.
        public var der: Double?
        /// Stage 3's split of the untrusted training set, against the truth (planted attacks only).
        public var detection: Detection?
        public var epochs: Int
        public var seconds: Double
        public var content_hash: String
        public var head_replaced: Bool
    }

    public var folder: String
    public var dataset: String?
    public var pattern: String?
    public var target: Int?
    public var arch: String?
    /// The share of the training split the attack poisoned.
    public var poison_ratio: Double?
    public var seed: Int?
    public var stages: [String: StageSummary]
    /// The defended model's file: recovered.h5 after stage 3, else sanitized.h5 (nil: neither yet).
    public var final: String?
    /// Compute seconds of the defense's stages (trap, replace, recover) together.
    public var defense_seconds: Double
    public var generated: String

    /// Builds the report of `folder` from what is there.
    public static func collect(_ folder: String) throws -> RunReport {
        var report = RunReport(folder: folder, stages: [:], defense_seconds: 0, generated: ScionVersion.timestamp())
        for stage in Stage.allCases {
            let path = "\(folder)/\(stage.modelFile)"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let model = try ModelFile.read(path)
            // Stage 3 trains in rounds, one lineage step each: the last holds the metrics.
            let steps = model.provenance.lineage.reversed().prefix { $0.operation == stage.lineageOperation }
            guard let d = steps.first?.details else { continue }
            let epochs = steps.reduce(0) { $0 + Int($1.details["epochs"]?.numberValue ?? 0) }
            let seconds = steps.reduce(0) { $0 + ($1.details["seconds"]?.numberValue ?? 0) }
            report.dataset = report.dataset ?? d["dataset"]?.stringValue
            report.pattern = report.pattern ?? d["pattern"]?.stringValue
            report.target = report.target ?? d["target"]?.numberValue.map { Int($0) }
            report.arch = report.arch ?? d["arch"]?.stringValue
            report.poison_ratio = report.poison_ratio ?? d["triggered_ratio"]?.numberValue
            report.seed = report.seed ?? d["seed"]?.numberValue.map { Int($0) }
            report.stages[name(stage)] = StageSummary(
                model: stage.modelFile, acc: d["acc"]?.numberValue ?? .nan, asr: d["asr"]?.numberValue ?? .nan,
                clean_to_target: d["clean_to_target"]?.numberValue, ra: d["ra"]?.numberValue, detection: detection(d),
                epochs: epochs, seconds: seconds,
                content_hash: try ContentHash.of(model), head_replaced: model.provenance.headReplaced)
            if stage.isDefense { report.defense_seconds += seconds }
            if [.replace, .recover].contains(stage) { report.final = stage.modelFile }
        }
        if let before = report.stages[name(.train)] {
            for (key, s) in report.stages where key != name(.train) {
                report.stages[key]?.der = Metrics.der(before: (before.acc, before.asr), after: (s.acc, s.asr))
            }
        }
        return report
    }

    /// Stage 3's detection rates from its lineage details.
    static func detection(_ d: [String: JSONValue]) -> Detection? {
        guard let suspects = d["suspects"]?.numberValue, let fpr = d["detection_fpr"]?.numberValue else { return nil }
        return Detection(
            suspects: Int(suspects), poisoned: Int(d["poisoned_images"]?.numberValue ?? 0),
            tpr: d["detection_tpr"]?.numberValue, fpr: fpr)
    }

    /// How each stage's model is named in reports.
    public static func name(_ stage: Stage) -> String {
        switch stage {
        case .train: return "no defense"
        case .trap: return "trapped head (stage 1)"
        case .replace: return "T&R, replaced head"
        case .recover: return "T&R + recover"
        case .fineTune: return "baseline: FT on the holdout"
        case .replaceUntrapped: return "baseline: replace without trap"
        case .finePrune: return "baseline: fine-pruning"
        }
    }

    /// Writes report.json, report.md and curves.png into the folder.
    public func write() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: "\(folder)/report.json")
        try AtomicFile.write(Data(markdown.utf8), to: "\(folder)/report.md")
        try AtomicFile.write(try ImageCodec.encodePNG(curves()), to: "\(folder)/curves.png")
    }

    /// The table of ACC, ASR, RA and DER per stage, and stage 3's detection rates.
    public var markdown: String {
        var lines = ["# Trap-and-Replace run: \(folder)", ""]
        if let dataset, let pattern, let target {
            lines += ["Dataset `\(dataset)`, attack `\(pattern)`, target label \(target).", ""]
        }
        lines += [
            "| model | file | clean ACC | ASR | RA | no trigger | DER | epochs | training time |",
            "|---|---|---|---|---|---|---|---|---|"
        ]
        func percent(_ x: Double?) -> String { x.map { String(format: "%.2f%%", $0 * 100) } ?? "-" }
        for stage in Stage.allCases {
            guard let s = stages[Self.name(stage)] else { continue }
            let cells = [
                Self.name(stage), "`\(s.model)`", percent(s.acc), percent(s.asr), percent(s.ra),
                percent(s.clean_to_target),
                s.der.map { String(format: "%.1f", $0 * 100) } ?? "-", String(s.epochs), Self.duration(s.seconds)
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines += [
            "",
            "ASR: triggered test images of the non-target classes classified as the target; RA: the same images classified as their true label.",
            "No trigger: clean test images of the non-target classes classified as the target (the ASR's floor).",
            "DER: (max(0, ASR drop) - max(0, ACC drop) + 1) / 2 against no defense, x100; 50 = no change."
        ]
        if let d = stages[Self.name(.recover)]?.detection {
            let tpr = d.tpr.map { String(format: "TPR %.2f%%, ", $0 * 100) } ?? ""
            lines += [
                "",
                String(
                    format:
                        "Stage 3 judged %d training images suspect (%@FPR %.2f%%; %d were poisoned): `suspects.csv`.",
                    d.suspects, tpr as NSString, d.fpr * 100, d.poisoned)
            ]
        }
        if let final {
            lines += ["", "Defended model: `\(final)`; defense compute time \(Self.duration(defense_seconds))."]
        }
        lines += ["Curves of ACC and ASR over epochs: `curves.png`; per-epoch records: `*.jsonl`.", ""]
        return lines.joined(separator: "\n")
    }

    /// ACC and ASR over epochs, one panel per stage, from the JSONL logs.
    func curves() -> Image {
        var panels: [LineChart.Panel] = []
        for stage in Stage.allCases {
            let log = "\(folder)/\(stage.rawValue).jsonl"
            guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { continue }
            let records = text.split(separator: "\n").compactMap {
                try? JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8))
            }
            let acc = records.compactMap { r in r.metrics["acc"].map { (x: Double(r.epoch), y: $0) } }
            let asr = records.compactMap { r in r.metrics["asr"].map { (x: Double(r.epoch), y: $0) } }
            let floor = records.compactMap { r in r.metrics["clean_to_target"].map { (x: Double(r.epoch), y: $0) } }
            var series: [LineChart.Series] = [
                .init(label: "clean ACC", color: (31, 119, 180), points: acc),
                .init(label: "ASR", color: (214, 39, 40), points: asr)
            ]
            if !floor.isEmpty { series.append(.init(label: "no trigger", color: (127, 127, 127), points: floor)) }
            panels.append(LineChart.Panel(title: Self.name(stage), series: series))
        }
        return LineChart(panels: panels).render()
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600
            ? String(format: "%dh %02dm", s / 3600, s / 60 % 60) : String(format: "%dm %02ds", s / 60, s % 60)
    }
}
