import Foundation
import ScionGraph

/// Conversions between ONNX's TensorProto and Scion tensors. Floats are written as little-endian
/// `raw_data`; reading accepts `raw_data` or the typed fields (`float_data`, `int64_data`,
/// `int32_data`, `double_data`), as exporters use either.
public enum ONNXTensor {
    public static let float = Int32(Onnx_TensorProto.DataType.float.rawValue)
    public static let int64 = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    public static let int32 = Int32(Onnx_TensorProto.DataType.int32.rawValue)
    public static let double = Int32(Onnx_TensorProto.DataType.double.rawValue)

    static func elementType(_ dtype: DType) throws -> Int32 {
        switch dtype {
        case .float32: return float
        case .int32: return int32
        case .uint8: return Int32(Onnx_TensorProto.DataType.uint8.rawValue)
        }
    }

    static func proto(_ tensor: Tensor, name: String) throws -> Onnx_TensorProto {
        guard tensor.dtype == .float32 else {
            throw ONNXError.invalid("parameter '\(name)' is \(tensor.dtype.rawValue); only float32 is exported")
        }
        return floatProto(tensor.floats, dims: tensor.shape, name: name)
    }

    public static func floatProto(_ values: [Float], dims: [Int], name: String) -> Onnx_TensorProto {
        .with {
            $0.name = name
            $0.dataType = float
            $0.dims = dims.map(Int64.init)
            $0.rawData = values.withUnsafeBytes { Data($0) }  // x86-64 and arm64 are little-endian
        }
    }

    public static func int64Proto(_ values: [Int], dims: [Int], name: String) -> Onnx_TensorProto {
        .with {
            $0.name = name
            $0.dataType = int64
            $0.dims = dims.map(Int64.init)
            $0.rawData = values.map(Int64.init).withUnsafeBytes { Data($0) }
        }
    }

    /// The tensor's extents, checked: non-negative and a count that fits in memory.
    public static func dims(_ proto: Onnx_TensorProto) throws -> [Int] {
        let dims = proto.dims.map { Int(clamping: $0) }
        guard dims.allSatisfy({ $0 >= 0 }), ShapeRules.elementCount(dims) != nil else {
            throw ONNXError.invalid("tensor '\(proto.name)' has invalid dims \(proto.dims)")
        }
        return dims
    }

    /// A floating-point tensor as float32.
    public static func floats(_ proto: Onnx_TensorProto) throws -> Tensor {
        let dims = try dims(proto)
        let count = ShapeRules.elementCount(dims) ?? 0
        let values: [Float]
        switch proto.dataType {
        case float:
            values = proto.hasRawData ? try raw(proto, Float.self, count: count) : proto.floatData
        case double:
            values = (proto.hasRawData ? try raw(proto, Double.self, count: count) : proto.doubleData).map(Float.init)
        default:
            throw ONNXError.invalid("tensor '\(proto.name)' has element type \(proto.dataType); expected float")
        }
        guard values.count == count else {
            throw ONNXError.invalid("tensor '\(proto.name)' holds \(values.count) values for dims \(dims)")
        }
        return Tensor(shape: dims, values: values)
    }

    /// An integer (or float, truncated) tensor's values, as constants such as shapes and pads are.
    public static func integers(_ proto: Onnx_TensorProto) throws -> [Int] {
        let count = ShapeRules.elementCount(try dims(proto)) ?? 0
        let values: [Int]
        switch proto.dataType {
        case int64:
            values = (proto.hasRawData ? try raw(proto, Int64.self, count: count) : proto.int64Data).map {
                Int(clamping: $0)
            }
        case int32:
            values = (proto.hasRawData ? try raw(proto, Int32.self, count: count) : proto.int32Data).map(Int.init)
        case float, double: values = try floats(proto).floats.map { Int(exactly: $0.rounded()) ?? 0 }
        default: throw ONNXError.invalid("tensor '\(proto.name)' has element type \(proto.dataType); expected integers")
        }
        guard values.count == count else {
            throw ONNXError.invalid("tensor '\(proto.name)' holds \(values.count) values for its dims")
        }
        return values
    }

    private static func raw<T: BitwiseCopyable>(_ proto: Onnx_TensorProto, _: T.Type, count: Int) throws -> [T] {
        guard proto.rawData.count == count * MemoryLayout<T>.size else {
            throw ONNXError.invalid(
                "tensor '\(proto.name)' has \(proto.rawData.count) bytes of raw data for \(count) elements")
        }
        let size = MemoryLayout<T>.size  // Data's bytes need not be aligned for T
        return proto.rawData.withUnsafeBytes { bytes in
            (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * size, as: T.self) }
        }
    }
}
