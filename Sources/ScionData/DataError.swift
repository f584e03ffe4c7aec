/// Why a dataset or trigger could not be read. Every case names the file and says what was
/// expected there.
public enum DataError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String, expected: String)
    case missingFolder(path: String, expected: String)
    case malformed(path: String, problem: String)
    case unknownDataset(String)
    case unknownPattern(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .missingFile(let path, let expected): return "\(path): file not found; expected \(expected)"
        case .missingFolder(let path, let expected): return "\(path): folder not found; expected \(expected)"
        case .malformed(let path, let problem): return "\(path): \(problem)"
        case .unknownDataset(let name):
            return "unknown dataset '\(name)'; choose one of: "
                + DatasetName.allCases.map(\.rawValue).joined(separator: ", ")
        case .unknownPattern(let name):
            return "unknown trigger pattern '\(name)'; choose one of: "
                + TriggerPattern.allCases.map(\.rawValue).joined(separator: ", ")
        case .invalid(let problem): return problem
        }
    }
}
