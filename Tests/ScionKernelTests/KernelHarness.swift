import ScionKernels

/// Runs NHWC kernels on NCHW test data so they can be compared with the reference kernels.
enum Harness {
    static func random(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Float(state % 2000) / 1000 - 1
        }
    }

    static func toNHWC(_ x: [Float], n: Int, c: Int, plane: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer {
                Layout.nchwToNHWC(xp.baseAddress!, $0.baseAddress!, n: n, c: c, plane: plane)
            }
        }
        return y
    }

    static func toNCHW(_ x: [Float], n: Int, c: Int, plane: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer {
                Layout.nhwcToNCHW(xp.baseAddress!, $0.baseAddress!, n: n, c: c, plane: plane)
            }
        }
        return y
    }

    /// Output extent of a window, as shape inference computes it.
    static func out(_ size: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int = 1) -> Int {
        (size + 2 * p - d * (k - 1) - 1) / s + 1
    }
}
