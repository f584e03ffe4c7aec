import CHDF5
import Foundation

/// An HDF5 file opened for reading or created for writing. Call `close()` after writing so a
/// failure to flush is reported before the file is renamed into place.
public final class HDF5File {
    private let file: HDF5Object
    public let root: HDF5Group

    private init(_ file: HDF5Object) throws {
        self.file = file
        root = HDF5Group(
            try HDF5Object(H5Gopen2(file.id, "/", scion_H5P_DEFAULT()), "open the root group", close: H5Gclose))
    }

    /// Creates (truncating) `path`, using the 1.8+ object formats whose metadata carry checksums.
    /// With `userBlock`, the first 512 bytes are reserved for `FileSeal`.
    public static func create(_ path: String, userBlock: Bool = true) throws -> HDF5File {
        try HDF5.withLock {
            let fapl = try HDF5Object(H5Pcreate(scion_H5P_FILE_ACCESS()), "create file access list", close: H5Pclose)
            try HDF5.check(H5Pset_libver_bounds(fapl.id, H5F_LIBVER_V18, H5F_LIBVER_V110), "set format bounds")
            // Closing the file closes everything in it, so the bytes are final when close()
            // returns, even if a group or dataset handle is still referenced somewhere.
            try HDF5.check(H5Pset_fclose_degree(fapl.id, H5F_CLOSE_STRONG), "set the close degree")
            let fcpl = try HDF5Object(H5Pcreate(scion_H5P_FILE_CREATE()), "create file creation list", close: H5Pclose)
            if userBlock {
                try HDF5.check(H5Pset_userblock(fcpl.id, hsize_t(FileSeal.userBlockSize)), "reserve the user block")
            }
            let id = H5Fcreate(path, scion_H5F_ACC_TRUNC(), fcpl.id, fapl.id)
            return try HDF5File(try HDF5Object(id, "create \(path)", close: H5Fclose))
        }
    }

    /// Opens `path` read-only.
    public static func open(_ path: String) throws -> HDF5File {
        try HDF5.withLock {
            let id = H5Fopen(path, scion_H5F_ACC_RDONLY(), scion_H5P_DEFAULT())
            return try HDF5File(try HDF5Object(id, "open \(path)", close: H5Fclose))
        }
    }

    /// Closes the file, reporting a failure to flush.
    public func close() throws {
        try HDF5.withLock {
            try root.object.close("close the root group")
            try file.close("close the file")
        }
    }
}

/// A group (or the root): creates and opens members, reads and writes its attributes.
public final class HDF5Group {
    let object: HDF5Object

    init(_ object: HDF5Object) { self.object = object }

    public func createGroup(_ name: String) throws -> HDF5Group {
        try HDF5.withLock {
            let id = H5Gcreate2(object.id, name, scion_H5P_DEFAULT(), scion_H5P_DEFAULT(), scion_H5P_DEFAULT())
            return HDF5Group(try HDF5Object(id, "create group '\(name)'", close: H5Gclose))
        }
    }

    public func openGroup(_ name: String) throws -> HDF5Group {
        try HDF5.withLock {
            HDF5Group(
                try HDF5Object(H5Gopen2(object.id, name, scion_H5P_DEFAULT()), "open group '\(name)'", close: H5Gclose))
        }
    }

    /// True when a link called `name` exists here.
    public func contains(_ name: String) -> Bool {
        HDF5.withLock {
            let result = H5Lexists(object.id, name, scion_H5P_DEFAULT()) > 0
            if !result { H5Eclear2(scion_H5E_DEFAULT()) }
            return result
        }
    }

