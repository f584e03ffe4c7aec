/// A dense, row-major tensor with concrete data: parameters, constants, inputs and outputs.
///
/// `Tensor` is a value type for moving data between the model file, the executors and the
/// user; executors copy it into their own aligned buffers and never compute on it directly.
public struct Tensor: Sendable, Equatable {
    /// Typed element storage.
    public enum Storage: Sendable, Equatable {
        case float32([Float])
        case int32([Int32])
        case uint8([UInt8])
    }

    public private(set) var shape: [Int]
    public private(set) var storage: Storage

    /// A float32 tensor; `values.count` must equal the product of `shape`.
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "tensor data does not match its shape")
        self.shape = shape
        self.storage = .float32(values)
    }

    /// A tensor of any dtype; the storage's element count must equal the product of `shape`.
    public init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
        precondition(count == shape.reduce(1, *), "tensor data does not match its shape")
    }

    /// A float32 tensor filled with `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, values: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    public var dtype: DType {
        switch storage {
        case .float32: return .float32
        case .int32: return .int32
        case .uint8: return .uint8
        }
    }

    public var count: Int {
        switch storage {
        case .float32(let v): return v.count
        case .int32(let v): return v.count
        case .uint8(let v): return v.count
        }
    }

    /// The elements as float32, converting other dtypes.
    public var floats: [Float] {
        switch storage {
        case .float32(let v): return v
        case .int32(let v): return v.map { Float($0) }
        case .uint8(let v): return v.map { Float($0) }
        }
    }

    /// The same data under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "reshape must keep the element count")
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// Calls `body` with the raw little-endian bytes of the elements.
    public func withRawBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .float32(let v): return try v.withUnsafeBytes(body)
        case .int32(let v): return try v.withUnsafeBytes(body)
        case .uint8(let v): return try v.withUnsafeBytes(body)
        }
    }
}
