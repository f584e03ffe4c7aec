#ifndef SCION_SUPPORT_H
#define SCION_SUPPORT_H

/// Tells the CPU the caller is spinning (x86 PAUSE), which saves power and lets the sibling
/// hyper-thread run; a no-op elsewhere.
static inline void scion_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// 1 when the CPU runs the AVX-512 instructions (F, BW, DQ, VL) the ScionAVX512 kernels are
/// compiled for, else 0; always 0 off x86-64.
static inline int scion_cpu_has_avx512(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
    return 0;
#endif
}

/// 1 when the CPU also runs AVX-512 BF16 (Cooper Lake, Sapphire Rapids, Zen 4 and later), which
/// the ScionBF16 kernels are compiled for, else 0; always 0 off x86-64.
static inline int scion_cpu_has_avx512_bf16(void) {
#if defined(__x86_64__)
    return scion_cpu_has_avx512() && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}

/// 1 when the CPU runs AVX2 and FMA, which the ScionAVX2 kernels are compiled for (Haswell
/// and later, Zen and later), else 0; always 0 off x86-64.
static inline int scion_cpu_has_avx2(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/// Lays out `text` with stb_easy_font (Debian's libstb-dev) at (x, y), one unit per font pixel:
/// writes up to `max_rects` axis-aligned rectangles as (x0, y0, x1, y1) into `rects` and returns
/// how many it wrote. Used to draw labels on plots.
int scion_text_rects(const char *text, float x, float y, float *rects, int max_rects);

/// Width of `text` in font pixels.
int scion_text_width(const char *text);

#endif
