#ifndef SCION_SUPPORT_H
#define SCION_SUPPORT_H

/// Tells the CPU the caller is spinning (x86 PAUSE), which saves power and lets the sibling
/// hyper-thread run; a no-op elsewhere.
static inline void scion_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
