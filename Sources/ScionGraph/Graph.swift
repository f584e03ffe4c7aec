/// A computation graph in SSA form: typed values, nodes in topological order, declared inputs,
/// outputs and parameters, and named cut points.
///
/// `Graph` holds structure only; parameter data lives in a `Model`. It knows nothing of files
/// or kernels. Build one with `GraphBuilder`; check one with `verify()`.
///
/// ```swift
/// var b = GraphBuilder(name: "tiny")
/// let x = b.input("image", .batched([3, 32, 32]))
/// let y = b.relu(b.conv2d(x, out: 8, kernel: 3, padding: 1, name: "conv"))
/// b.output(y, as: "features")
/// let network = try b.finish()
/// ```
public struct Graph: Sendable, Equatable {
    public var name: String
    /// Names of the graph's inputs (their types are in `values`).
    public var inputs: [String]
    /// Names of the values the graph returns.
    public var outputs: [String]
    public var parameters: [ParameterInfo]
    public var nodes: [Node]
    /// The type of every value: inputs, parameters and node outputs.
    public var values: [String: TensorType]
    public var cutPoints: [CutPoint]

    public init(
        name: String, inputs: [String] = [], outputs: [String] = [], parameters: [ParameterInfo] = [],
        nodes: [Node] = [], values: [String: TensorType] = [:], cutPoints: [CutPoint] = []
    ) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.parameters = parameters
        self.nodes = nodes
        self.values = values
        self.cutPoints = cutPoints
    }

    /// The parameter with this name, if any.
    public func parameter(named name: String) -> ParameterInfo? {
        parameters.first { $0.name == name }
    }

    /// Index of the node that defines each node output.
    public func producerIndex() -> [String: Int] {
        var index: [String: Int] = [:]
        for (i, node) in nodes.enumerated() {
            for output in node.outputs { index[output] = i }
        }
        return index
    }

    /// Indices of the nodes that read each value.
    public func consumerIndex() -> [String: [Int]] {
        var index: [String: [Int]] = [:]
        for (i, node) in nodes.enumerated() {
            for input in node.inputs { index[input, default: []].append(i) }
        }
        return index
    }

    /// The cut point with this name, if any.
    public func cutPoint(named name: String) -> CutPoint? {
        cutPoints.first { $0.name == name }
    }

    /// Total number of parameter elements, counting BatchNorm running statistics as PyTorch's
    /// `parameters()` does not: only trainable-role tensors (weights and biases) are counted.
    public var parameterCount: Int {
        parameters.filter { $0.role == .weight || $0.role == .bias }.reduce(0) { $0 + $1.elementCount }
    }
}

extension Graph: Codable {
    private enum CodingKeys: String, CodingKey {
        case name, inputs, outputs, parameters, nodes, values
        case cutPoints = "cut_points"
    }
}
