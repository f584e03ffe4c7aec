/// Why an ONNX file could not be written or read. Every message names the node, tensor or
/// field at fault.
public enum ONNXError: Error, CustomStringConvertible, Equatable {
    /// The file is not a readable ONNX model, or refers to something it does not define.
    case invalid(String)
    /// An op (or a use of one) Scion cannot translate.
    case unsupported(node: String, op: String, direction: String)

    public var description: String {
        switch self {
        case .invalid(let message): return message
        case .unsupported(let node, let op, let direction):
            return "node '\(node)': \(op) is not supported by ONNX \(direction)"
        }
    }
}
