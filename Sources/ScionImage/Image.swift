import CStb
import Foundation

/// An 8-bit image, rows top to bottom, channels interleaved (HWC): 1 channel (gray) or 3 (RGB).
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * channels, "pixel count does not match the size")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A blank image.
    public init(width: Int, height: Int, channels: Int, fill: UInt8 = 0) {
        self.init(
            width: width, height: height, channels: channels,
            pixels: [UInt8](repeating: fill, count: width * height * channels))
    }

    /// The image scaled to `width × height` (stb_image_resize's default filter: Mitchell when
    /// shrinking, Catmull-Rom when enlarging).
    public func resized(width newWidth: Int, height newHeight: Int) -> Image {
        guard newWidth != width || newHeight != height else { return self }
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        _ = pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stbir_resize_uint8(
                    src.baseAddress, Int32(width), Int32(height), 0, dst.baseAddress, Int32(newWidth), Int32(newHeight),
                    0,
                    Int32(channels))
            }
        }
        return Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// The image with `count` channels: gray becomes RGB by repetition, RGB becomes gray by the
    /// ITU-R 601 luma weights (as PIL's `convert("L")`).
    public func withChannels(_ count: Int) -> Image {
        guard count != channels else { return self }
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * count)
        for i in 0..<n {
            if count == 3 {
                let v = pixels[i]
                (out[3 * i], out[3 * i + 1], out[3 * i + 2]) = (v, v, v)
            } else {
                let r = Int(pixels[3 * i]), g = Int(pixels[3 * i + 1]), b = Int(pixels[3 * i + 2])
                out[i] = UInt8((r * 299 + g * 587 + b * 114 + 500) / 1000)
            }
        }
        return Image(width: width, height: height, channels: count, pixels: out)
    }

    /// Pixel `(x, y)`, channel `c`.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}
