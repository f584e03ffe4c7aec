/// Ops the compiler introduces when it rewrites a graph for inference. They never appear in
/// model files written by Scion, but are ordinary ops: verified, shape-inferred, executed.
extension OpType {
    /// Per-channel `y = act(x * scale + shift)`: an inference BatchNorm, optionally with its
    /// activation.
    public static let affine: OpType = "affine"
    /// `y = act(conv2d(x) + bias + residual)`: a convolution with its epilogue.
    public static let fusedConv2d: OpType = "fused_conv2d"
    /// `y = act(x · Wᵀ + bias + residual)`.
    public static let fusedLinear: OpType = "fused_linear"
}

/// Activations an epilogue can apply.
public enum Activation: String, Sendable, CaseIterable {
    case none, relu, leakyRelu = "leaky_relu", sigmoid, tanh

    /// The activation a standalone op computes, if it is one.
    public init?(op: OpType) {
        switch op {
        case .relu: self = .relu
        case .leakyRelu: self = .leakyRelu
        case .sigmoid: self = .sigmoid
        case .tanh: self = .tanh
        default: return nil
        }
    }
}

extension OpRegistry {
    static let epilogueAttributes: [AttributeSpec] = [
        AttributeSpec(
            "activation", .string, default: "none",
            check: { v in
                guard case .string(let s) = v, Activation(rawValue: s) != nil else {
                    return "expected one of " + Activation.allCases.map(\.rawValue).joined(separator: ", ")
                }
                return nil
            }),
        AttributeSpec("slope", .float, default: 0.01, check: Checks.finite),
        AttributeSpec("has_bias", .bool, default: true),
        AttributeSpec("has_residual", .bool, default: false)
    ]

    static let compilerSchemas: [OpSchema] = [affine, fusedConv2d, fusedLinear]

    static let affine = OpSchema(
        .affine, inputs: ["x", "scale", "shift"], attributes: Array(epilogueAttributes.prefix(2))
    ) { c in
        let x = try c.input(0)
        guard x.rank >= 2, let ch = x.shape[1].fixedValue else { throw c.fail("x must be [N, C, ...]") }
        try c.expectShape(1, [ch])
        try c.expectShape(2, [ch])
        return [x]
    }

    /// Inputs are `x, weight, [bias], [residual]`, which of the optional ones are present being
    /// said by `has_bias` and `has_residual`.
    static let fusedConv2d = OpSchema(
        .fusedConv2d, inputs: ["x", "weight", "bias", "residual"], minInputs: 2,
        attributes: conv2d.attributes + epilogueAttributes, inputLayout: epilogueInputs
    ) { c in
        let y = try conv2d.infer(c.restricted(to: c.bool("has_bias") ? 3 : 2))[0]
        try checkEpilogueInputs(c, output: y)
        return [y]
    }

    static let fusedLinear = OpSchema(
        .fusedLinear, inputs: ["x", "weight", "bias", "residual"], minInputs: 2, attributes: epilogueAttributes,
        inputLayout: epilogueInputs
    ) { c in
        let y = try linear.infer(c.restricted(to: c.bool("has_bias") ? 3 : 2))[0]
        try checkEpilogueInputs(c, output: y)
        return [y]
    }

    @Sendable static func epilogueInputs(_ v: OpView) -> [String] {
        ["x", "weight"] + (v.bool("has_bias") ? ["bias"] : []) + (v.bool("has_residual") ? ["residual"] : [])
    }

    static func checkEpilogueInputs(_ c: ShapeContext, output: TensorType) throws {
        let expected = 2 + (c.bool("has_bias") ? 1 : 0) + (c.bool("has_residual") ? 1 : 0)
        guard c.inputs.count == expected else {
            throw c.fail("has_bias/has_residual call for \(expected) inputs, got \(c.inputs.count)")
        }
        if c.bool("has_residual"), c.inputs[expected - 1] != output {
            throw c.fail("residual \(c.inputs[expected - 1]) must match the output \(output)")
        }
    }
}

extension ShapeContext {
    /// The same node seen with only its first `count` inputs (to reuse a base op's inference).
    func restricted(to count: Int) -> ShapeContext {
        ShapeContext(node: node, inputs: Array(inputs.prefix(count)), schema: schema)
    }
}
