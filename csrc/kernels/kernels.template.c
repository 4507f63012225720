/* One ISA's kernel set, written once per element type. The including file defines
 * ISA (a name suffix) and VBYTES (vector width in bytes) and, per type, T, SFX, MR, NR; the compiler vectorises these loops
 * for the ISA the including file targets. */
#include <stdint.h>

#include "../common.h"

#define KNAME(name) CONVX_CAT(CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, ISA)), CONVX_CAT(_, SFX))

#if defined(__GNUC__)
/* GCC/Clang vector extensions keep the MR x NR accumulator tile in registers; VBYTES is the
 * ISA's vector width. The loads tolerate any alignment. */
typedef T KNAME(vec) __attribute__((vector_size(VBYTES), aligned(sizeof(T))));
#define NV (NR * (int)sizeof(T) / VBYTES)

static void KNAME(gemm)(int64_t k, const T *CONVX_RESTRICT a, const T *CONVX_RESTRICT b, int64_t ldb,
                        T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                        int accumulate, const T *CONVX_RESTRICT bias) {
    KNAME(vec) acc[MR][NV];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = (KNAME(vec)){0};
    for (int64_t p = 0; p < k; p++) {
        const KNAME(vec) *bp = (const KNAME(vec) *)(b + p * ldb);
        KNAME(vec) bv[NV];
        for (int v = 0; v < NV; v++) bv[v] = bp[v];
        for (int r = 0; r < MR; r++) {
            const T ar = a[p * MR + r];
            for (int v = 0; v < NV; v++) acc[r][v] += ar * bv[v];
        }
    }
    if (cs_c == 1 && nr == NR) { /* full-width tile over contiguous pixels: store vectors */
        for (int r = 0; r < mr; r++) {
            KNAME(vec) *row = (KNAME(vec) *)(c + r * rs_c);
            const T start = bias ? bias[r] : (T)0;
            for (int v = 0; v < NV; v++) row[v] = (accumulate ? row[v] : (KNAME(vec)){0} + start) + acc[r][v];
        }
        return;
    }
    T tile[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) *(KNAME(vec) *)&tile[r][v * (VBYTES / (int)sizeof(T))] = acc[r][v];
#undef NV
#else
static void KNAME(gemm)(int64_t k, const T *CONVX_RESTRICT a, const T *CONVX_RESTRICT b, int64_t ldb,
                        T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                        int accumulate, const T *CONVX_RESTRICT bias) {
    T tile[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) tile[r][j] = 0;
    for (int64_t p = 0; p < k; p++) {
        const T *ap = a + p * MR, *bp = b + p * ldb;
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++) tile[r][j] += ap[r] * bp[j];
    }
#endif
    for (int64_t r = 0; r < mr; r++) {
        T *row = c + r * rs_c;
        T start = bias ? bias[r] : (T)0;
        for (int64_t j = 0; j < nr; j++) {
            T *dst = row + j * cs_c;
            *dst = (accumulate ? *dst : start) + tile[r][j];
        }
    }
}

/* Depthwise, channels-first: out[j] = init + sum_t w[t] * rows[t][j] for j < n. Each rows[t]
 * is where tap t's input starts (any kernel, dilation, stride phase or padding row works) and
 * must be readable CONVX_DW_ROW_SLACK elements past n: the last block is computed whole. */
