import Foundation
import ScionGraph

/// Builds a Scion graph from an ONNX graph, node by node (ONNX nodes are topologically
/// ordered). Tracks what ONNX expresses as values but Scion as attributes or parameters:
/// initializers (weights, or constants such as pads and shapes), integer tensors folded at
/// import time, and aliases for nodes that vanish (Identity, a bias Add absorbed by its MatMul).
struct GraphImporter {
    let opset: Int64
    var graph: Graph
    var parameters: [String: Tensor] = [:]
    /// Initializers and Constant outputs by ONNX name, until a node takes one as a parameter.
    var constants: [String: Onnx_TensorProto] = [:]
    /// Integer tensors known at import time (shapes, axes); nil stands for the batch extent.
    var folded: [String: Folded] = [:]
    /// ONNX value -> the Scion value that holds it.
    var aliases: [String: String] = [:]
    /// How many nodes read each ONNX value.
    let readers: [String: Int]
    /// The input's batch extent when the file fixes it (torch's static exports), which Reshape
    /// targets then spell out.
    let exportBatch: Int?
    private let onnxOutputs: [String]
    /// ONNX initializer -> Scion parameter, once taken.
    private var taken: [String: String] = [:]

    init(_ onnx: Onnx_GraphProto, opset: Int64) throws {
        self.opset = opset
        var constants: [String: Onnx_TensorProto] = [:]
        for t in onnx.initializer { constants[t.name] = t }
        self.constants = constants
        var readers: [String: Int] = [:]
        for node in onnx.node { for input in node.input where !input.isEmpty { readers[input, default: 0] += 1 } }
        self.readers = readers
        onnxOutputs = onnx.output.map(\.name)
        // IR < 4 lists initializers among the inputs too: the real inputs are the others.
        let inputs = onnx.input.filter { constants[$0.name] == nil }  // the local copy: self is not ready
        guard inputs.count == 1, let input = inputs.first else {
            throw ONNXError.invalid(
                "the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); Scion imports models with one"
            )
        }
        let (type, batch) = try Self.inputType(input)
        exportBatch = batch
        graph = Graph(
            name: onnx.name.isEmpty ? "imported" : onnx.name, inputs: [input.name], values: [input.name: type])
    }

    /// The input's type with its first dimension as the batch; every other extent must be fixed.
    static func inputType(_ input: Onnx_ValueInfoProto) throws -> (TensorType, Int?) {
        let tensor = input.type.tensorType
        guard tensor.elemType == ONNXTensor.float else {
            throw ONNXError.invalid(
                "input '\(input.name)' has element type \(tensor.elemType); Scion reads float inputs")
        }
        let dims = tensor.shape.dim
        guard dims.count >= 2 else { throw ONNXError.invalid("input '\(input.name)' needs a batch and a sample shape") }
        var shape: [Dim] = [.batch]
        for (i, d) in dims.enumerated().dropFirst() {
            guard d.dimValue > 0 else {
                throw ONNXError.invalid(
                    "input '\(input.name)': dimension \(i) is not a fixed extent ('\(d.dimParam)'); Scion needs fixed sample shapes"
                )
            }
            shape.append(.fixed(Int(d.dimValue)))
        }
        return (TensorType(.float32, shape), dims[0].dimValue > 0 ? Int(dims[0].dimValue) : nil)
    }

    /// The finished graph and its parameter data; graph outputs keep their ONNX names.
    mutating func finish() throws -> (Graph, [String: Tensor]) {
        for name in onnxOutputs {
            let value = try self.value(name)
            if value != name { try rename(value, to: name) }
            graph.outputs.append(name)
        }
        return (graph, parameters)
    }

    // MARK: Values

    /// The Scion value holding ONNX value `name` (a computed value or the graph input).
    func value(_ name: String) throws -> String {
        let resolved = aliases[name] ?? name
        guard graph.values[resolved] != nil, graph.parameter(named: resolved) == nil else {
            if constants[name] != nil || folded[name] != nil {
                throw ONNXError.invalid("'\(name)' is a constant where Scion needs a computed tensor")
            }
            throw ONNXError.invalid("value '\(name)' is used before it is defined")
        }
        return resolved
    }

    func type(_ value: String) throws -> TensorType {
        guard let t = graph.values[value] else { throw ONNXError.invalid("value '\(value)' has no type") }
        return t
    }

