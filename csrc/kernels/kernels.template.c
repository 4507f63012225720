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

/* Direct convolution tile: C[r, j] (= or +=) sum_p pix[r][off[p]] * w[p*NR + j] for pixels
 * r < mr, channels j < nr, C[r, j] at c[r*rs_c + j*cs_c], p over the nseg ranges
 * [seg[2i], seg[2i+1]) (the taps that do not read padding). pix[r] is where pixel r's taps
 * start in the input (or a padded copy of it) and off[p] where tap p sits from there, so
 * stride, dilation and layout are all in the addresses: the input is never packed. w: one
 * packed NR-channel weight panel; without accumulate, C starts from bias[j] (0 if NULL). All
 * MR pixel pointers must be readable (unused ones may repeat pixel 0). */
static void KNAME(gemm_direct)(int64_t nseg, const int64_t *CONVX_RESTRICT seg, const T *const *CONVX_RESTRICT pix,
                               const int64_t *CONVX_RESTRICT off,
                               const T *CONVX_RESTRICT w, T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c,
                               int64_t mr, int64_t nr, int accumulate, const T *CONVX_RESTRICT bias) {
    const T *src[MR];
    for (int r = 0; r < MR; r++) src[r] = pix[r];
#if defined(__GNUC__)
    enum { NV = NR * (int)sizeof(T) / VBYTES, VL = VBYTES / (int)sizeof(T) };
    KNAME(vec) acc[MR][NV];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = (KNAME(vec)){0};
    for (int64_t i = 0; i < nseg; i++)
        for (int64_t p = seg[2 * i]; p < seg[2 * i + 1]; p++) {
            const KNAME(vec) *wp = (const KNAME(vec) *)(w + p * NR);
            const int64_t o = off[p];
            KNAME(vec) wv[NV];
            for (int v = 0; v < NV; v++) wv[v] = wp[v];
            for (int r = 0; r < MR; r++) {
                const T xr = src[r][o];
                for (int v = 0; v < NV; v++) acc[r][v] += xr * wv[v];
            }
        }
    if (cs_c == 1 && nr == NR) { /* whole rows of contiguous channels: store vectors */
        for (int64_t r = 0; r < mr; r++) {
            KNAME(vec) *row = (KNAME(vec) *)(c + r * rs_c);
            for (int v = 0; v < NV; v++) {
                const KNAME(vec) start = accumulate ? row[v]
                                         : bias     ? *(const KNAME(vec) *)(bias + v * VL)
                                                    : (KNAME(vec)){0};
                row[v] = start + acc[r][v];
            }
        }
        return;
    }
    T tile[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) *(KNAME(vec) *)&tile[r][v * VL] = acc[r][v];
#else
    T tile[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) tile[r][j] = 0;
    for (int64_t i = 0; i < nseg; i++)
        for (int64_t p = seg[2 * i]; p < seg[2 * i + 1]; p++)
            for (int r = 0; r < MR; r++) {
                const T xr = src[r][off[p]];
                for (int j = 0; j < NR; j++) tile[r][j] += xr * w[p * NR + j];
            }
#endif
    /* channel-major output (channels-first): each channel's pixels are contiguous */
    for (int64_t j = 0; j < nr; j++) {
        T *col = c + j * cs_c;
        const T start = bias ? bias[j] : (T)0;
        for (int64_t r = 0; r < mr; r++) col[r * rs_c] = (accumulate ? col[r * rs_c] : start) + tile[r][j];
    }
}

/* Depthwise, channels-first: for each of nrows output rows r,
 * out[r*out_step + j] = init + sum_t w[t] * rows[t][r*row_step + j] for j < n. rows[t] is where
 * tap t's input starts for row 0 (any kernel, dilation, stride phase or padding row works) and
 * must be readable CONVX_DW_ROW_SLACK elements past n: the last block is computed whole. */
#if defined(__GNUC__)
/* Stores the first `valid` (> 0) lanes of a vector: a whole vector straight from the register
 * when they all are (a memcpy would go through the stack and a library call). */
static inline __attribute__((always_inline)) void KNAME(store_lanes)(T *out, KNAME(vec) acc, int64_t valid) {
    enum { VL = VBYTES / (int)sizeof(T) };
    if (valid >= VL)
        *(KNAME(vec) *)out = acc;
    else
        for (int64_t i = 0; i < valid; i++) out[i] = acc[i];
}