static void KNAME(dw_rows)(int64_t n, int64_t taps, const T *const *CONVX_RESTRICT rows,
                           const T *CONVX_RESTRICT w, T init, T *CONVX_RESTRICT out) {
#if defined(__GNUC__)
    enum { VL = VBYTES / (int)sizeof(T) };
    int64_t j = 0;
    /* Even and odd taps accumulate separately: two FMA chains per vector hide FMA latency. */
    for (; j + 4 * VL <= n; j += 4 * VL) {
        KNAME(vec) a[4], b[4];
        for (int v = 0; v < 4; v++) a[v] = b[v] = (KNAME(vec)){0};
        int64_t t = 0;
        for (; t + 1 < taps; t += 2) {
            const KNAME(vec) *r = (const KNAME(vec) *)(rows[t] + j), *q = (const KNAME(vec) *)(rows[t + 1] + j);
            const T wr = w[t], wq = w[t + 1];
            for (int v = 0; v < 4; v++) {
                a[v] += wr * r[v];
                b[v] += wq * q[v];
            }
        }
        if (t < taps)
            for (int v = 0; v < 4; v++) a[v] += w[t] * ((const KNAME(vec) *)(rows[t] + j))[v];
        KNAME(vec) *o = (KNAME(vec) *)(out + j);
        for (int v = 0; v < 4; v++) o[v] = (a[v] + init) + b[v];
    }
    for (; j < n; j += 2 * VL) {
        KNAME(vec) a[2] = {{0}}, b[2] = {{0}};
        int64_t t = 0;
        for (; t + 1 < taps; t += 2) {
            const KNAME(vec) *r = (const KNAME(vec) *)(rows[t] + j), *q = (const KNAME(vec) *)(rows[t + 1] + j);
            a[0] += w[t] * r[0];
            a[1] += w[t] * r[1];
            b[0] += w[t + 1] * q[0];
            b[1] += w[t + 1] * q[1];
        }
        if (t < taps) {
            const KNAME(vec) *r = (const KNAME(vec) *)(rows[t] + j);
            a[0] += w[t] * r[0];
            a[1] += w[t] * r[1];
        }
        a[0] = (a[0] + init) + b[0];
        a[1] = (a[1] + init) + b[1];
        if (j + 2 * VL <= n)
            memcpy(out + j, a, sizeof(a));
        else
            memcpy(out + j, a, (size_t)(n - j) * sizeof(T));
    }
#else
    for (int64_t j = 0; j < n; j++) {
        T a = init;
        for (int64_t t = 0; t < taps; t++) a += w[t] * rows[t][j];
        out[j] = a;
    }
#endif
}

/* Depthwise, channels-last: out[c] = init[c] + sum_t w[t*n + c] * rows[t][c] for c < n
 * (init may be NULL for 0). rows[t] is the input pixel tap t reads (or a zero vector). */
static void KNAME(dw_channels)(int64_t n, int64_t taps, const T *const *CONVX_RESTRICT rows,
                               const T *CONVX_RESTRICT w, const T *CONVX_RESTRICT init,
                               T *CONVX_RESTRICT out) {
    int64_t c = 0;
#if defined(__GNUC__)
    enum { VL = VBYTES / (int)sizeof(T) };
    for (; c + 2 * VL <= n; c += 2 * VL) {
        KNAME(vec) a0 = {0}, a1 = {0};
        if (init) {
            a0 = *(const KNAME(vec) *)(init + c);
            a1 = *(const KNAME(vec) *)(init + c + VL);
        }
        for (int64_t t = 0; t < taps; t++) {
            const KNAME(vec) *r = (const KNAME(vec) *)(rows[t] + c);
            const KNAME(vec) *wt = (const KNAME(vec) *)(w + t * n + c);
            a0 += wt[0] * r[0];
            a1 += wt[1] * r[1];
        }
        *(KNAME(vec) *)(out + c) = a0;
        *(KNAME(vec) *)(out + c + VL) = a1;
    }
    for (; c + VL <= n; c += VL) {
        KNAME(vec) a = {0};
        if (init) a = *(const KNAME(vec) *)(init + c);
        for (int64_t t = 0; t < taps; t++)
            a += *(const KNAME(vec) *)(w + t * n + c) * *(const KNAME(vec) *)(rows[t] + c);
        *(KNAME(vec) *)(out + c) = a;
    }
#endif
    for (; c < n; c++) {
        T a = init ? init[c] : (T)0;
        for (int64_t t = 0; t < taps; t++) a += w[t * n + c] * rows[t][c];
        out[c] = a;
    }
}

#undef KNAME
