/// A node read through its op's schema: attributes with the schema's defaults applied, inputs
/// by the schema's names. Every layer (shape inference, reference semantics, lowering, gradient
/// rules, passes) reads nodes this way, so an op's defaults and input order are stated once, in
/// its `OpSchema`.
///
/// Reading an attribute the schema does not declare is a programming error and traps (graphs
/// from files are verified, unknown ops and attributes refused, before anything reads them). An
/// input the op does not declare is simply absent, so one lowering can serve an op family
/// (`conv2d` and `fused_conv2d`'s residual).
public struct OpView: Sendable {
    public let node: Node
    public let schema: OpSchema

    public init(_ node: Node) {
        self.node = node
        schema = OpRegistry.schema(for: node.op) ?? OpSchema(node.op, inputs: []) { _ in [] }
    }

    init(_ node: Node, schema: OpSchema) {
        self.node = node
        self.schema = schema
    }

    public var op: OpType { node.op }
    public var name: String { node.name }

    // MARK: Attributes

    /// The node's value of `name`, or the schema's default (nil: required and missing).
    public func attribute(_ name: String) -> AttributeValue? {
        guard let spec = schema.attributeSpec(name) else {
            preconditionFailure("op \(node.op) declares no attribute '\(name)'")
        }
        return node.attributes[name] ?? spec.defaultValue
    }

    public func int(_ name: String) -> Int {
        if case .int(let v)? = attribute(name) { return v }
        return 0
    }
    public func ints(_ name: String) -> [Int] {
        if case .ints(let v)? = attribute(name) { return v }
        return []
    }
    public func float(_ name: String) -> Double {
        if case .float(let v)? = attribute(name) { return v }
        return 0
    }
    public func floats(_ name: String) -> [Double] {
        if case .floats(let v)? = attribute(name) { return v }
        return []
    }
    public func bool(_ name: String) -> Bool {
        if case .bool(let v)? = attribute(name) { return v }
        return false
    }
    public func string(_ name: String) -> String {
        if case .string(let v)? = attribute(name) { return v }
        return ""
    }

    // MARK: Inputs

    /// The schema's name of each of the node's inputs, in order (an optional input that is
    /// absent has no entry; a variadic op's last name repeats).
    public var inputNames: [String] {
        if let layout = schema.inputLayout { return layout(self) }
        let names = schema.inputNames
        return node.inputs.indices.map { $0 < names.count ? names[$0] : names.last ?? "" }
    }

    /// The position of input `name` on this node, or nil when it is absent.
    public func index(of name: String) -> Int? {
        inputNames.firstIndex(of: name)
    }

    /// The value feeding input `name`, or nil when the (optional) input is absent.
    public func input(_ name: String) -> String? {
        index(of: name).map { node.inputs[$0] }
    }

    /// The element of `values` (one per input, in the node's order) for input `name`.
    public func argument<T>(_ name: String, in values: [T]) -> T? {
        index(of: name).flatMap { $0 < values.count ? values[$0] : nil }
    }
}

extension Node {
    /// This node read through its op's schema.
    public var view: OpView { OpView(self) }
}

extension OpView {
    /// The epilogue activation (`activation` attribute); none for ops without one.
    public var activation: Activation {
        schema.attributeSpec("activation") == nil ? .none : Activation(rawValue: string("activation")) ?? .none
    }
}

extension OpView {
    /// A window op's stride; for pooling an empty `stride` means the kernel's extent.
    public var windowStride: [Int] {
        let s = ints("stride")
        return s.isEmpty ? ints("kernel") : s
    }

    /// A window op's dilation; [1, 1] for ops that have none (average pooling).
    public var windowDilation: [Int] {
        schema.attributeSpec("dilation") == nil ? [1, 1] : ints("dilation")
    }
}
