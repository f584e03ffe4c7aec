/// A typed node attribute.
///
/// In the graph's JSON each attribute is a one-key object naming its type:
/// `{"i": 3}`, `{"is": [1, 1]}`, `{"f": 0.1}`, `{"fs": [1.0, 10.0]}`, `{"b": true}`, `{"s": "nearest"}`.
public enum AttributeValue: Hashable, Sendable {
    case int(Int)
    case ints([Int])
    case float(Double)
    case floats([Double])
    case bool(Bool)
    case string(String)

    /// Name of the attribute type, as used in error messages and the JSON encoding.
    public var typeName: String {
        switch self {
        case .int: return "i"
        case .ints: return "is"
        case .float: return "f"
        case .floats: return "fs"
        case .bool: return "b"
        case .string: return "s"
        }
    }
}

extension AttributeValue: Codable {
    private enum Key: String, CodingKey { case i, `is`, f, fs, b, s }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: c.codingPath,
                    debugDescription: "an attribute is an object with exactly one of i, is, f, fs, b, s"))
        }
        switch key {
        case .i: self = .int(try c.decode(Int.self, forKey: .i))
        case .is: self = .ints(try c.decode([Int].self, forKey: .is))
        case .f: self = .float(try c.decode(Double.self, forKey: .f))
        case .fs: self = .floats(try c.decode([Double].self, forKey: .fs))
        case .b: self = .bool(try c.decode(Bool.self, forKey: .b))
        case .s: self = .string(try c.decode(String.self, forKey: .s))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .int(let v): try c.encode(v, forKey: .i)
        case .ints(let v): try c.encode(v, forKey: .is)
        case .float(let v): try c.encode(v, forKey: .f)
        case .floats(let v): try c.encode(v, forKey: .fs)
        case .bool(let v): try c.encode(v, forKey: .b)
        case .string(let v): try c.encode(v, forKey: .s)
        }
    }
}

extension AttributeValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByStringLiteral
{
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(stringLiteral value: String) { self = .string(value) }
}
