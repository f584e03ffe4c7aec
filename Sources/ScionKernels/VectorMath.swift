/// Transcendental functions on 16 lanes, for elementwise kernels that would otherwise call
/// `expf` once per lane (a scalar call per element made the decoder's sigmoid cost as much as
/// a convolution).
public enum VectorMath {
    /// e^x to within 2 ulp for x in [-87.3, 88] (clamped outside it): Cephes' `expf`, a range
    /// reduction x = n·ln 2 + r with |r| ≤ ln 2 / 2 split in two constants for accuracy, a
    /// degree-6 polynomial for e^r, and 2^n put straight into the exponent bits.
    @inline(__always)
    public static func exp(_ v: SIMD16<Float>) -> SIMD16<Float> {
        // This module targets baseline x86-64 (SSE2), which has no vector floor or
        // float-to-int rounding; adding 1.5 · 2^23 rounds to an integer in the mantissa's low
        // bits instead, which then serve as n directly.
        let magic = SIMD16<Float>(repeating: 12582912)
        let x = v.replacing(with: 88, where: v .> 88).replacing(with: -87.33654, where: v .< -87.33654)
        let t = x * 1.442695041 + magic
        let n = t - magic
        let r = x - n * 0.693359375 + n * 2.12194440e-4
        var p = SIMD16<Float>(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * r * r + r + 1
        let exponent =
            (unsafeBitCast(t, to: SIMD16<Int32>.self) &- unsafeBitCast(magic, to: SIMD16<Int32>.self) &+ 127) &<< 23
        return er * unsafeBitCast(exponent, to: SIMD16<Float>.self)
    }

    /// 1 / (1 + e^-x).
    @inline(__always)
    public static func sigmoid(_ v: SIMD16<Float>) -> SIMD16<Float> {
        1 / (1 + exp(-v))
    }
}
