import Foundation
import ScionGraph

/// NumPy `.npy` files (format 1.0 written; 1.0 to 3.0 read), implemented here so Scion needs
/// no Python. Reads little-endian float32/float64/uint8/bool/int32/int64 in C order; float64
/// becomes float32 and int64 becomes int32 (checked for range).
public enum NPY {
    /// Reads the array at `path`.
    public static func read(_ path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw NPYError.malformed(path: path, problem: "cannot read the file (missing or unreadable)")
        }
        return try decode(data, path: path)
    }

    /// Writes `tensor` atomically as a version 1.0 `.npy` file.
    public static func write(_ tensor: Tensor, to path: String) throws {
        try AtomicFile.write(encode(tensor), to: path)
    }

    /// The `.npy` bytes of `tensor`.
    public static func encode(_ tensor: Tensor) -> Data {
        let descr: String
        switch tensor.dtype {
        case .float32: descr = "<f4"
        case .int32: descr = "<i4"
        case .uint8: descr = "|u1"
        }
        let shape =
            tensor.shape.count == 1
            ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.withRawBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Parses `.npy` bytes; `path` names the source in errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw NPYError.malformed(path: path, problem: "no .npy magic (is it a NumPy array saved with np.save?)")
        }
        let major = bytes[6]
        let headerStart = major == 1 ? 10 : 12
        guard (1...3).contains(major), bytes.count >= headerStart else {
            throw NPYError.malformed(path: path, problem: "unsupported .npy version \(major)")
        }
        var headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        if major > 1 { headerLength |= Int(bytes[10]) << 16 | Int(bytes[11]) << 24 }
        guard headerStart + headerLength <= bytes.count else {
            throw NPYError.malformed(path: path, problem: "the header runs past the end of the file")
        }
        let header = String(decoding: bytes[headerStart..<headerStart + headerLength], as: UTF8.self)
        let parsed = try NPYHeader(header, path: path)
        let body = bytes[(headerStart + headerLength)...]
        return try parsed.tensor(from: Array(body), path: path)
    }
}

/// Why an `.npy` file could not be read.
public enum NPYError: Error, Equatable, CustomStringConvertible {
    case malformed(path: String, problem: String)
    case unsupported(path: String, problem: String)

    public var description: String {
        switch self {
        case .malformed(let path, let problem): return "\(path): not a valid .npy file: \(problem)"
        case .unsupported(let path, let problem): return "\(path): unsupported .npy array: \(problem)"
        }
    }
}

/// The parsed header dictionary of an `.npy` file.
struct NPYHeader {
    let descr: String
    let shape: [Int]

    init(_ header: String, path: String) throws {
        func field(_ key: String) -> Substring? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return header[range.upperBound...].drop { $0 == " " }
        }
        guard let d = field("descr"), d.first == "'", let end = d.dropFirst().firstIndex(of: "'") else {
            throw NPYError.malformed(path: path, problem: "header has no 'descr'")
        }
        descr = String(d[d.index(after: d.startIndex)..<end])
        guard let fortran = field("fortran_order") else {
            throw NPYError.malformed(path: path, problem: "header has no 'fortran_order'")
        }
        guard fortran.hasPrefix("False") else {
            throw NPYError.unsupported(path: path, problem: "Fortran-ordered arrays (save with np.ascontiguousarray)")
        }
        guard let s = field("shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw NPYError.malformed(path: path, problem: "header has no 'shape'")
        }
        let items = s[s.index(after: s.startIndex)..<close].split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        .filter { !$0.isEmpty }
        let dims = items.compactMap { Int($0) }
        guard dims.count == items.count, dims.count <= 8, dims.allSatisfy({ $0 >= 0 }) else {
            throw NPYError.malformed(path: path, problem: "bad shape '\(s[..<close]))'")
        }
        shape = dims
    }

    func tensor(from body: [UInt8], path: String) throws -> Tensor {
        guard let count = ShapeRules.elementCount(shape) else {
            throw NPYError.malformed(path: path, problem: "shape \(shape) overflows")
        }
        let itemSizes = ["<f4": 4, "<f8": 8, "|u1": 1, "<u1": 1, "|b1": 1, "<i4": 4, "<i8": 8]
        guard let itemSize = itemSizes[descr] else {
            throw NPYError.unsupported(
                path: path,
                problem: "dtype '\(descr)'; use float32, float64, uint8, bool, int32 or int64 (little-endian)")
        }
        guard body.count == count * itemSize else {
            throw NPYError.malformed(
                path: path, problem: "shape \(shape) needs \(count * itemSize) data bytes, the file has \(body.count)")
        }
        return try body.withUnsafeBytes { raw in
            switch descr {
            case "<f4":
                return Tensor(
                    shape: shape,
                    storage: .float32((0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }))
            case "<f8":
                return Tensor(
                    shape: shape,
                    storage: .float32(
                        (0..<count).map { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }))
            case "<i4":
                return Tensor(
                    shape: shape,
                    storage: .int32((0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self) }))
            case "<i8":
                let wide = (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
                guard wide.allSatisfy({ Int64(Int32.min)...Int64(Int32.max) ~= $0 }) else {
                    throw NPYError.unsupported(path: path, problem: "int64 values outside the int32 range")
                }
                return Tensor(shape: shape, storage: .int32(wide.map { Int32($0) }))
            default: return Tensor(shape: shape, storage: .uint8(Array(body)))
            }
        }
    }
}
