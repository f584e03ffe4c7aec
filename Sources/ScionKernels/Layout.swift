/// Conversions between NCHW (the graph's logical layout) and NHWC (channels last, the layout
/// Scion's kernels compute in: a pixel's channels are contiguous, so convolutions become GEMMs
/// over rows of pixels and per-channel epilogues vectorise over channels).
public enum Layout {
    /// `[N, C, H, W]` → `[N, H, W, C]`.
    public static func nchwToNHWC(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, c: Int, plane: Int
    ) {
        for b in 0..<n {
            let xb = x + b * c * plane, yb = y + b * c * plane
            for ch in 0..<c {
                let src = xb + ch * plane
                for p in 0..<plane { yb[p * c + ch] = src[p] }
            }
        }
    }

    /// `[N, H, W, C]` → `[N, C, H, W]`.
    public static func nhwcToNCHW(
        _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, c: Int, plane: Int
    ) {
        for b in 0..<n {
            let xb = x + b * c * plane, yb = y + b * c * plane
            for ch in 0..<c {
                let dst = yb + ch * plane
                for p in 0..<plane { dst[p] = xb[p * c + ch] }
            }
        }
    }
}