    /// The constant tensor `name` (an initializer or a Constant node's output), as float32.
    func constantTensor(_ name: String) throws -> Tensor? {
        try constants[name].map(ONNXTensor.floats)
    }

    /// Takes the initializer `name` as a parameter of `role` and returns the parameter's name;
    /// `transposed` swaps a matrix's axes (a new parameter), `shape` drops unit axes
    /// (a `[1, n]` bias read as `[n]`).
    mutating func parameter(
        _ name: String, role: ParameterRole, node: String, transposed: Bool = false, shape: [Int]? = nil
    ) throws -> String {
        if !transposed, let existing = taken[name] { return existing }
        guard var data = try constantTensor(name) else {
            throw ONNXError.unsupported(node: node, op: "a computed \(role.rawValue) ('\(name)')", direction: "import")
        }
        if transposed {
            guard data.shape.count == 2 else { throw ONNXError.invalid("node '\(node)': '\(name)' is not a matrix") }
            let (rows, cols) = (data.shape[0], data.shape[1]), v = data.floats
            data = Tensor(shape: [cols, rows], values: (0..<(rows * cols)).map { v[($0 % rows) * cols + $0 / rows] })
        }
        if let shape {
            guard ShapeRules.elementCount(shape) == data.count else {
                throw ONNXError.invalid("node '\(node)': '\(name)' has shape \(data.shape), expected \(shape)")
            }
            data = data.reshaped(shape)
        }
        let scionName = uniqueName(transposed ? sanitized(name) + ".t" : sanitized(name))
        graph.parameters.append(
            ParameterInfo(name: scionName, shape: data.shape, role: role, trainable: role == .weight || role == .bias))
        graph.values[scionName] = TensorType(.float32, data.shape.map { .fixed($0) })
        parameters[scionName] = data
        if !transposed { taken[name] = scionName }
        return scionName
    }

    /// Replaces the inputs of node `i` (to give a bias-free node its bias), rechecking it.
    mutating func replaceNode(at i: Int, inputs: [String]) throws {
        var node = graph.nodes[i]
        node.inputs = inputs
        var copy = graph
        copy.nodes.removeSubrange(i...)
        for name in graph.nodes[i...].flatMap(\.outputs) { copy.values[name] = nil }
        for later in [node] + graph.nodes[(i + 1)...] { try copy.append(later) }
        graph = copy
    }

    /// Appends a Scion node; its outputs are named `outputs` (made unique when taken).
    @discardableResult
    mutating func add(
        _ name: String, _ op: OpType, _ inputs: [String], outputs: [String],
        _ attributes: [String: AttributeValue] = [:]
    ) throws -> [String] {
        let outs = outputs.map { graph.values[$0] == nil ? $0 : uniqueName($0) }
        for (onnx, scion) in zip(outputs, outs) where onnx != scion { aliases[onnx] = scion }
        var nodeName = name
        while graph.nodes.contains(where: { $0.name == nodeName }) { nodeName = uniqueName(name) }
        do {
            try graph.append(Node(name: nodeName, op: op, inputs: inputs, outputs: outs, attributes: attributes))
        } catch {
            throw ONNXError.invalid("node '\(name)' (as Scion's \(op.rawValue)): \(error)")
        }
        return outs
    }

    /// A name no value, parameter or node has yet, derived from `base`.
    func uniqueName(_ base: String) -> String {
        var i = 1
        var name = base
        while graph.values[name] != nil || graph.nodes.contains(where: { $0.name == name }) {
            name = "\(base)_\(i)"
            i += 1
        }
        return name
    }

    /// Parameter names become HDF5 dataset names, where `/` separates groups.
    private func sanitized(_ name: String) -> String {
        let s = name.replacingOccurrences(of: "/", with: ".").drop { $0 == "." }
        return s.isEmpty ? "param" : String(s)
    }

    /// Renames a node's output to an ONNX graph output's name (an input or initializer cannot be).
    private mutating func rename(_ old: String, to new: String) throws {
        do { try graph.renameValue(old, to: new) } catch {
            throw ONNXError.invalid("output '\(new)' cannot be named: it is the input or already defined")
        }
        for (k, v) in aliases where v == old { aliases[k] = new }
    }
}