    /// Names of the members, in name order.
    public func memberNames() throws -> [String] {
        try HDF5.withLock {
            var info = H5G_info_t()
            try HDF5.check(H5Gget_info(object.id, &info), "list a group")
            guard info.nlinks <= 1_000_000 else {
                throw HDF5Error(operation: "list a group", detail: "implausibly many members")
            }
            return try (0..<info.nlinks).map { i in
                let length = try HDF5.check(
                    H5Lget_name_by_idx(object.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, scion_H5P_DEFAULT()),
                    "read a member name")
                guard length < 65536 else { throw HDF5Error(operation: "read a member name", detail: "name too long") }
                var buffer = [CChar](repeating: 0, count: Int(length) + 1)
                try HDF5.check(
                    H5Lget_name_by_idx(
                        object.id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, scion_H5P_DEFAULT()),
                    "read a member name")
                return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }

    /// Writes a contiguous dataset of `shape` from `bytes` (which must hold exactly its data).
    @discardableResult
    public func writeDataset(_ name: String, type: HDF5Type, shape: [Int], bytes: UnsafeRawBufferPointer) throws
        -> HDF5Dataset
    {
        try HDF5.withLock {
            precondition(bytes.count == shape.reduce(1, *) * type.byteSize, "dataset bytes do not match its shape")
            let dims = shape.map { hsize_t($0) }
            let space = try HDF5Object(
                shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil),
                "create a dataspace", close: H5Sclose)
            let id = H5Dcreate2(
                object.id, name, type.fileType, space.id, scion_H5P_DEFAULT(), scion_H5P_DEFAULT(), scion_H5P_DEFAULT())
            let dataset = HDF5Dataset(try HDF5Object(id, "create dataset '\(name)'", close: H5Dclose), name: name)
            if bytes.count > 0 {
                try HDF5.check(
                    H5Dwrite(
                        dataset.object.id, type.memoryType, scion_H5S_ALL(), scion_H5S_ALL(), scion_H5P_DEFAULT(),
                        bytes.baseAddress),
                    "write dataset '\(name)'")
            }
            return dataset
        }
    }

    /// Writes UTF-8 strings as a fixed-length string dataset: scalar for one string (`scalar`),
    /// otherwise one-dimensional. Tools such as h5dump then show the text itself.
    public func writeStrings(_ name: String, _ strings: [String], scalar: Bool = false) throws {
        try HDF5.withLock {
            precondition(!scalar || strings.count == 1, "a scalar string dataset holds one string")
            let encoded = strings.map { Array($0.utf8) }
            let width = max(encoded.map(\.count).max() ?? 1, 1)
            var bytes = [UInt8](repeating: 0, count: width * encoded.count)
            for (i, e) in encoded.enumerated() { bytes.replaceSubrange(i * width..<i * width + e.count, with: e) }
            let type = try HDF5Object(H5Tcopy(scion_H5T_C_S1()), "create a string type", close: H5Tclose)
            try HDF5.check(H5Tset_size(type.id, width), "size a string type")
            try HDF5.check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), "pad a string type")
            try HDF5.check(H5Tset_cset(type.id, H5T_CSET_UTF8), "set a string encoding")
            let dims = [hsize_t(encoded.count)]
            let space = try HDF5Object(
                scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nil), "create a dataspace", close: H5Sclose)
            let dataset = try HDF5Object(
                H5Dcreate2(
                    object.id, name, type.id, space.id, scion_H5P_DEFAULT(), scion_H5P_DEFAULT(), scion_H5P_DEFAULT()),
                "create dataset '\(name)'", close: H5Dclose)
            guard !bytes.isEmpty else { return }
            try HDF5.check(
                H5Dwrite(dataset.id, type.id, scion_H5S_ALL(), scion_H5S_ALL(), scion_H5P_DEFAULT(), bytes),
                "write dataset '\(name)'")
        }
    }

    public func openDataset(_ name: String) throws -> HDF5Dataset {
        try HDF5.withLock {
            HDF5Dataset(
                try HDF5Object(
                    H5Dopen2(object.id, name, scion_H5P_DEFAULT()), "open dataset '\(name)'", close: H5Dclose),
                name: name)
        }
    }
}

/// A dataset: its stored type and shape, and its data.
public final class HDF5Dataset {
    let object: HDF5Object
    let name: String

    init(_ object: HDF5Object, name: String) {
        self.object = object
        self.name = name
    }

    /// The stored element type, or nil (with `typeDescription`) for types Scion does not use.
    public func storedType() throws -> (type: HDF5Type?, description: String) {
        try HDF5.withLock {
            let t = try HDF5Object(H5Dget_type(object.id), "read the type of '\(name)'", close: H5Tclose)
            return (HDF5Type.classify(t.id), HDF5Type.describe(t.id))
        }
    }

    /// The extents, checked to be few and not to overflow when multiplied.
    public func shape() throws -> [Int] {
        try HDF5.withLock {
            let space = try HDF5Object(H5Dget_space(object.id), "read the shape of '\(name)'", close: H5Sclose)
            let rank = try HDF5.check(H5Sget_simple_extent_ndims(space.id), "read the rank of '\(name)'")
            guard rank <= 8 else {
                throw HDF5Error(operation: "read the shape of '\(name)'", detail: "rank \(rank) is too high")
            }
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            try HDF5.check(H5Sget_simple_extent_dims(space.id, &dims, nil), "read the shape of '\(name)'")
            guard dims.allSatisfy({ $0 <= hsize_t(Int32.max) }) else {
                throw HDF5Error(operation: "read the shape of '\(name)'", detail: "an extent is implausibly large")
            }
            return dims.map { Int($0) }
        }
    }

