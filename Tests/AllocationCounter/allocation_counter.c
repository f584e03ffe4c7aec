// Counts heap allocations in the test process by defining malloc and friends, which the dynamic
// linker then prefers over glibc's for every library in the process. Each wrapper forwards to
// glibc's own entry points (__libc_*), so behaviour is unchanged. Only the thread that called
// scion_allocations_start() is counted, so tests running in parallel do not interfere.
#include <stddef.h>
#include <errno.h>
#include "allocation_counter.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Thread_local int counting;
static _Thread_local long allocations;

static inline void count(void) {
    if (counting) allocations += 1;
}

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void free(void *p) { __libc_free(p); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    count();
    void *p = __libc_memalign(alignment, size);
    if (p == NULL) return ENOMEM;
    *out = p;
    return 0;
}

void scion_allocations_start(void) {
    allocations = 0;
    counting = 1;
}

long scion_allocations_stop(void) {
    counting = 0;
    return allocations;
}