/* Stores the first `valid` values of a 4-vector block. */
static inline __attribute__((always_inline)) void KNAME(store_block)(T *out, const KNAME(vec) *acc, int64_t valid) {
    enum { VL = VBYTES / (int)sizeof(T) };
    for (int v = 0; v < 4 && v * VL < valid; v++) KNAME(store_lanes)(out + v * VL, acc[v], valid - v * VL);
}

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
    KNAME(store_block)(out + j, a, valid);
    if (two) KNAME(store_block)(out + out_step + j, b, valid);
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

/* Depthwise 3x3, channels-first: for m < nrows, j < n, with S = row_taps (1 or 2),
 * out[m*out_step + j] = init + sum_{kh,kw < 3} w[kh*3 + kw] * in[(m*S + kh)*in_step + kw_off[kw] + j].
 * Input rows are readable CONVX_DW_ROW_SLACK elements past n. Four output rows are computed
 * together with the nine weights held in registers, so each input vector is loaded once for all
 * the output rows it serves (up to three): far fewer loads than dw_rows, whose loads are its
 * limit. Every output sums its taps in the same order whichever block it falls in. */
#if defined(__GNUC__)
static inline __attribute__((always_inline)) void KNAME(dw3x3_block)(const int R, const int S, int64_t n, const T *in,
                                                                     int64_t in_step, const int64_t *kw_off,
                                                                     const KNAME(vec) *wv, T init, T *out,
                                                                     int64_t out_step) {
    enum { VL = VBYTES / (int)sizeof(T) };
    const int64_t o0 = kw_off[0], o1 = kw_off[1], o2 = kw_off[2];
    for (int64_t j = 0; j < n; j += VL) {
        KNAME(vec) acc[4];
        for (int q = 0; q < R; q++) acc[q] = (KNAME(vec)){0} + init;
#pragma GCC unroll 16
        for (int ir = 0; ir < (R - 1) * S + 3; ir++) {
            const T *row = in + ir * in_step + j;
            const KNAME(vec) x0 = *(const KNAME(vec) *)(row + o0), x1 = *(const KNAME(vec) *)(row + o1),
                             x2 = *(const KNAME(vec) *)(row + o2);
#pragma GCC unroll 4
            for (int q = 0; q < R; q++) {
                const int kh = ir - q * S;
                if (kh < 0 || kh > 2) continue;
                acc[q] += wv[kh * 3] * x0;
                acc[q] += wv[kh * 3 + 1] * x1;
                acc[q] += wv[kh * 3 + 2] * x2;
            }
        }
        for (int q = 0; q < R; q++) KNAME(store_lanes)(out + q * out_step + j, acc[q], n - j);
    }
}
#endif

/* Output rows [m, nrows) in blocks of four, then two, then one. */
#define DW3X3_ROWS(S)                                                                                      \
    do {                                                                                                   \
        for (; m + 4 <= nrows; m += 4)                                                                     \
            KNAME(dw3x3_block)(4, S, n, in + m * S * in_step, in_step, kw_off, wv, init, out + m * out_step, out_step); \
        for (; m + 2 <= nrows; m += 2)                                                                     \
            KNAME(dw3x3_block)(2, S, n, in + m * S * in_step, in_step, kw_off, wv, init, out + m * out_step, out_step); \
        for (; m < nrows; m++)                                                                             \
            KNAME(dw3x3_block)(1, S, n, in + m * S * in_step, in_step, kw_off, wv, init, out + m * out_step, out_step); \
    } while (0)

static void KNAME(dw3x3_rows)(int64_t n, int64_t nrows, const T *in, int64_t in_step, int64_t row_taps,
                              const int64_t *kw_off, const T *w, T init, T *out, int64_t out_step) {
    int64_t m = 0;
#if defined(__GNUC__)
    KNAME(vec) wv[9];
    for (int t = 0; t < 9; t++) wv[t] = (KNAME(vec)){0} + w[t];
    if (row_taps == 1)
        DW3X3_ROWS(1);
    else
        DW3X3_ROWS(2);
#else
    for (; m < nrows; m++)
        for (int64_t j = 0; j < n; j++) {
            T a = init;
            for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++) a += w[kh * 3 + kw] * in[(m * row_taps + kh) * in_step + kw_off[kw] + j];
            out[m * out_step + j] = a;
        }
#endif
}
#undef DW3X3_ROWS

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