    /// Reads the whole dataset, converted to `type`, into `buffer` (sized by the caller from
    /// a checked shape).
    public func read(as type: HDF5Type, into buffer: UnsafeMutableRawBufferPointer) throws {
        try HDF5.withLock {
            guard buffer.count > 0 else { return }
            try HDF5.check(
                H5Dread(
                    object.id, type.memoryType, scion_H5S_ALL(), scion_H5S_ALL(), scion_H5P_DEFAULT(),
                    buffer.baseAddress),
                "read dataset '\(name)'")
        }
    }

    /// Reads a string dataset (scalar or one-dimensional; fixed-length as Scion writes, or
    /// variable-length as h5py writes by default), refusing more than `maxBytes` of text.
    public func readStrings(maxBytes: Int) throws -> [String] {
        try HDF5.withLock {
            let type = try HDF5Object(H5Dget_type(object.id), "read the type of '\(name)'", close: H5Tclose)
            guard H5Tget_class(type.id) == H5T_STRING else {
                throw HDF5Error(
                    operation: "read '\(name)'", detail: "expected strings, found \(HDF5Type.describe(type.id))")
            }
            let dims = try shape()
            guard dims.count <= 1 else {
                throw HDF5Error(operation: "read '\(name)'", detail: "expected at most one dimension")
            }
            let count = dims.first ?? 1
            if H5Tis_variable_str(type.id) > 0 {
                return try readVariableStrings(type, count: count, maxBytes: maxBytes)
            }
            let width = H5Tget_size(type.id)
            let (total, overflow) = width.multipliedReportingOverflow(by: count)
            guard width > 0, !overflow, total <= maxBytes else {
                throw HDF5Error(
                    operation: "read '\(name)'",
                    detail: "\(count) strings of \(width) bytes exceed the \(maxBytes)-byte limit")
            }
            var bytes = [UInt8](repeating: 0, count: total)
            if total > 0 {
                try HDF5.check(
                    H5Dread(object.id, type.id, scion_H5S_ALL(), scion_H5S_ALL(), scion_H5P_DEFAULT(), &bytes),
                    "read dataset '\(name)'")
            }
            return (0..<count).map { i in
                let slice = bytes[i * width..<(i + 1) * width]
                let end = slice.firstIndex(of: 0) ?? slice.endIndex
                return String(decoding: slice[slice.startIndex..<end], as: UTF8.self)
            }
        }
    }

    /// The `count` variable-length strings of this dataset, at most `maxBytes` of text in all.
    private func readVariableStrings(_ type: HDF5Object, count: Int, maxBytes: Int) throws -> [String] {
        guard count <= maxBytes else {
            throw HDF5Error(operation: "read '\(name)'", detail: "\(count) strings exceed the \(maxBytes)-byte limit")
        }
        let memType = try HDF5Strings.variableMemoryType(like: type)
        let space = try HDF5Object(H5Dget_space(object.id), "read the shape of '\(name)'", close: H5Sclose)
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        try HDF5.check(
            H5Dread(object.id, memType.id, scion_H5S_ALL(), scion_H5S_ALL(), scion_H5P_DEFAULT(), &pointers),
            "read dataset '\(name)'")
        defer { _ = H5Dvlen_reclaim(memType.id, space.id, scion_H5P_DEFAULT(), &pointers) }
        var total = 0
        return try pointers.map { pointer in
            let text = pointer.map { String(cString: $0) } ?? ""
            total += text.utf8.count
            guard total <= maxBytes else {
                throw HDF5Error(operation: "read '\(name)'", detail: "its strings exceed the \(maxBytes)-byte limit")
            }
            return text
        }
    }

    /// Bytes the dataset occupies in the file (0 when never written).
    public var storageSize: UInt64 { HDF5.withLock { UInt64(H5Dget_storage_size(object.id)) } }
}

/// Memory types for reading strings.
enum HDF5Strings {
    /// A variable-length C string type in `fileType`'s character set: HDF5 converts between
    /// lengths but not between ASCII and UTF-8, and h5py writes UTF-8.
    static func variableMemoryType(like fileType: HDF5Object) throws -> HDF5Object {
        let memType = try HDF5Object(H5Tcopy(scion_H5T_C_S1()), "create a string type", close: H5Tclose)
        try HDF5.check(H5Tset_size(memType.id, -1 /* H5T_VARIABLE */), "size a string type")
        try HDF5.check(H5Tset_cset(memType.id, H5Tget_cset(fileType.id)), "set a string type's character set")
        return memType
    }
}
