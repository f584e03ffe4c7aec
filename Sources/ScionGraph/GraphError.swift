/// Why a graph is invalid. Every case names the node, value or parameter at fault.
public enum GraphError: Error, Equatable, Sendable, CustomStringConvertible {
    case duplicateName(String, kind: String)
    case undefinedValue(node: String, value: String)
    case notTopological(node: String, value: String)
    case unknownOp(node: String, op: String)
    case arity(node: String, op: String, expected: String, got: Int)
    case attribute(node: String, attribute: String, problem: String)
    case shape(node: String, problem: String)
    case typeMismatch(value: String, declared: String, inferred: String)
    case parameter(name: String, problem: String)
    case output(name: String, problem: String)
    case input(name: String, problem: String)
    case cutPoint(name: String, problem: String)
    case surgery(String)

    public var description: String {
        switch self {
        case .duplicateName(let n, let kind): return "duplicate \(kind) name '\(n)'"
        case .undefinedValue(let node, let value):
            return "node '\(node)' reads value '\(value)', which is not defined anywhere"
        case .notTopological(let node, let value):
            return
                "node '\(node)' reads value '\(value)' before the node that defines it (nodes must be in topological order)"
        case .unknownOp(let node, let op): return "node '\(node)' uses unknown op '\(op)'"
        case .arity(let node, let op, let expected, let got):
            return "node '\(node)' (\(op)) takes \(expected) inputs, got \(got)"
        case .attribute(let node, let attribute, let problem):
            return "node '\(node)' attribute '\(attribute)': \(problem)"
        case .shape(let node, let problem): return "node '\(node)': \(problem)"
        case .typeMismatch(let value, let declared, let inferred):
            return "value '\(value)' is declared \(declared) but its node computes \(inferred)"
        case .parameter(let name, let problem): return "parameter '\(name)': \(problem)"
        case .output(let name, let problem): return "graph output '\(name)': \(problem)"
        case .input(let name, let problem): return "graph input '\(name)': \(problem)"
        case .cutPoint(let name, let problem): return "cut point '\(name)': \(problem)"
        case .surgery(let problem): return "graph surgery: \(problem)"
        }
    }
}
