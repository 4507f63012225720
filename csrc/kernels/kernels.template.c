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

/* Depthwise, channels-first: for each of nrows output rows r,
 * out[r*out_step + j] = init + sum_t w[t] * rows[t][r*row_step + j] for j < n. rows[t] is where
 * tap t's input starts for row 0 (any kernel, dilation, stride phase or padding row works) and
 * must be readable CONVX_DW_ROW_SLACK elements past n: the last block is computed whole. */
#if defined(__GNUC__)
/* One block of 4 vectors on one or two rows: 8 independent FMA chains hide the FMA latency. */
static inline __attribute__((always_inline)) void KNAME(dw_block)(int64_t j, int64_t valid, int two, int64_t taps,
                                                                  const T *const *CONVX_RESTRICT rows, int64_t offset,
                                                                  int64_t row_step, const T *CONVX_RESTRICT w, T init,
                                                                  T *out, int64_t out_step) {
    enum { VL = VBYTES / (int)sizeof(T) };
    KNAME(vec) a[4], b[4];
    for (int v = 0; v < 4; v++) a[v] = b[v] = (KNAME(vec)){0} + init;
    if (two) {
        for (int64_t t = 0; t < taps; t++) {
            const KNAME(vec) *r0 = (const KNAME(vec) *)(rows[t] + offset);
            const KNAME(vec) *r1 = (const KNAME(vec) *)(rows[t] + offset + row_step);
            const T wt = w[t];
            for (int v = 0; v < 4; v++) {
                a[v] += wt * r0[v];
                b[v] += wt * r1[v];
            }
        }
    } else { /* one row: even and odd taps accumulate separately, summed at the end */
        for (int v = 0; v < 4; v++) b[v] = (KNAME(vec)){0};
        int64_t t = 0;
        for (; t + 1 < taps; t += 2) {
            const KNAME(vec) *r0 = (const KNAME(vec) *)(rows[t] + offset);
            const KNAME(vec) *r1 = (const KNAME(vec) *)(rows[t + 1] + offset);
            for (int v = 0; v < 4; v++) {
                a[v] += w[t] * r0[v];
                b[v] += w[t + 1] * r1[v];
            }
        }
        if (t < taps)
            for (int v = 0; v < 4; v++) a[v] += w[t] * ((const KNAME(vec) *)(rows[t] + offset))[v];
        for (int v = 0; v < 4; v++) a[v] += b[v];
    }
    const size_t bytes = (size_t)CONVX_MIN(valid, 4 * VL) * sizeof(T);
    memcpy(out + j, a, bytes);
    if (two) memcpy(out + out_step + j, b, bytes);
}
#endif

static void KNAME(dw_rows)(int64_t n, int64_t nrows, int64_t taps, const T *const *CONVX_RESTRICT rows,
                           int64_t row_step, const T *CONVX_RESTRICT w, T init, T *CONVX_RESTRICT out,
                           int64_t out_step) {
#if defined(__GNUC__)
    enum { VL = VBYTES / (int)sizeof(T) };
    for (int64_t r = 0; r < nrows; r += 2) { /* two rows at a time share each weight broadcast */
        T *o = out + r * out_step;
        for (int64_t j = 0; j < n; j += 4 * VL) {
            if (r + 1 < nrows)
                KNAME(dw_block)(j, n - j, 1, taps, rows, r * row_step + j, row_step, w, init, o, out_step);
            else
                KNAME(dw_block)(j, n - j, 0, taps, rows, r * row_step + j, row_step, w, init, o, out_step);
        }
    }
#else
    for (int64_t r = 0; r < nrows; r++)
        for (int64_t j = 0; j < n; j++) {
            T a = init;
            for (int64_t t = 0; t < taps; t++) a += w[t] * rows[t][r * row_step + j];
            out[r * out_step + j] = a;
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
