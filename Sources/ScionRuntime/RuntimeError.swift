import ScionGraph

/// Why a graph could not be run on the given inputs.
public enum RuntimeError: Error, Equatable, CustomStringConvertible {
    case missingInput(String)
    case unexpectedInput(String)
    case inputType(name: String, expected: String, got: String)
    case batchTooLarge(requested: Int, planned: Int)
    case unsupportedOp(node: String, op: String)
    case missingParameter(String)

    public var description: String {
        switch self {
        case .missingInput(let name): return "input '\(name)' was not given"
        case .unexpectedInput(let name): return "'\(name)' is not an input of this graph"
        case .inputType(let name, let expected, let got):
            return "input '\(name)' must be \(expected), got \(got)"
        case .batchTooLarge(let requested, let planned):
            return "batch \(requested) is larger than the planned maximum \(planned)"
        case .unsupportedOp(let node, let op): return "node '\(node)': op '\(op)' cannot run here"
        case .missingParameter(let name): return "parameter '\(name)' has no data"
        }
    }
}

/// Checks named inputs against a graph's declared inputs and returns the common batch size.
enum InputCheck {
    static func batch(of inputs: [String: Tensor], for graph: Graph) throws -> Int {
        for name in inputs.keys where !graph.inputs.contains(name) { throw RuntimeError.unexpectedInput(name) }
        var batch: Int?
        for name in graph.inputs {
            guard let tensor = inputs[name], let type = graph.values[name] else {
                throw RuntimeError.missingInput(name)
            }
            let n = type.isBatched ? tensor.shape.first ?? 0 : 1
            let expected = type.resolvedShape(batch: n)
            guard tensor.dtype == type.dtype, tensor.shape == expected, n >= 1, batch == nil || batch == n else {
                throw RuntimeError.inputType(
                    name: name, expected: type.description,
                    got: "\(tensor.dtype.rawValue)\(tensor.shape)"
                        + (batch.map { " (other inputs have batch \($0))" } ?? ""))
            }
            batch = n
        }
        return batch ?? 1
    }
}
