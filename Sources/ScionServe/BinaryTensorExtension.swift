import Foundation
import HTTPTypes

/// KServe's and Triton's binary tensor data extension to the REST protocol: a request (or
/// response) body is a JSON header of `Inference-Header-Content-Length` bytes followed by raw
/// tensors, little-endian and row-major, in the order of the tensors whose `parameters` give a
/// `binary_data_size`. `tritonclient.http` sends and asks for tensors this way by default.
public enum BinaryTensorExtension {
    public static let header = "Inference-Header-Content-Length"
    static let headerField = HTTPField.Name(header)!  // a valid token, checked by the tests

    /// The JSON header and the binary part of a body whose header is `length` bytes long.
    static func split(_ body: Data, headerLength length: String?) throws -> (json: Data, binary: Data?) {
        guard let length else { return (body, nil) }
        guard let n = Int(length), n >= 0, n <= body.count else {
            throw ServeError.badRequest("\(header) is \(length), the body has \(body.count) bytes")
        }
        return (body.prefix(n), body.dropFirst(n))
    }

    /// An input's `binary_data_size` bytes, taken from the front of `binary`.
    static func take(_ size: Double, from binary: inout Data?) throws -> Data {
        guard var rest = binary else {
            throw ServeError.badRequest("the input gives binary_data_size but the request has no \(header) header")
        }
        guard size >= 0, size == size.rounded(), Int(size) <= rest.count else {
            throw ServeError.badRequest("binary_data_size \(size) exceeds the \(rest.count) bytes of binary data")
        }
        let bytes = rest.prefix(Int(size))
        rest = rest.dropFirst(Int(size))
        binary = rest
        return bytes
    }

    /// FP32 values from little-endian bytes, or UINT8 pixel values; checked like JSON data.
    public static func values(_ bytes: Data, uint8: Bool, count: Int) throws -> [Float] {
        let size = uint8 ? 1 : 4
        guard bytes.count == count * size else {
            throw ServeError.badRequest("binary data has \(bytes.count) bytes, the shape needs \(count * size)")
        }
        if uint8 { return bytes.map(Float.init) }
        let values = bytes.withUnsafeBytes { raw in
            (0..<count).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        guard values.allSatisfy({ $0.isFinite }) else {
            throw ServeError.badRequest("binary data holds a non-finite FP32 value")
        }
        return values
    }

    /// The little-endian bytes of `values`.
    public static func bytes(_ values: [Float]) -> Data {
        var data = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        return data
    }
}
