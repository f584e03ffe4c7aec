#ifndef SCION_BF16_H
#define SCION_BF16_H

// The AVX-512 BF16 instructions, under types Swift can import: its importer drops any function
// that takes `__m512bh`, so the intrinsics cannot be called from Swift directly. Only ScionBF16
// imports this header; it is compiled for Cooper Lake (AVX-512 BF16), so LLVM inlines these
// into its microkernels as single instructions.
#if defined(__x86_64__)
#include <immintrin.h>

/// acc[i] + a[2i]·b[2i] + a[2i+1]·b[2i+1] for i in 0..<16, `a` and `b` each 32 bf16, products
/// and sums in FP32 (VDPBF16PS).
static inline __attribute__((always_inline)) __m512 scion_dpbf16(__m512 acc, __m512i a, __m512i b) {
    return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
}

/// The 32 floats `lo` then `hi` rounded to bf16 (to nearest even), in that order
/// (VCVTNE2PS2BF16).
static inline __attribute__((always_inline)) __m512i scion_bf16_round32(__m512 lo, __m512 hi) {
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/// The 16 floats of `v` rounded to bf16 (to nearest even) (VCVTNEPS2BF16).
static inline __attribute__((always_inline)) __m256i scion_bf16_round16(__m512 v) {
    return (__m256i)_mm512_cvtneps_pbh(v);
}
#endif

#endif
