import Crypto
import Foundation

/// A whole-file checksum kept in the HDF5 user block (the first 512 bytes, which HDF5 and every
/// HDF5 tool skip), so a damaged or truncated Scion file is refused before the HDF5 library
/// parses it. libhdf5 parses malformed metadata poorly (known leaks and shutdown failures);
/// a file that fails its seal never reaches it.
///
/// Layout of the user block: bytes 0-15 the ASCII magic `SCION-SEAL-V1` padded with zeros;
/// bytes 16-23 the file length as a little-endian uint64; bytes 24-55 the SHA-256 of bytes
/// 512 to the end of the file; the rest zero. Files without a user block (written by other
/// tools, HDF5 superblock at offset 0) carry no seal and are checked by content hash alone.
public enum FileSeal {
    public static let userBlockSize = 512
    static let magic = Array("SCION-SEAL-V1".utf8) + [0, 0, 0]
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Writes the seal into the user block of the closed HDF5 file at `path`.
    public static func seal(_ path: String) throws {
        guard let handle = FileHandle(forUpdatingAtPath: path) else { throw FileError.io(path, "cannot open to seal") }
        defer { try? handle.close() }
        let length = try handle.seekToEnd()
        let digest = try hashBody(handle, length: length)
        var block = magic
        withUnsafeBytes(of: length.littleEndian) { block += $0 }
        block += digest
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: block)
    }

    /// What the first bytes of a file say about its seal.
    public enum Status: Equatable {
        /// The seal is present and matches: the file is exactly as Scion wrote it.
        case intact
        /// No user block: the file was written by another tool.
        case unsealed
        /// A Scion user block whose checksum or length does not match.
        case damaged(String)
    }

    /// Checks the seal of the file at `path` without involving HDF5.
    public static func verify(_ path: String) throws -> Status {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw FileError.missingFile(path) }
        defer { try? handle.close() }
        let length = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let head = [UInt8](try handle.read(upToCount: userBlockSize + hdf5Signature.count) ?? Data())
        if head.starts(with: hdf5Signature) { return .unsealed }
        guard head.starts(with: magic) else {
            let signatureAt512 = head.count >= userBlockSize + 8 && Array(head[userBlockSize...]) == hdf5Signature
            return signatureAt512 ? .damaged("the user block is not a Scion seal") : .unsealed
        }
        guard head.count >= 56 else { return .damaged("the file is shorter than its seal") }
        let stored = head[16..<24].withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard stored == length else {
            return .damaged("the seal records \(stored) bytes but the file has \(length) (truncated or extended)")
        }
        guard try hashBody(handle, length: length) == Array(head[24..<56]) else {
            return .damaged("the checksum does not match (bytes were changed)")
        }
        return .intact
    }

    private static func hashBody(_ handle: FileHandle, length: UInt64) throws -> [UInt8] {
        var hasher = SHA256()
        try handle.seek(toOffset: UInt64(userBlockSize))
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return Array(hasher.finalize())
    }
}
