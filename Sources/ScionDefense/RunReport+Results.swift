import Foundation
import ScionFormat

/// One CSV row per model of a run, in the shape of BackdoorBench's result tables, so runs
/// of many attacks and defenses collect into one file.
extension RunReport {
    public static let resultsHeader =
        "dataset,model,attack,poison_ratio,defense,acc,asr,ra,der,clean_to_target,detection_tpr,detection_fpr,epochs,seconds,seed,folder"

    /// How each stage's model is named in the `defense` column.
    public static func defenseName(_ stage: Stage) -> String {
        switch stage {
        case .train: return "none"
        case .trap: return "trap_only"
        case .replace: return "tr"
        case .recover: return "tr_recover"
        case .fineTune: return "ft"
        case .replaceUntrapped: return "replace_without_trap"
        case .finePrune: return "fp"
        }
    }

    /// The rows of the models in `stages` (all by default), in stage order.
    public func resultRows(_ only: [Stage] = Stage.allCases) -> [String] {
        func number(_ x: Double?, _ digits: Int = 4) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "" }
        return only.compactMap { stage in
            guard let s = stages[Self.name(stage)] else { return nil }
            let cells = [
                dataset ?? "", arch ?? "", pattern ?? "", number(poison_ratio), Self.defenseName(stage),
                number(s.acc), number(s.asr), number(s.ra), number(s.der), number(s.clean_to_target),
                number(s.detection?.tpr), number(s.detection?.fpr), String(s.epochs), number(s.seconds, 1),
                seed.map(String.init) ?? "", folder
            ]
            return cells.map(Self.csvField).joined(separator: ",")
        }
    }

    /// Appends `resultRows(only)` to the CSV at `path` (created with its header), atomically;
    /// rows of the same run folder and defense already there are replaced (a resumed run).
    public func appendResults(to path: String, _ only: [Stage] = Stage.allCases) throws {
        var text = ""
        if FileManager.default.fileExists(atPath: path) {
            text = try String(contentsOfFile: path, encoding: .utf8)
            guard text.hasPrefix(Self.resultsHeader + "\n") else {
                throw DefenseError.invalidSettings(
                    "\(path) is not a Scion results CSV (its first line is not: \(Self.resultsHeader))")
            }
        } else {
            text = Self.resultsHeader + "\n"
        }
        let rows = resultRows(only)
        let replaced = Set(rows.map(Self.runAndDefense))
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        lines = [lines[0]] + lines.dropFirst().filter { !replaced.contains(Self.runAndDefense($0)) }
        text = (lines + rows).map { $0 + "\n" }.joined()
        try AtomicFile.write(Data(text.utf8), to: path)
    }

    /// A row's defense (5th field) and run folder (the rest after the 15th), as a key.
    static func runAndDefense(_ row: String) -> String {
        let fields = row.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count >= 16 else { return row }
        return fields[4] + "|" + fields[15...].joined(separator: ",")
    }

    /// Quotes a field holding a comma, quote or line break (RFC 4180).
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { ",\"\n\r".contains($0) }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
