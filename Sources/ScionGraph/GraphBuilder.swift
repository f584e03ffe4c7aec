/// Builds a verified `Graph` with calls that read like the architecture.
///
/// Names are scoped like PyTorch module paths, so `b.scope("block1") { b in b.scope("0") { ... } }`
/// names a convolution `block1.0.conv1` and its weight `block1.0.conv1.weight`, the same key a
/// PyTorch `state_dict` uses. Shapes are inferred as nodes are added. The first error (a window
/// that does not fit an input, say) is recorded and thrown by `finish()`, so network definitions
/// need no `try` on every line.
public struct GraphBuilder {
    /// A handle on a value being built: its full name and static type.
    public struct Value: Hashable, Sendable {
        public let name: String
        public let type: TensorType

        /// Channel count of an `[N, C, ...]` value.
        public var channels: Int { type.shape.count > 1 ? type.shape[1].fixedValue ?? 0 : 0 }
        /// Height of an `[N, C, H, W]` value.
        public var height: Int { type.shape.count > 2 ? type.shape[2].fixedValue ?? 0 : 0 }
        /// Width of an `[N, C, H, W]` value.
        public var width: Int { type.shape.count > 3 ? type.shape[3].fixedValue ?? 0 : 0 }
    }

    /// How the layer helpers initialise weights and biases unless told otherwise.
    public var defaults = LayerDefaults.pytorch

    private var graph: Graph
    private var initializers: [String: Initializer] = [:]
    private var scopes: [String] = []
    private var autoNameCounters: [String: Int] = [:]
    private var firstError: GraphError?

    public init(name: String) {
        graph = Graph(name: name)
    }

    /// Declares a graph input.
    public mutating func input(_ name: String, _ type: TensorType) -> Value {
        define(name, type)
        graph.inputs.append(name)
        return Value(name: name, type: type)
    }

    /// Marks `value` as a graph output, renaming it to `name` when given.
    public mutating func output(_ value: Value, as name: String? = nil) {
        var outputName = value.name
        if let name, name != value.name {
            do {
                try graph.renameValue(value.name, to: name)
                outputName = name
            } catch {
                record(error)
            }
        }
        graph.outputs.append(outputName)
    }

    /// Declares a cut point at `value`: the stem ends there and the head begins.
    public mutating func cutPoint(_ name: String, at value: Value, summary: String = "") {
        graph.cutPoints.append(CutPoint(name: name, value: value.name, summary: summary))
    }

    /// Runs `body` with `name` appended to the naming scope.
    public mutating func scope<T>(_ name: String, _ body: (inout GraphBuilder) -> T) -> T {
        scopes.append(name)
        defer { scopes.removeLast() }
        return body(&self)
    }

    /// Declares a parameter named `local` within the current scope.
    public mutating func parameter(
        _ local: String, shape: [Int], role: ParameterRole, initializer: Initializer, trainable: Bool? = nil
    ) -> Value {
        let name = qualified(local)
        let info = ParameterInfo(
            name: name, shape: shape, role: role,
            trainable: trainable ?? (role == .weight || role == .bias))
        define(name, info.type)
        graph.parameters.append(info)
        initializers[name] = initializer
        return Value(name: name, type: info.type)
    }

    /// Adds a node applying `op` and returns its outputs. `name` is local to the current scope;
    /// without one the node is named after the op and a counter.
    @discardableResult
    public mutating func apply(
        _ op: OpType, _ inputs: [Value], attributes: [String: AttributeValue] = [:], name: String? = nil
    ) -> [Value] {
        let nodeName = qualified(name ?? autoName(op.rawValue))
        guard let schema = OpRegistry.schema(for: op) else {
            record(.unknownOp(node: nodeName, op: op.rawValue))
            return [Value(name: nodeName, type: TensorType(.float32, []))]
        }
        let outputNames = (0..<schema.outputCount).map { $0 == 0 ? nodeName : "\(nodeName):\($0)" }
        let node = Node(
            name: nodeName, op: op, inputs: inputs.map(\.name), outputs: outputNames, attributes: attributes)
        var types = outputNames.map { _ in TensorType(.float32, []) }
        if firstError == nil {
            do {
                types = try schema.infer(ShapeContext(node: node, inputs: inputs.map(\.type), schema: schema))
            } catch let error as GraphError {
                record(error)
            } catch {
                record(.shape(node: nodeName, problem: "\(error)"))
            }
        }
        graph.nodes.append(node)
        for (n, t) in zip(outputNames, types) { define(n, t) }
        return zip(outputNames, types).map { Value(name: $0, type: $1) }
    }

