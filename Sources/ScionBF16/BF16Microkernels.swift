// The BF16 microkernels behind `--precision bf16`: matrix products whose inputs are rounded to
// bfloat16 (8 bits of mantissa) and whose products and sums are FP32 (VDPBF16PS), twice the
// multiply-adds of an FP32 FMA per instruction. Compiled for Cooper Lake (AVX-512 BF16);
// ScionKernels calls them only where `scion_cpu_has_avx512_bf16` says the CPU runs them.
//
// Layouts:
// - `x`: `[pixel][pairs]` words, each the bf16 of two consecutive channels (channel 2j in the
//   low half, 2j + 1 in the high half), as `roundToPairs` leaves a channels-last FP32 matrix.
// - `weights`: for each block of 16 or 32 output channels (32 while they fit), `[pairs][block]`
//   words, each the bf16 of input channels 2j (low) and 2j + 1 (high) for one output channel.
// - `out`: FP32 `[pixel][outStride]`.
// FP32 loads and stores come from ScionAVX512's VectorAccess.swift (a symlink here).
import ScionTiles

#if arch(x86_64)
    import CScionBF16

    typealias Words16 = SIMD16<UInt32>

    @inline(__always)
    func dot(_ acc: Vector16, _ x: Words16, _ w: Words16) -> Vector16 {
        scion_dpbf16(acc, unsafeBitCast(x, to: SIMD8<Int64>.self), unsafeBitCast(w, to: SIMD8<Int64>.self))
    }

    @inline(__always)
    func load(_ p: UnsafePointer<UInt32>) -> Words16 { UnsafeRawPointer(p).loadUnaligned(as: Words16.self) }

    /// 8 pixels x 32 output channels. Reads 8 pixels of `x` whatever `valid` says.
    @inline(__always)
    func product8x32(
        _ x: UnsafePointer<UInt32>, pairs: Int, _ w: UnsafePointer<UInt32>, _ out: UnsafeMutablePointer<Float>,
        outStride: Int, valid: Int
    ) {
        var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
        var a4 = Vector16(), a5 = Vector16(), a6 = Vector16(), a7 = Vector16()
        var c0 = Vector16(), c1 = Vector16(), c2 = Vector16(), c3 = Vector16()
        var c4 = Vector16(), c5 = Vector16(), c6 = Vector16(), c7 = Vector16()
        var wp = w
        for j in 0..<pairs {
            let wa = load(wp), wc = load(wp + 16)
            wp += 32
            let b = x + j
            var v = Words16(repeating: b[0]); a0 = dot(a0, v, wa); c0 = dot(c0, v, wc)
            v = Words16(repeating: b[pairs]); a1 = dot(a1, v, wa); c1 = dot(c1, v, wc)
            v = Words16(repeating: b[2 * pairs]); a2 = dot(a2, v, wa); c2 = dot(c2, v, wc)
            v = Words16(repeating: b[3 * pairs]); a3 = dot(a3, v, wa); c3 = dot(c3, v, wc)
            v = Words16(repeating: b[4 * pairs]); a4 = dot(a4, v, wa); c4 = dot(c4, v, wc)
            v = Words16(repeating: b[5 * pairs]); a5 = dot(a5, v, wa); c5 = dot(c5, v, wc)
            v = Words16(repeating: b[6 * pairs]); a6 = dot(a6, v, wa); c6 = dot(c6, v, wc)
            v = Words16(repeating: b[7 * pairs]); a7 = dot(a7, v, wa); c7 = dot(c7, v, wc)
        }
        store8(a0, a1, a2, a3, a4, a5, a6, a7, out, stride: outStride, valid: valid, accumulate: false)
        store8(c0, c1, c2, c3, c4, c5, c6, c7, out + 16, stride: outStride, valid: valid, accumulate: false)
    }

    /// 8 pixels x 16 output channels.
    @inline(__always)
    func product8x16(
        _ x: UnsafePointer<UInt32>, pairs: Int, _ w: UnsafePointer<UInt32>, _ out: UnsafeMutablePointer<Float>,
        outStride: Int, valid: Int
    ) {
        var a0 = Vector16(), a1 = Vector16(), a2 = Vector16(), a3 = Vector16()
        var a4 = Vector16(), a5 = Vector16(), a6 = Vector16(), a7 = Vector16()
        var wp = w
        for j in 0..<pairs {
            let wa = load(wp)
            wp += 16
            let b = x + j
            a0 = dot(a0, Words16(repeating: b[0]), wa)
            a1 = dot(a1, Words16(repeating: b[pairs]), wa)
            a2 = dot(a2, Words16(repeating: b[2 * pairs]), wa)
            a3 = dot(a3, Words16(repeating: b[3 * pairs]), wa)
            a4 = dot(a4, Words16(repeating: b[4 * pairs]), wa)
            a5 = dot(a5, Words16(repeating: b[5 * pairs]), wa)
            a6 = dot(a6, Words16(repeating: b[6 * pairs]), wa)
            a7 = dot(a7, Words16(repeating: b[7 * pairs]), wa)
        }
        store8(a0, a1, a2, a3, a4, a5, a6, a7, out, stride: outStride, valid: valid, accumulate: false)
    }
#endif

/// Matrix products with bf16 inputs and FP32 accumulation.
public enum BF16Products {
    /// Output channels in the weight block that starts `remaining` channels before the end
    /// (channels are a multiple of 16): 32 while they fit, then 16.
    @inline(__always)
    public static func blockSize(remaining: Int) -> Int { remaining >= 32 ? 32 : 16 }

    /// Rounds the `count` floats at `p` (a multiple of 16) to bf16 in place, to nearest even:
    /// afterwards the first `count / 2` words at `p` hold them as pairs, in order. Inputs that
    /// are subnormal become zero (the instruction's rule).
    public static func roundToPairs(_ p: UnsafeMutablePointer<Float>, count: Int) {
        #if arch(x86_64)
            let words = UnsafeMutableRawPointer(p)
            var i = 0
            // Each step reads its floats before it writes half as many bytes at or below them.
            while i + 32 <= count {
                let rounded = scion_bf16_round32(load(p + i), load(p + i + 16))
                words.storeBytes(of: rounded, toByteOffset: i * 2, as: SIMD8<Int64>.self)
                i += 32
            }
            if i < count {
                words.storeBytes(of: scion_bf16_round16(load(p + i)), toByteOffset: i * 2, as: SIMD4<Int64>.self)
            }
        #else
            preconditionFailure("the BF16 kernels need x86-64")
        #endif
    }

    /// `out[p][co] = Σ_c x[p][c] · w[c][co]` for `pixels` pixels and every output channel, in
    /// the layouts at the top of this file. `x` is read in whole groups of 8 pixels: it must
    /// hold `pixels` rounded up to 8 rows.
    public static func multiply(
        _ x: UnsafePointer<UInt32>, pairs: Int, weights: UnsafePointer<UInt32>, outChannels: Int, pixels: Int,
        out: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        #if arch(x86_64)
            var co = 0
            while co < outChannels {
                let block = blockSize(remaining: outChannels - co), w = weights + co * pairs
                var p = 0
                while p < pixels {
                    let o = out + p * outStride + co, xp = x + p * pairs, valid = min(8, pixels - p)
                    if block == 32 {
                        product8x32(xp, pairs: pairs, w, o, outStride: outStride, valid: valid)
                    } else {
                        product8x16(xp, pairs: pairs, w, o, outStride: outStride, valid: valid)
                    }
                    p += 8
                }
                co += block
            }
        #else
            preconditionFailure("the BF16 kernels need x86-64")
        #endif
    }
}
