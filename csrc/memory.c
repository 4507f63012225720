/* The core's one allocator: aligned blocks, with a count of the bytes held and of the peak
 * since the last reset, so tests can check how much extra memory a call takes. */
#include "common.h"

#if defined(_MSC_VER)
#include <intrin.h>
#define ATOMIC_ADD(p, v) (_InterlockedExchangeAdd64((volatile long long *)(p), (v)) + (v))
#define ATOMIC_LOAD(p) _InterlockedOr64((volatile long long *)(p), 0)
#define ATOMIC_CAS(p, expected, desired) \
    (_InterlockedCompareExchange64((volatile long long *)(p), (desired), (expected)) == (expected))
#else
#define ATOMIC_ADD(p, v) __atomic_add_fetch((p), (v), __ATOMIC_RELAXED)
#define ATOMIC_LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define ATOMIC_CAS(p, expected, desired) \
    __atomic_compare_exchange_n((p), &(int64_t){(expected)}, (desired), 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)
#endif

static int64_t held_bytes, peak_bytes;

/* Each block starts CONVX_ALIGN bytes into its allocation; the size sits in front of it. */
void *convx_alloc(size_t bytes) {
    if (bytes > (size_t)INT64_MAX - CONVX_ALIGN) return NULL;
    const size_t total = bytes + CONVX_ALIGN;
#if defined(_MSC_VER)
    char *base = (char *)_aligned_malloc(total, CONVX_ALIGN);
#else
    void *raw = NULL;
    char *base = posix_memalign(&raw, CONVX_ALIGN, total) == 0 ? (char *)raw : NULL;
#endif
    if (!base) return NULL;
    *(int64_t *)base = (int64_t)bytes;
    const int64_t now = ATOMIC_ADD(&held_bytes, (int64_t)bytes);
    for (int64_t peak = ATOMIC_LOAD(&peak_bytes); now > peak && !ATOMIC_CAS(&peak_bytes, peak, now);)
        peak = ATOMIC_LOAD(&peak_bytes);
    return base + CONVX_ALIGN;
}

void convx_free(void *p) {
    if (!p) return;
    char *base = (char *)p - CONVX_ALIGN;
    ATOMIC_ADD(&held_bytes, -*(int64_t *)base);
#if defined(_MSC_VER)
    _aligned_free(base);
#else
    free(base);
#endif
}

int64_t convx_memory_held(void) { return ATOMIC_LOAD(&held_bytes); }

int64_t convx_memory_peak(void) { return ATOMIC_LOAD(&peak_bytes); }

void convx_memory_reset_peak(void) {
    for (int64_t peak = ATOMIC_LOAD(&peak_bytes); !ATOMIC_CAS(&peak_bytes, peak, ATOMIC_LOAD(&held_bytes));)
        peak = ATOMIC_LOAD(&peak_bytes);
}
