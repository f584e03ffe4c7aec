import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes files so that readers only ever see the old file or the complete new one: the data
/// goes to a temporary file in the same folder, is flushed to disk, then renamed over the target.
/// A run killed mid-write leaves at most a stray `.tmp` file, never a corrupt model.
///
/// ```swift
/// try AtomicFile.write(to: "model.h5") { temporaryPath in try writeHDF5(at: temporaryPath) }
/// ```
public enum AtomicFile {
    /// Calls `body` with a temporary path next to `path`, then moves the result into place.
    public static func write(to path: String, _ body: (String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FileError.missingFolder(folder)
        }
        let temporary = folder + "/." + url.lastPathComponent + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        do {
            try body(temporary)
            try syncFile(temporary)
            guard rename(temporary, path) == 0 else { throw FileError.io(path, String(cString: strerror(errno))) }
            try? syncFile(folder)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Atomically writes `data` to `path`.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw FileError.io(temporary, "cannot create the file")
            }
        }
    }

    private static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileError.io(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError.io(path, String(cString: strerror(errno))) }
    }
}

/// A file could not be read or written.
public enum FileError: Error, Equatable, CustomStringConvertible {
    case missingFolder(String)
    case missingFile(String)
    case io(String, String)

    public var description: String {
        switch self {
        case .missingFolder(let path): return "folder '\(path)' does not exist"
        case .missingFile(let path): return "file '\(path)' does not exist"
        case .io(let path, let reason): return "'\(path)': \(reason)"
        }
    }
}
