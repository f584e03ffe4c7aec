import CStb
import Foundation

/// Why image bytes could not be decoded.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    case notAnImage(source: String, reason: String)
    case tooLarge(source: String, width: Int, height: Int, limit: Int)
    case unreadable(String)
    case encodeFailed(String)

    public var description: String {
        switch self {
        case .notAnImage(let source, let reason): return "\(source): not a PNG, JPEG or PPM image (\(reason))"
        case .tooLarge(let source, let w, let h, let limit):
            return "\(source): image is \(w)x\(h), more than the \(limit)-pixel limit"
        case .unreadable(let path): return "\(path): cannot read the file"
        case .encodeFailed(let what): return "cannot encode \(what) as PNG"
        }
    }
}

/// Decodes PNG, JPEG and PPM/PGM (and the other formats stb_image reads) and encodes PNG, with
/// Debian's stb library. Dimensions are checked before any pixel is decoded.
public enum ImageCodec {
    /// Images with more pixels than this are refused (a 64-megapixel bound against decompression bombs).
    public static let maxPixels = 64_000_000

    public static func decode(_ data: Data, source: String = "image", maxPixels: Int = maxPixels) throws -> Image {
        guard !data.isEmpty, data.count < Int(Int32.max) else {
            throw ImageError.notAnImage(source: source, reason: data.isEmpty ? "no bytes" : "too many bytes")
        }
        return try data.withUnsafeBytes { raw -> Image in
            let bytes = raw.bindMemory(to: stbi_uc.self).baseAddress
            var w: Int32 = 0, h: Int32 = 0, c: Int32 = 0
            guard stbi_info_from_memory(bytes, Int32(data.count), &w, &h, &c) == 1 else {
                throw ImageError.notAnImage(source: source, reason: failureReason())
            }
            guard w > 0, h > 0, Int(w) * Int(h) <= maxPixels else {
                throw ImageError.tooLarge(source: source, width: Int(w), height: Int(h), limit: maxPixels)
            }
            let channels: Int32 = c <= 2 ? 1 : 3
            guard let decoded = stbi_load_from_memory(bytes, Int32(data.count), &w, &h, &c, channels) else {
                throw ImageError.notAnImage(source: source, reason: failureReason())
            }
            defer { stbi_image_free(decoded) }
            let count = Int(w) * Int(h) * Int(channels)
            return Image(
                width: Int(w), height: Int(h), channels: Int(channels),
                pixels: Array(UnsafeBufferPointer(start: decoded, count: count)))
        }
    }

    public static func decode(contentsOf path: String) throws -> Image {
        guard let data = FileManager.default.contents(atPath: path) else { throw ImageError.unreadable(path) }
        return try decode(data, source: path)
    }

    /// PNG bytes of `image`.
    public static func encodePNG(_ image: Image) throws -> Data {
        final class Sink { var data = Data() }
        let sink = Sink()
        let ok = image.pixels.withUnsafeBufferPointer { p in
            stbi_write_png_to_func(
                { context, bytes, size in
                    guard let context, let bytes else { return }
                    Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue().data.append(
                        bytes.assumingMemoryBound(to: UInt8.self), count: Int(size))
                }, Unmanaged.passUnretained(sink).toOpaque(), Int32(image.width), Int32(image.height),
                Int32(image.channels),
                p.baseAddress, Int32(image.width * image.channels))
        }
        guard ok != 0 else { throw ImageError.encodeFailed("a \(image.width)x\(image.height) image") }
        return sink.data
    }

    private static func failureReason() -> String {
        stbi_failure_reason().map { String(cString: $0) } ?? "unknown format"
    }
}
