/// The name of an operator. Open-ended so that a file naming an op this build does not know
/// can still be read and then rejected by the verifier with the op's name.
public struct OpType: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public init(from decoder: Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
    public var description: String { rawValue }
}

/// One operation of a graph: an op applied to named input values, defining named output values.
///
/// Inputs are value names (graph inputs, parameters or outputs of earlier nodes); each output
/// name is defined exactly once in the whole graph (SSA).
public struct Node: Hashable, Sendable, Codable {
    public var name: String
    public var op: OpType
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: AttributeValue]

    public init(
        name: String, op: OpType, inputs: [String], outputs: [String],
        attributes: [String: AttributeValue] = [:]
    ) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// The first output, which most ops have alone.
    public var output: String { outputs[0] }
}

/// What a parameter is for; optimizers and passes read it (BatchNorm statistics are never
/// trained; weight decay applies to weights).
public enum ParameterRole: String, Codable, Sendable, CaseIterable {
    case weight, bias
    case runningMean = "running_mean"
    case runningVar = "running_var"
    case constant
}

/// A named tensor owned by the graph (a weight, a bias, BatchNorm statistics, a constant).
public struct ParameterInfo: Hashable, Sendable, Codable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var role: ParameterRole
    public var trainable: Bool

    public init(name: String, dtype: DType = .float32, shape: [Int], role: ParameterRole, trainable: Bool) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.role = role
        self.trainable = trainable
    }

    public var type: TensorType { TensorType(dtype, shape.map { .fixed($0) }) }
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A named value where a stem ends and a head begins: the defense cuts the graph there.
public struct CutPoint: Hashable, Sendable, Codable {
    public var name: String
    public var value: String
    public var summary: String

    public init(name: String, value: String, summary: String = "") {
        self.name = name
        self.value = value
        self.summary = summary
    }
}
