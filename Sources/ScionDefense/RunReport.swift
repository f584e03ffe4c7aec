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
        public var epochs: Int
        public var seconds: Double
        public var content_hash: String
        public var head_replaced: Bool
    }

    public var folder: String
    public var dataset: String?
    public var pattern: String?
    public var target: Int?
    public var stages: [String: StageSummary]
    public var generated: String

    /// Builds the report of `folder` from what is there.
    public static func collect(_ folder: String) throws -> RunReport {
        var report = RunReport(folder: folder, stages: [:], generated: ScionVersion.timestamp())
        for stage in Stage.allCases {
            let path = "\(folder)/\(stage.modelFile)"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let model = try ModelFile.read(path)
            guard let step = model.provenance.lineage.last(where: { [LineageStep.train, LineageStep.trap, LineageStep.replace].contains($0.operation) }) else { continue }
            let d = step.details
            report.dataset = report.dataset ?? d["dataset"]?.stringValue
            report.pattern = report.pattern ?? d["pattern"]?.stringValue
            report.target = report.target ?? d["target"]?.numberValue.map { Int($0) }
            report.stages[name(stage)] = StageSummary(
                model: stage.modelFile, acc: d["acc"]?.numberValue ?? .nan, asr: d["asr"]?.numberValue ?? .nan,
                clean_to_target: d["clean_to_target"]?.numberValue,
                epochs: Int(d["epochs"]?.numberValue ?? 0), seconds: d["seconds"]?.numberValue ?? 0,
                content_hash: try ContentHash.of(model), head_replaced: model.provenance.headReplaced)
        }
        return report
    }

    /// How each stage's model is named in reports.
    public static func name(_ stage: Stage) -> String {
        switch stage {
        case .train: return "no defense"
        case .trap: return "trapped head (stage 1)"
        case .replace: return "T&R, replaced head"
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

    /// The table of ACC and ASR per stage.
    public var markdown: String {
        var lines = ["# Trap-and-Replace run: \(folder)", ""]
        if let dataset, let pattern, let target { lines += ["Dataset `\(dataset)`, attack `\(pattern)`, target label \(target).", ""] }
        lines += ["| model | file | clean ACC | ASR | no trigger | epochs | training time |", "|---|---|---|---|---|---|---|"]
        for stage in Stage.allCases {
            guard let s = stages[Self.name(stage)] else { continue }
            let floor = s.clean_to_target.map { String(format: "%.2f%%", $0 * 100) } ?? "-"
            lines.append(String(format: "| %@ | `%@` | %.2f%% | %.2f%% | %@ | %d | %@ |", Self.name(stage) as NSString, s.model as NSString,
                                s.acc * 100, s.asr * 100, floor as NSString, s.epochs, Self.duration(s.seconds) as NSString))
        }
        lines += ["", "ASR: the share of triggered test images of the non-target classes classified as the target.",
                  "No trigger: the share of clean test images of the non-target classes classified as the target (the ASR's floor).",
                  "Curves of ACC and ASR over epochs: `curves.png`; per-epoch records: `*.jsonl`.", ""]
        return lines.joined(separator: "\n")
    }

    /// ACC and ASR over epochs, one panel per stage, from the JSONL logs.
    func curves() -> Image {
        var panels: [LineChart.Panel] = []
        for stage in Stage.allCases {
            let log = "\(folder)/\(stage.rawValue).jsonl"
            guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { continue }
            let records = text.split(separator: "\n").compactMap { try? JSONDecoder().decode(EpochRecord.self, from: Data($0.utf8)) }
            let acc = records.compactMap { r in r.metrics["acc"].map { (x: Double(r.epoch), y: $0) } }
            let asr = records.compactMap { r in r.metrics["asr"].map { (x: Double(r.epoch), y: $0) } }
            let floor = records.compactMap { r in r.metrics["clean_to_target"].map { (x: Double(r.epoch), y: $0) } }
            var series: [LineChart.Series] = [
                .init(label: "clean ACC", color: (31, 119, 180), points: acc), .init(label: "ASR", color: (214, 39, 40), points: asr),
            ]
            if !floor.isEmpty { series.append(.init(label: "no trigger", color: (127, 127, 127), points: floor)) }
            panels.append(LineChart.Panel(title: Self.name(stage), series: series))
        }
        return LineChart(panels: panels).render()
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh %02dm", s / 3600, s / 60 % 60) : String(format: "%dm %02ds", s / 60, s % 60)
    }
}