    /// Convenience for single-output ops.
    public mutating func apply1(
        _ op: OpType, _ inputs: [Value], attributes: [String: AttributeValue] = [:], name: String? = nil
    ) -> Value {
        apply(op, inputs, attributes: attributes, name: name)[0]
    }

    /// The graph as built so far (unverified).
    public var graphSoFar: Graph { graph }

    /// Verifies the graph and returns it with its parameter initialisers.
    public func finish() throws -> NetworkDefinition {
        if let firstError { throw firstError }
        try graph.verify()
        return NetworkDefinition(graph: graph, initializers: initializers)
    }

    /// `local` prefixed with the current scope, PyTorch-style (`block1.0.conv1`).
    public func qualified(_ local: String) -> String {
        (scopes + [local]).joined(separator: ".")
    }

    /// Runs `body` one scope up, so a layer's node is named `block.conv1` while its parameters,
    /// declared inside `scope("conv1")`, are `block.conv1.weight`.
    mutating func withParentScope<T>(_ body: (inout GraphBuilder) -> T) -> T {
        let last = scopes.removeLast()
        defer { scopes.append(last) }
        return body(&self)
    }

    private mutating func autoName(_ base: String) -> String {
        let key = qualified(base)
        let n = autoNameCounters[key, default: 0]
        autoNameCounters[key] = n + 1
        return n == 0 ? base : "\(base)_\(n)"
    }

    private mutating func define(_ name: String, _ type: TensorType) {
        if graph.values[name] != nil { record(.duplicateName(name, kind: "value")) }
        graph.values[name] = type
    }

    private mutating func record(_ error: GraphError) {
        if firstError == nil { firstError = error }
    }
}

/// Default initialisation of the layer helpers; zoo networks set the reference's choices.
public struct LayerDefaults: Sendable {
    public enum Weight: Sendable {
        /// PyTorch's default: U(±1/sqrt(fan_in)).
        case pytorch
        case kaimingNormal(fanOut: Bool)
        case xavierNormal
    }
    public enum Bias: Sendable {
        /// PyTorch's default: U(±1/sqrt(fan_in of the weight)).
        case pytorch
        case zeros
    }

    public var convWeight: Weight
    public var convBias: Bias
    public var linearWeight: Weight
    public var linearBias: Bias

    public init(convWeight: Weight, convBias: Bias, linearWeight: Weight, linearBias: Bias) {
        self.convWeight = convWeight
        self.convBias = convBias
        self.linearWeight = linearWeight
        self.linearBias = linearBias
    }

    public static let pytorch = LayerDefaults(
        convWeight: .pytorch, convBias: .pytorch, linearWeight: .pytorch, linearBias: .pytorch)

    func initializer(_ weight: Weight, shape: [Int]) -> Initializer {
        switch weight {
        case .pytorch: return .pytorchDefault(weightShape: shape)
        case .kaimingNormal(let fanOut): return .kaimingNormal(shape: shape, fanOut: fanOut)
        case .xavierNormal: return .xavierNormal(shape: shape)
        }
    }

    func initializer(_ bias: Bias, weightShape: [Int]) -> Initializer {
        switch bias {
        case .pytorch: return .pytorchDefault(weightShape: weightShape)
        case .zeros: return .zeros
        }
    }
}
