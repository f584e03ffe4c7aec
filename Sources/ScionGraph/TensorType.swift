/// Element type of a tensor.
public enum DType: String, Codable, Sendable, CaseIterable {
    case float32, int32, uint8

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .uint8: return 1
        }
    }
}

/// One dimension of a tensor shape: a fixed extent, or the symbolic batch size `N`.
///
/// Only the first dimension of a value may be `.batch`; the batch is bound when a graph
/// is compiled or run.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case batch
    case fixed(Int)

    /// The extent with the batch bound to `batch`.
    public func resolved(batch: Int) -> Int {
        switch self {
        case .batch: return batch
        case .fixed(let n): return n
        }
    }

    /// The fixed extent, or nil for the symbolic batch.
    public var fixedValue: Int? {
        if case .fixed(let n) = self { return n }
        return nil
    }

    public var description: String {
        switch self {
        case .batch: return "N"
        case .fixed(let n): return String(n)
        }
    }
}

extension Dim: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .fixed(value) }
}

extension Dim: Codable {
    /// Encoded as a JSON integer, or the string `"N"` for the batch.
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let n = try? container.decode(Int.self) {
            self = .fixed(n)
        } else if try container.decode(String.self) == "N" {
            self = .batch
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a dimension is an integer or \"N\"")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .batch: try container.encode("N")
        case .fixed(let n): try container.encode(n)
        }
    }
}

/// The static type of a value: element type and shape.
public struct TensorType: Hashable, Sendable, Codable, CustomStringConvertible {
    public var dtype: DType
    public var shape: [Dim]

    public init(_ dtype: DType = .float32, _ shape: [Dim]) {
        self.dtype = dtype
        self.shape = shape
    }

    /// A batched float32 type `[N, dims...]`.
    public static func batched(_ dims: [Int], dtype: DType = .float32) -> TensorType {
        TensorType(dtype, [.batch] + dims.map { .fixed($0) })
    }

    public var rank: Int { shape.count }

    /// True when the first dimension is the symbolic batch.
    public var isBatched: Bool { shape.first == .batch }

    /// The shape with the batch bound to `batch`.
    public func resolvedShape(batch: Int) -> [Int] { shape.map { $0.resolved(batch: batch) } }

    /// The shape without its batch dimension (the shape of one sample).
    public var sampleShape: [Int] {
        (isBatched ? Array(shape.dropFirst()) : shape).map { $0.fixedValue ?? 0 }
    }

    /// Elements per sample (all dimensions but a leading batch).
    public var elementsPerSample: Int { sampleShape.reduce(1, *) }

    /// Element count with the batch bound to `batch`.
    public func elementCount(batch: Int) -> Int { resolvedShape(batch: batch).reduce(1, *) }

    public var description: String {
        "\(dtype.rawValue)[" + shape.map(\.description).joined(separator: ", ") + "]"
    }
}
