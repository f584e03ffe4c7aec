/// The declared type of an attribute in an op schema.
public enum AttributeKind: String, Sendable {
    case int = "i", ints = "is", float = "f", floats = "fs", bool = "b", string = "s"

    func matches(_ value: AttributeValue) -> Bool {
        value.typeName == rawValue
    }
}

/// One attribute an op accepts: its type, default (nil when required) and an optional check
/// that returns a problem description for an invalid value.
public struct AttributeSpec: Sendable {
    public let name: String
    public let kind: AttributeKind
    public let defaultValue: AttributeValue?
    public let check: (@Sendable (AttributeValue) -> String?)?

    public init(
        _ name: String, _ kind: AttributeKind, default defaultValue: AttributeValue? = nil,
        check: (@Sendable (AttributeValue) -> String?)? = nil
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.check = check
    }
}

/// Everything the IR knows about an op: inputs, outputs, attributes and shape inference.
///
/// Every layer reads nodes through `OpView`, which takes defaults and input names from here.
/// Adding an op: docs/ARCHITECTURE.md, "Adding an op".
public struct OpSchema: Sendable {
    public let op: OpType
    /// Names of the inputs, for messages; trailing ones beyond `minInputs` are optional.
    public let inputNames: [String]
    public let minInputs: Int
    /// When true the op takes any number (at least `minInputs`) of inputs (concat).
    public let variadic: Bool
    public let outputCount: Int
    public let attributes: [AttributeSpec]
    /// True for ops that only appear in training graphs (gradients, losses, train-mode norms).
    public let trainingOnly: Bool
    /// Which inputs a node has, for ops whose optional inputs are not simply a prefix of
    /// `inputNames` (the fused ops say by attributes which of bias and residual are present).
    public let inputLayout: (@Sendable (OpView) -> [String])?
    public let infer: @Sendable (ShapeContext) throws -> [TensorType]

    public init(
        _ op: OpType, inputs: [String], minInputs: Int? = nil, variadic: Bool = false,
        outputs: Int = 1, attributes: [AttributeSpec] = [], trainingOnly: Bool = false,
        inputLayout: (@Sendable (OpView) -> [String])? = nil,
        infer: @escaping @Sendable (ShapeContext) throws -> [TensorType]
    ) {
        self.op = op
        self.inputNames = inputs
        self.minInputs = minInputs ?? inputs.count
        self.variadic = variadic
        self.outputCount = outputs
        self.attributes = attributes
        self.trainingOnly = trainingOnly
        self.inputLayout = inputLayout
        self.infer = infer
    }

    public func attributeSpec(_ name: String) -> AttributeSpec? {
        attributes.first { $0.name == name }
    }

    /// Human-readable arity, e.g. "2 to 3".
    var arityDescription: String {
        if variadic { return "at least \(minInputs)" }
        return minInputs == inputNames.count ? "\(minInputs)" : "\(minInputs) to \(inputNames.count)"
    }
}

/// What shape inference sees of one node: its input types and attributes with defaults applied.
public struct ShapeContext: Sendable {
    public let node: Node
    public let inputs: [TensorType]
    let schema: OpSchema

    init(node: Node, inputs: [TensorType], schema: OpSchema) {
        self.node = node
        self.inputs = inputs
        self.schema = schema
    }

    /// The node read through its schema (attributes with defaults, inputs by name).
    public var view: OpView { OpView(node, schema: schema) }

    public func int(_ name: String) -> Int { view.int(name) }
    public func ints(_ name: String) -> [Int] { view.ints(name) }
    public func float(_ name: String) -> Double { view.float(name) }
    public func floats(_ name: String) -> [Double] { view.floats(name) }
    public func bool(_ name: String) -> Bool { view.bool(name) }
    public func string(_ name: String) -> String { view.string(name) }

    /// A shape error naming this node.
    public func fail(_ problem: String) -> GraphError {
        .shape(node: node.name, problem: problem)
    }

    /// The input at `index`, which must have rank `rank` (when given).
    public func input(_ index: Int, rank: Int? = nil) throws -> TensorType {
        let t = inputs[index]
        if let rank, t.rank != rank {
            let name = index < schema.inputNames.count ? schema.inputNames[index] : "input \(index)"
            throw fail("\(name) must have rank \(rank), got \(t)")
        }
        return t
    }

    /// Checks that input `index` exists and is a parameter-like static tensor of this shape.
    public func expectShape(_ index: Int, _ shape: [Int]) throws {
        guard index < inputs.count else { return }
        let t = inputs[index]
        if t.shape != shape.map({ .fixed($0) }) {
            throw fail("\(schema.inputNames[index]) must have shape \(shape), got \(t)")
        }
    }
}
