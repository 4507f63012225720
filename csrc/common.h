/* Shared helpers of the C core: OpenMP shim, aligned scratch, index arithmetic. */
#ifndef CONVX_COMMON_H
#define CONVX_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "convx.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_MSC_VER)
#define CONVX_RESTRICT __restrict
#define CONVX_INLINE static __inline
#else
#define CONVX_RESTRICT restrict
#define CONVX_INLINE static inline
#endif

#define CONVX_CAT_(a, b) a##b
#define CONVX_CAT(a, b) CONVX_CAT_(a, b)
#define CONVX_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CONVX_MAX(a, b) ((a) > (b) ? (a) : (b))
#define CONVX_ALIGN 64

/* Aligned to CONVX_ALIGN, NULL when out of memory (memory.c); convx_free(NULL) does nothing. */
void *convx_alloc(size_t bytes);
void convx_free(void *p);

/* Per-thread scratch inside a parallel region: on failure, sets *failed (shared) and returns
 * NULL; the thread then skips its share of the loop and the call reports CONVX_ERR_NO_MEMORY. */
CONVX_INLINE void *convx_thread_scratch(size_t bytes, int *failed) {
    void *p = convx_alloc(bytes);
    if (!p) {
#pragma omp critical(convx_failed)
        *failed = 1;
    }
    return p;
}

CONVX_INLINE int64_t convx_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* a * b for sizes (a, b >= 0), saturating at 2^56 instead of wrapping: a buffer too large to
 * allocate stays too large. */
CONVX_INLINE int64_t convx_size_mul(int64_t a, int64_t b) {
    const int64_t limit = (int64_t)1 << 56;
    return a != 0 && b > limit / a ? limit : CONVX_MIN(a * b, limit);
}

/* Floor division for any sign of a (b > 0). */
CONVX_INLINE int64_t convx_floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* One spatial axis of a problem: where tap k of output o reads the input. */
typedef struct {
    int64_t in, out, kernel, stride, dilation, pad;
    int transposed;
    convx_padding_mode mode;
} convx_axis;

/* Maps a coordinate of the padded input to an input index, or -1 for a zero. Pads wider than
 * the input repeat the rule, as numpy.pad does. */
CONVX_INLINE int64_t convx_resolve(int64_t i, int64_t n, convx_padding_mode mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case CONVX_PAD_REPLICATE: return i < 0 ? 0 : n - 1;
    case CONVX_PAD_CIRCULAR: {
        int64_t r = i % n;
        return r < 0 ? r + n : r;
    }
    case CONVX_PAD_REFLECT: {
        if (n == 1) return 0;
        int64_t period = 2 * (n - 1), r = i % period;
        if (r < 0) r += period;
        return r < n ? r : period - r;
    }
    default: return -1;
    }
}

/* Input index that output o reads through kernel tap k, or -1 for a zero. */
CONVX_INLINE int64_t convx_axis_tap(const convx_axis *a, int64_t o, int64_t k) {
    if (!a->transposed) return convx_resolve(o * a->stride + k * a->dilation - a->pad, a->in, a->mode);
    int64_t t = o + a->pad - k * a->dilation; /* = i * stride for the input i that reaches o */
    if (t < 0 || t % a->stride != 0) return -1;
    t /= a->stride;
    return t < a->in ? t : -1;
}

/* Outputs [lo, hi) whose tap k lands inside the input without padding (forward axes only). */
CONVX_INLINE void convx_axis_interior(const convx_axis *a, int64_t k, int64_t *lo, int64_t *hi) {
    int64_t shift = k * a->dilation - a->pad; /* input index = o * stride + shift */
    int64_t first = convx_ceil_div(CONVX_MAX(-shift, 0), a->stride);
    int64_t last = convx_floor_div(a->in - 1 - shift, a->stride) + 1;
    *lo = CONVX_MIN(first, a->out);
    *hi = CONVX_MAX(CONVX_MIN(last, a->out), *lo);
}

/* Fills axes[0..2] (D, H, W) from a descriptor. */
CONVX_INLINE void convx_axes_from_desc(const convx_conv_desc *d, convx_axis axes[CONVX_MAX_SPATIAL]) {
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++) {
        axes[i].in = d->in_size[i];
        axes[i].out = d->out_size[i];
        axes[i].kernel = d->kernel[i];
        axes[i].stride = d->stride[i];
        axes[i].dilation = d->dilation[i];
        axes[i].pad = d->pad_before[i];
        axes[i].transposed = d->transposed;
        axes[i].mode = d->padding_mode;
    }
}

#endif
