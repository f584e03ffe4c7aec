import CZlib
import Foundation

/// Decompression of gzip files (zlib).
enum Gzip {
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// The decompressed bytes of `data`, refusing outputs larger than `limit`.
    static func decompress(_ data: Data, path: String, limit: Int = 1 << 31) throws -> Data {
        var stream = z_stream()
        guard scion_inflate_init_gzip(&stream) == Z_OK else {
            throw DataError.malformed(path: path, problem: "cannot start gzip decoding")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status = Z_OK
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                try chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else {
                        throw DataError.malformed(path: path, problem: "corrupt gzip data (zlib status \(status))")
                    }
                    output.append(out.baseAddress!, count: out.count - Int(stream.avail_out))
                }
                guard output.count <= limit else {
                    throw DataError.malformed(path: path, problem: "decompresses to more than \(limit) bytes")
                }
            } while status != Z_STREAM_END && (stream.avail_in > 0 || stream.avail_out == 0)
        }
        guard status == Z_STREAM_END else { throw DataError.malformed(path: path, problem: "truncated gzip data") }
        return output
    }
}
