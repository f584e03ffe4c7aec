import CHDF5

/// Attribute values Scion reads and writes: UTF-8 strings and numeric arrays.
public enum HDF5AttributeValue: Equatable, Sendable {
    case string(String)
    case ints([Int64])
    case floats([Double])
}

/// Reading and writing attributes on any HDF5 object (file root, group or dataset).
enum HDF5Attributes {
    /// Writes `value` as attribute `name` of `object`. Strings are fixed-length and UTF-8, so
    /// they live in the object header, which the 1.8+ formats checksum.
    static func write(_ value: HDF5AttributeValue, named name: String, on object: HDF5Object) throws {
        try HDF5.withLock { try writeLocked(value, named: name, on: object) }
    }

    private static func writeLocked(_ value: HDF5AttributeValue, named name: String, on object: HDF5Object) throws {
        switch value {
        case .string(let text):
            let bytes = Array(text.utf8)
            let type = try HDF5Object(H5Tcopy(scion_H5T_C_S1()), "create a string type", close: H5Tclose)
            try HDF5.check(H5Tset_size(type.id, max(bytes.count, 1)), "size a string type")
            try HDF5.check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), "pad a string type")
            try HDF5.check(H5Tset_cset(type.id, H5T_CSET_UTF8), "set a string encoding")
            let padded = bytes.isEmpty ? [UInt8(0)] : bytes
            try writeRaw(name, type: type.id, memoryType: type.id, shape: nil, on: object, padded)
        case .ints(let values):
            try writeRaw(
                name, type: scion_H5T_STD_I64LE(), memoryType: scion_H5T_NATIVE_INT64(), shape: values.count,
                on: object, values)
        case .floats(let values):
            try writeRaw(
                name, type: scion_H5T_IEEE_F64LE(), memoryType: scion_H5T_NATIVE_DOUBLE(), shape: values.count,
                on: object, values)
        }
    }

    private static func writeRaw<T>(
        _ name: String, type: hid_t, memoryType: hid_t, shape: Int?, on object: HDF5Object, _ data: [T]
    ) throws {
        let dims = [hsize_t(shape ?? 0)]
        let space = try HDF5Object(
            shape == nil ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nil), "create a dataspace", close: H5Sclose
        )
        let attribute = try HDF5Object(
            H5Acreate2(object.id, name, type, space.id, scion_H5P_DEFAULT(), scion_H5P_DEFAULT()),
            "create attribute '\(name)'", close: H5Aclose)
        _ = try data.withUnsafeBytes { raw in
            try HDF5.check(H5Awrite(attribute.id, memoryType, raw.baseAddress), "write attribute '\(name)'")
        }
    }

    /// Reads attribute `name` of `object`, or nil when it does not exist.
    static func read(_ name: String, on object: HDF5Object) throws -> HDF5AttributeValue? {
        try HDF5.withLock { try readLocked(name, on: object) }
    }

    private static func readLocked(_ name: String, on object: HDF5Object) throws -> HDF5AttributeValue? {
        let exists = H5Aexists(object.id, name)
        guard exists > 0 else {
            H5Eclear2(scion_H5E_DEFAULT())
            return nil
        }
        let attribute = try HDF5Object(
            H5Aopen(object.id, name, scion_H5P_DEFAULT()), "open attribute '\(name)'", close: H5Aclose)
        let type = try HDF5Object(H5Aget_type(attribute.id), "read the type of '\(name)'", close: H5Tclose)
        let count = try elementCount(attribute, name)
        switch H5Tget_class(type.id) {
        case H5T_STRING:
            guard count == 1 else {
                throw HDF5Error(operation: "read attribute '\(name)'", detail: "expected one string, found \(count)")
            }
            return .string(try readString(attribute, type: type, name: name))
        case H5T_INTEGER:
            var values = [Int64](repeating: 0, count: count)
            try HDF5.check(H5Aread(attribute.id, scion_H5T_NATIVE_INT64(), &values), "read attribute '\(name)'")
            return .ints(values)
        case H5T_FLOAT:
            var values = [Double](repeating: 0, count: count)
            try HDF5.check(H5Aread(attribute.id, scion_H5T_NATIVE_DOUBLE(), &values), "read attribute '\(name)'")
            return .floats(values)
        default:
            throw HDF5Error(
                operation: "read attribute '\(name)'", detail: "unsupported type \(HDF5Type.describe(type.id))")
        }
    }

    private static func elementCount(_ attribute: HDF5Object, _ name: String) throws -> Int {
        let space = try HDF5Object(H5Aget_space(attribute.id), "read the shape of '\(name)'", close: H5Sclose)
        let count = try HDF5.check(H5Sget_simple_extent_npoints(space.id), "read the shape of '\(name)'")
        guard count >= 0, count <= 1_000_000 else {
            throw HDF5Error(operation: "read attribute '\(name)'", detail: "implausible size \(count)")
        }
        return Int(count)
    }

    /// Reads a scalar string attribute, fixed-length (as Scion writes) or variable-length (as
    /// h5py writes by default).
    private static func readString(_ attribute: HDF5Object, type: HDF5Object, name: String) throws -> String {
        if H5Tis_variable_str(type.id) > 0 {
            let memType = try HDF5Strings.variableMemoryType(like: type)
            var pointer: UnsafeMutablePointer<CChar>? = nil
            try HDF5.check(H5Aread(attribute.id, memType.id, &pointer), "read attribute '\(name)'")
            defer { if let pointer { H5free_memory(pointer) } }
            guard let pointer else { return "" }
            return String(cString: pointer)
        }
        let size = H5Tget_size(type.id)
        guard size > 0, size <= 1 << 20 else {
            throw HDF5Error(operation: "read attribute '\(name)'", detail: "implausible string size \(size)")
        }
        var buffer = [UInt8](repeating: 0, count: size)
        try HDF5.check(H5Aread(attribute.id, type.id, &buffer), "read attribute '\(name)'")
        let end = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: buffer[..<end], as: UTF8.self)
    }
}

extension HDF5Group {
    /// Sets attribute `name` of this group.
    public func setAttribute(_ value: HDF5AttributeValue, named name: String) throws {
        try HDF5Attributes.write(value, named: name, on: object)
    }

    /// Attribute `name` of this group, or nil when absent.
    public func attribute(_ name: String) throws -> HDF5AttributeValue? {
        try HDF5Attributes.read(name, on: object)
    }
}

extension HDF5Dataset {
    /// Sets attribute `name` of this dataset.
    public func setAttribute(_ value: HDF5AttributeValue, named name: String) throws {
        try HDF5Attributes.write(value, named: name, on: object)
    }

    /// Attribute `name` of this dataset, or nil when absent.
    public func attribute(_ name: String) throws -> HDF5AttributeValue? {
        try HDF5Attributes.read(name, on: object)
    }
}
