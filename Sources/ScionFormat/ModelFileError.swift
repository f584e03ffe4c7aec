import ScionGraph

/// Why a model file could not be read or written. Every case names the file and the object at
/// fault and says what was expected.
public enum ModelFileError: Error, Equatable, CustomStringConvertible {
    case missingFile(path: String)
    case emptyFile(path: String)
    case notHDF5(path: String)
    case damaged(path: String, problem: String)
    case unreadable(path: String, detail: String)
    case notAScionModel(path: String, found: String)
    case unsupportedVersion(path: String, found: String, supported: String)
    case newerMinorWithUnknownOp(path: String, version: String, op: String)
    case malformed(path: String, object: String, problem: String)
    case invalidGraph(path: String, error: GraphError)
    case missingParameter(path: String, name: String)
    case unexpectedParameter(path: String, name: String)
    case wrongDType(path: String, name: String, expected: String, found: String)
    case wrongShape(path: String, name: String, expected: [Int], found: [Int])
    case hashMismatch(path: String, stored: String, computed: String)
    case writeFailed(path: String, detail: String)

    public var description: String {
        switch self {
        case .missingFile(let path): return "\(path): no such file"
        case .emptyFile(let path): return "\(path): the file is empty"
        case .notHDF5(let path): return "\(path): not an HDF5 file (no HDF5 signature; not a model, or a damaged one)"
        case .damaged(let path, let problem):
            return "\(path): the file is damaged and was not read: \(problem)"
        case .unreadable(let path, let detail):
            return "\(path): HDF5 cannot open the file (truncated or damaged?): \(detail)"
        case .notAScionModel(let path, let found):
            return
                "\(path): not a Scion model (root attribute 'format' is \(found), expected \"\(ModelFile.formatName)\")"
        case .unsupportedVersion(let path, let found, let supported):
            return "\(path): format version \(found) is not supported (this Scion reads \(supported)); upgrade Scion"
        case .newerMinorWithUnknownOp(let path, let version, let op):
            return
                "\(path): format \(version) is newer than this Scion and uses op '\(op)', which it does not know; upgrade Scion"
        case .malformed(let path, let object, let problem): return "\(path): '\(object)': \(problem)"
        case .invalidGraph(let path, let error): return "\(path): invalid graph: \(error)"
        case .missingParameter(let path, let name):
            return "\(path): parameter '\(name)' is declared by the graph but '/parameters/\(name)' is missing"
        case .unexpectedParameter(let path, let name):
            return "\(path): '/parameters/\(name)' is not declared by the graph"
        case .wrongDType(let path, let name, let expected, let found):
            return "\(path): parameter '\(name)' is stored as \(found), the graph declares \(expected)"
        case .wrongShape(let path, let name, let expected, let found):
            return "\(path): parameter '\(name)' has shape \(found), the graph declares \(expected)"
        case .hashMismatch(let path, let stored, let computed):
            return
                "\(path): content hash mismatch: the file says \(stored) but its graph and parameters hash to \(computed); the file is corrupt or was altered"
        case .writeFailed(let path, let detail): return "\(path): cannot write the model: \(detail)"
        }
    }
}
