import CHDF5
import Foundation
import ScionGraph

/// A failed HDF5 call: what Scion was doing and what the library's error stack said.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let detail: String

    public var description: String {
        detail.isEmpty ? operation : "\(operation): \(detail)"
    }
}

/// Access to the HDF5 library. Every call runs under one process-wide lock (HDF5 builds without
/// thread safety need it; with it, multi-call sequences stay consistent). The library's own
/// error printing is turned off, per thread because thread-safe builds keep one error stack per
/// thread, and its error stack is read into `HDF5Error` instead.
///
/// Handles (`HDF5Object`) close themselves on deinit and must not outlive the `withLock` call
/// that opened them.
public enum HDF5 {
    private static let lock = NSRecursiveLock()

    /// Runs `body` holding the HDF5 lock.
    public static func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        scion_h5_silence_errors()
        return try body()
    }

    /// How many HDF5 objects are open; tests check this returns to zero (no leaked handles).
    public static func openObjectCount() -> Int {
        withLock { scion_h5_open_object_count() }
    }

    /// Throws an `HDF5Error` for a negative status, with the library's messages.
    @discardableResult
    static func check<T: BinaryInteger>(_ status: T, _ operation: @autoclosure () -> String) throws -> T {
        if status < 0 { throw HDF5Error(operation: operation(), detail: takeErrorStack()) }
        return status
    }

    /// The current error stack's descriptions, innermost first, then clears the stack.
    static func takeErrorStack() -> String {
        final class Collector { var messages: [String] = [] }
        let collector = Collector()
        H5Ewalk2(
            scion_H5E_DEFAULT(), H5E_WALK_UPWARD,
            { _, err, data in
                guard let err, let data else { return 0 }
                let c = Unmanaged<Collector>.fromOpaque(data).takeUnretainedValue()
                if let desc = err.pointee.desc {
                    let text = String(cString: desc)
                    if !text.isEmpty, !c.messages.contains(text) { c.messages.append(text) }
                }
                return 0
            }, Unmanaged.passUnretained(collector).toOpaque())
        H5Eclear2(scion_H5E_DEFAULT())
        return collector.messages.prefix(3).joined(separator: "; ")
    }
}

/// An open HDF5 identifier, closed when the object goes away.
final class HDF5Object {
    let id: hid_t
    private let closer: (hid_t) -> herr_t
    private var isOpen = true

    init(_ id: hid_t, _ operation: @autoclosure () -> String, close: @escaping (hid_t) -> herr_t) throws {
        try HDF5.check(id, operation())
        self.id = id
        self.closer = close
    }

    /// Closes now, reporting failure (a file close is where buffered writes can fail).
    func close(_ operation: String) throws {
        try HDF5.withLock { try closeLocked(operation) }
    }

    private func closeLocked(_ operation: String) throws {
        guard isOpen else { return }
        isOpen = false
        try HDF5.check(closer(id), operation)
    }

    deinit {
        guard isOpen else { return }
        HDF5.withLock {
            // The handle may already be closed by a strong file close; forget that error.
            if closer(id) < 0 { H5Eclear2(scion_H5E_DEFAULT()) }
        }
    }
}

/// Element types Scion stores, with their HDF5 file and memory types.
public enum HDF5Type: Sendable {
    case float32, float64, int32, int64, uint8, uint64

    public init(_ dtype: DType) {
        switch dtype {
        case .float32: self = .float32
        case .int32: self = .int32
        case .uint8: self = .uint8
        }
    }

    var fileType: hid_t {
        switch self {
        case .float32: return scion_H5T_IEEE_F32LE()
        case .float64: return scion_H5T_IEEE_F64LE()
        case .int32: return scion_H5T_STD_I32LE()
        case .int64: return scion_H5T_STD_I64LE()
        case .uint8: return scion_H5T_STD_U8LE()
        case .uint64: return scion_H5T_STD_U64LE()
        }
    }

    var memoryType: hid_t {
        switch self {
        case .float32: return scion_H5T_NATIVE_FLOAT()
        case .float64: return scion_H5T_NATIVE_DOUBLE()
        case .int32: return scion_H5T_NATIVE_INT32()
        case .int64: return scion_H5T_NATIVE_INT64()
        case .uint8: return scion_H5T_NATIVE_UINT8()
        case .uint64: return scion_H5T_NATIVE_UINT64()
        }
    }

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64, .uint64: return 8
        case .uint8: return 1
        }
    }

    /// Classifies a stored HDF5 type; nil for types Scion never writes (strings, compounds, ...).
    static func classify(_ typeID: hid_t) -> HDF5Type? {
        let size = H5Tget_size(typeID)
        switch H5Tget_class(typeID) {
        case H5T_FLOAT:
            return size == 4 ? .float32 : size == 8 ? .float64 : nil
        case H5T_INTEGER:
            let signed = H5Tget_sign(typeID) == H5T_SGN_2
            switch (size, signed) {
            case (4, true): return .int32
            case (8, true): return .int64
            case (1, false): return .uint8
            case (8, false): return .uint64
            default: return nil
            }
        default:
            return nil
        }
    }

    /// A readable name of any stored type, for error messages.
    static func describe(_ typeID: hid_t) -> String {
        let size = H5Tget_size(typeID)
        switch H5Tget_class(typeID) {
        case H5T_FLOAT: return "float\(size * 8)"
        case H5T_INTEGER: return (H5Tget_sign(typeID) == H5T_SGN_2 ? "int" : "uint") + "\(size * 8)"
        case H5T_STRING: return "string"
        case H5T_COMPOUND: return "compound"
        default: return "an unsupported type"
        }
    }
}
