/* One ISA's kernel set, written once per element type. The including file defines
 * ISA (a name suffix), VBYTES (the channel-block kernels' vector width in bytes), GEMM_VBYTES
 * (the GEMM and direct micro-kernels' vector width) and, per type, T, SFX, MR, NR; the compiler
 * vectorises these loops for the ISA the including file targets. */
#include <stdint.h>

#include "../common.h"

#define KNAME(name) CONVX_CAT(CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, ISA)), CONVX_CAT(_, SFX))

/* C[r, j] (= or +=) tile[r][j] for r < mr, j < nr; without accumulate C starts from bias[r]. */
static inline void KNAME(store_tile)(T tile[MR][NR], T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c, int64_t mr,
                                     int64_t nr, int accumulate, const T *CONVX_RESTRICT bias) {
    for (int64_t r = 0; r < mr; r++) {
        T *row = c + r * rs_c;
        T start = bias ? bias[r] : (T)0;
        for (int64_t j = 0; j < nr; j++) {
            T *dst = row + j * cs_c;
            *dst = (accumulate ? *dst : start) + tile[r][j];
        }
    }
}

#if defined(__GNUC__)
/* GCC/Clang vector extensions keep the MR x NR accumulator tile in registers: gvec for the
 * micro-kernels (GEMM_VBYTES wide), vec for the channel-block kernels (VBYTES, their LANES). The
 * loads tolerate any alignment. */
typedef T KNAME(vec) __attribute__((vector_size(VBYTES), aligned(sizeof(T))));
typedef T KNAME(gvec) __attribute__((vector_size(GEMM_VBYTES), aligned(sizeof(T))));
#define NV (NR * (int)sizeof(T) / GEMM_VBYTES)
/* Loops over the MR x NV accumulators are unrolled completely: only constant indices let the
 * compiler keep the tile in registers (otherwise it lives on the stack, stored and reloaded
 * around every call: 5-10% of a short reduction). 64 covers the longest such loop, a 16-pixel
 * depthwise block's input row at stride 2 (35 vectors). */
#define KUNROLL _Pragma("GCC unroll 64")
/* The reduction loops of the micro-kernels, 4 steps per pass: the loop's own integer work then
 * takes fewer issue slots from the FMAs (measured on AVX-512: 166 -> 184 GFLOP/s in the loop). */
#define KSTEPS _Pragma("GCC unroll 4")

/* C (MR x NR tile) from A's rows 0 .. R - 1 only: R = MR, or fewer for a panel's last rows. */
static inline __attribute__((always_inline)) void KNAME(gemm_rows)(const int R, int64_t k, const T *CONVX_RESTRICT a,
                                                                   const T *CONVX_RESTRICT b, int64_t ldb,
                                                                   T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c,
                                                                   int64_t mr, int64_t nr, int accumulate,
                                                                   const T *CONVX_RESTRICT bias) {
    KNAME(gvec) acc[MR][NV];
    KUNROLL for (int r = 0; r < R; r++)
        KUNROLL for (int v = 0; v < NV; v++) acc[r][v] = (KNAME(gvec)){0};
    KSTEPS for (int64_t p = 0; p < k; p++) {
        const KNAME(gvec) *bp = (const KNAME(gvec) *)(b + p * ldb);
        KNAME(gvec) bv[NV];
        KUNROLL for (int v = 0; v < NV; v++) bv[v] = bp[v];
        KUNROLL for (int r = 0; r < R; r++) {
            const T ar = a[p * MR + r];
            KUNROLL for (int v = 0; v < NV; v++) acc[r][v] += ar * bv[v];
        }
    }
    if (cs_c == 1 && nr == NR) { /* full-width tile over contiguous pixels: store vectors */
        KUNROLL for (int r = 0; r < R; r++) {
            if (r == mr) break;
            KNAME(gvec) *row = (KNAME(gvec) *)(c + r * rs_c);
            const T start = bias ? bias[r] : (T)0;
            KUNROLL for (int v = 0; v < NV; v++) row[v] = (accumulate ? row[v] : (KNAME(gvec)){0} + start) + acc[r][v];
        }
        return;
    }
    T tile[MR][NR];
    KUNROLL for (int r = 0; r < R; r++)
        KUNROLL for (int v = 0; v < NV; v++) *(KNAME(gvec) *)&tile[r][v * (GEMM_VBYTES / (int)sizeof(T))] = acc[r][v];
    KNAME(store_tile)(tile, c, rs_c, cs_c, mr, nr, accumulate, bias);
}

/* A panel's last 1-4 rows (64 = 10 x 6 + 4 channels) take a 4-row tile when its 4 x NV
 * accumulators still cover the FMA latency (8 in flight: float32 on AVX2): 2/3 of the time. */
static void KNAME(gemm)(int64_t k, const T *CONVX_RESTRICT a, const T *CONVX_RESTRICT b, int64_t ldb,
                        T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                        int accumulate, const T *CONVX_RESTRICT bias) {
    if (MR > 4 && 4 * NV >= 8 && mr <= 4)
        KNAME(gemm_rows)(4, k, a, b, ldb, c, rs_c, cs_c, mr, nr, accumulate, bias);
    else
        KNAME(gemm_rows)(MR, k, a, b, ldb, c, rs_c, cs_c, mr, nr, accumulate, bias);
}
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
    KNAME(store_tile)(tile, c, rs_c, cs_c, mr, nr, accumulate, bias);
}
#endif

/* Direct convolution tile: C[r, j] (= or +=) sum_p pix[r][off[p]] * w[p*NR + j] for pixels
 * r < mr, channels j < nr, C[r, j] at c[r*rs_c + j*cs_c], p over the nseg ranges
 * [seg[2i], seg[2i+1]) (the taps that do not read padding). pix[r] is where pixel r's taps
 * start in the input (or a padded copy of it) and off[p] where tap p sits from there, so
 * stride, dilation and layout are all in the addresses: the input is never packed. The tile is
 * RM pixels x RN channels: MR x NR, or the narrow 2 MR x NR / 2 (gemm_direct_narrow), w[p*RN + j]
 * one packed RN-channel weight panel; without accumulate, C starts from bias[j] (0 if NULL). All
 * RM pixel pointers must be readable (unused ones may repeat pixel 0). */
static inline __attribute__((always_inline)) void KNAME(gemm_direct_tile)(
    const int RM, const int RN, int64_t nseg, const int64_t *CONVX_RESTRICT seg, const T *const *CONVX_RESTRICT pix,
    const int64_t *CONVX_RESTRICT off, const T *CONVX_RESTRICT w, T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c,
    int64_t mr, int64_t nr, int accumulate, const T *CONVX_RESTRICT bias) {
    const T *src[2 * MR];
    for (int r = 0; r < RM; r++) src[r] = pix[r];
    T tile[2 * MR][NR];
#if defined(__GNUC__)
    enum { VL = GEMM_VBYTES / (int)sizeof(T) };
    _Static_assert(NR % (2 * VL) == 0, "the narrow tile needs NR / 2 to be whole vectors");
    const int NVX = RN / VL;
    KNAME(gvec) acc[2 * MR][NR / VL];
    KUNROLL for (int r = 0; r < RM; r++)
        KUNROLL for (int v = 0; v < NVX; v++) acc[r][v] = (KNAME(gvec)){0};
    for (int64_t i = 0; i < nseg; i++)
        KSTEPS for (int64_t p = seg[2 * i]; p < seg[2 * i + 1]; p++) {
            const KNAME(gvec) *wp = (const KNAME(gvec) *)(w + p * RN);
            const int64_t o = off[p];
            KNAME(gvec) wv[NR / VL];
            KUNROLL for (int v = 0; v < NVX; v++) wv[v] = wp[v];
            KUNROLL for (int r = 0; r < RM; r++) {
                const T xr = src[r][o];
                KUNROLL for (int v = 0; v < NVX; v++) acc[r][v] += xr * wv[v];
            }
        }
    if (cs_c == 1 && nr == RN) { /* whole rows of contiguous channels: store vectors */
        KUNROLL for (int r = 0; r < RM; r++) {
            if (r == mr) break;
            KNAME(gvec) *row = (KNAME(gvec) *)(c + r * rs_c);
            KUNROLL for (int v = 0; v < NVX; v++) {
                const KNAME(gvec) start = accumulate ? row[v]
                                         : bias     ? *(const KNAME(gvec) *)(bias + v * VL)
                                                    : (KNAME(gvec)){0};
                row[v] = start + acc[r][v];
            }
        }
        return;
    }
    KUNROLL for (int r = 0; r < RM; r++)
        KUNROLL for (int v = 0; v < NVX; v++) *(KNAME(gvec) *)&tile[r][v * VL] = acc[r][v];
#else
    for (int r = 0; r < RM; r++)
        for (int j = 0; j < RN; j++) tile[r][j] = 0;
    for (int64_t i = 0; i < nseg; i++)
        for (int64_t p = seg[2 * i]; p < seg[2 * i + 1]; p++)
            for (int r = 0; r < RM; r++) {
                const T xr = src[r][off[p]];
                for (int j = 0; j < RN; j++) tile[r][j] += xr * w[p * RN + j];
            }
#endif
    /* channel-major output (channels-first): each channel's pixels are contiguous */
    for (int64_t j = 0; j < nr; j++) {
        T *col = c + j * cs_c;
        const T start = bias ? bias[j] : (T)0;
        for (int64_t r = 0; r < mr; r++) col[r * rs_c] = (accumulate ? col[r * rs_c] : start) + tile[r][j];
    }
}

static void KNAME(gemm_direct)(int64_t nseg, const int64_t *CONVX_RESTRICT seg, const T *const *CONVX_RESTRICT pix,
                               const int64_t *CONVX_RESTRICT off, const T *CONVX_RESTRICT w, T *CONVX_RESTRICT c,
                               int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr, int accumulate,
                               const T *CONVX_RESTRICT bias) {
    KNAME(gemm_direct_tile)(MR, NR, nseg, seg, pix, off, w, c, rs_c, cs_c, mr, nr, accumulate, bias);
}

/* For NR / 2 or fewer output channels: twice the pixels, so every accumulator lane is used. */
static void KNAME(gemm_direct_narrow)(int64_t nseg, const int64_t *CONVX_RESTRICT seg,
                                      const T *const *CONVX_RESTRICT pix, const int64_t *CONVX_RESTRICT off,
                                      const T *CONVX_RESTRICT w, T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c,
                                      int64_t mr, int64_t nr, int accumulate, const T *CONVX_RESTRICT bias) {
    KNAME(gemm_direct_tile)(2 * MR, NR / 2, nseg, seg, pix, off, w, c, rs_c, cs_c, mr, nr, accumulate, bias);
}

/* Channel blocks: LANES channels side by side per pixel (one vector), the layout the
 * channel-vectorised depthwise kernel reads and that channels-first bands are transposed into. */
#if defined(__GNUC__)
/* A constant two-vector shuffle in GCC's and Clang's spellings (the transposes and spread_groups). */
#if defined(__clang__)
#define KSHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define KSHUF(a, b, ...) __builtin_shuffle(a, b, (KNAME(mask)){__VA_ARGS__})
#endif
typedef ITYPE KNAME(mask) __attribute__((vector_size(VBYTES)));

/* Transposes the LANES x LANES block r in place: afterwards r[i][j] is the former r[j][i]. */
static inline __attribute__((always_inline)) void KNAME(transpose_block)(KNAME(vec) *r) {
#if LANES == 8
    KNAME(vec) t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = KSHUF(r[2 * i], r[2 * i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[2 * i + 1] = KSHUF(r[2 * i], r[2 * i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i] = KSHUF(t[4 * i], t[4 * i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[4 * i + 1] = KSHUF(t[4 * i], t[4 * i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[4 * i + 2] = KSHUF(t[4 * i + 1], t[4 * i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[4 * i + 3] = KSHUF(t[4 * i + 1], t[4 * i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = KSHUF(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = KSHUF(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
#elif LANES == 4
    const KNAME(vec) t0 = KSHUF(r[0], r[1], 0, 4, 2, 6), t1 = KSHUF(r[0], r[1], 1, 5, 3, 7);
    const KNAME(vec) t2 = KSHUF(r[2], r[3], 0, 4, 2, 6), t3 = KSHUF(r[2], r[3], 1, 5, 3, 7);
    r[0] = KSHUF(t0, t2, 0, 1, 4, 5);
    r[1] = KSHUF(t1, t3, 0, 1, 4, 5);
    r[2] = KSHUF(t0, t2, 2, 3, 6, 7);
    r[3] = KSHUF(t1, t3, 2, 3, 6, 7);
#elif LANES == 2
    const KNAME(vec) t0 = KSHUF(r[0], r[1], 0, 2);
    r[1] = KSHUF(r[0], r[1], 1, 3);
    r[0] = t0;
#else
#error "transpose_block: unsupported LANES"
#endif
}
#endif

/* dst[i*ld + c] = src[c*src_step + i] for pixels i < n, channels c < nc (<= LANES): nc
 * channel rows into a pixel-major band whose pixels are ld elements apart. */
static void KNAME(interleave)(int64_t n, int64_t nc, const T *CONVX_RESTRICT src, int64_t src_step,
                              T *CONVX_RESTRICT dst, int64_t ld) {
    int64_t i = 0;
#if defined(__GNUC__)
    if (nc == LANES)
        for (; i + LANES <= n; i += LANES) {
            KNAME(vec) r[LANES];
            for (int c = 0; c < LANES; c++) r[c] = *(const KNAME(vec) *)(src + c * src_step + i);
            KNAME(transpose_block)(r);
            for (int p = 0; p < LANES; p++) *(KNAME(vec) *)(dst + (i + p) * ld) = r[p];
        }
#endif
    for (; i < n; i++)
        for (int64_t c = 0; c < nc; c++) dst[i * ld + c] = src[c * src_step + i];
}

/* dst[i*ld + c] = src[i*src_step + c] for pixels i < n, channels c < nc: channels-last pixels
 * into a band (a vector per pixel when nc == LANES). */
static void KNAME(copy_pixels)(int64_t n, int64_t nc, const T *CONVX_RESTRICT src, int64_t src_step,
                               T *CONVX_RESTRICT dst, int64_t ld) {
#if defined(__GNUC__)
    if (nc == LANES) {
        for (int64_t i = 0; i < n; i++) *(KNAME(vec) *)(dst + i * ld) = *(const KNAME(vec) *)(src + i * src_step);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++)
        for (int64_t c = 0; c < nc; c++) dst[i * ld + c] = src[i * src_step + c];
}

/* Grouped channel blocks (groups of G channels, G dividing LANES): for each of n pixels of
 * LANES channels, G vectors, vector i holding in lane l channel (l / G) * G + i: what every
 * output lane of the group needs of input channel i of its group, side by side. */
#if defined(__GNUC__)
#define KSPREAD_LANE(G, i, l) (((l) / (G)) * (G) + (i))
#if LANES == 8
#define KSPREAD_MASK(G, i)                                                                                   \
    KSPREAD_LANE(G, i, 0), KSPREAD_LANE(G, i, 1), KSPREAD_LANE(G, i, 2), KSPREAD_LANE(G, i, 3),              \
        KSPREAD_LANE(G, i, 4), KSPREAD_LANE(G, i, 5), KSPREAD_LANE(G, i, 6), KSPREAD_LANE(G, i, 7)
#elif LANES == 4
#define KSPREAD_MASK(G, i) KSPREAD_LANE(G, i, 0), KSPREAD_LANE(G, i, 1), KSPREAD_LANE(G, i, 2), KSPREAD_LANE(G, i, 3)
#elif LANES == 2
#define KSPREAD_MASK(G, i) KSPREAD_LANE(G, i, 0), KSPREAD_LANE(G, i, 1)
#endif
#define KSPREAD(x, G, i) KSHUF(x, x, KSPREAD_MASK(G, i))
/* One pixel for a constant G (a macro: Clang needs the shuffle masks to be constant
 * expressions, which a function's const parameter is not). */
#define KSPREAD_LOW(x, G, out) (out[0] = KSPREAD(x, G, 0), out[1] = KSPREAD(x, G, 1))
#if LANES >= 4 /* (masks naming lanes a vector lacks do not compile on Clang, even unused) */
#define KSPREAD_4(x, G, out) (out[2] = KSPREAD(x, G, 2), out[3] = KSPREAD(x, G, 3))
#endif
#if LANES >= 8
#define KSPREAD_8(x, G, out)                                                                      \
    (out[4] = KSPREAD(x, G, 4), out[5] = KSPREAD(x, G, 5), out[6] = KSPREAD(x, G, 6), out[7] = KSPREAD(x, G, 7))
#endif
#define KSPREAD_PIXELS(G, WIDER)                                                                   \
    for (; p < n; p++) {                                                                           \
        const KNAME(vec) x = *(const KNAME(vec) *)(src + p * LANES);                               \
        KNAME(vec) *out = (KNAME(vec) *)(dst + p * G * LANES);                                     \
        KSPREAD_LOW(x, G, out);                                                                    \
        WIDER;                                                                                     \
    }
#endif

static void KNAME(spread_groups)(int64_t n, int64_t G, const T *CONVX_RESTRICT src, T *CONVX_RESTRICT dst) {
    int64_t p = 0;
#if defined(__GNUC__)
    if (G == 2) KSPREAD_PIXELS(2, (void)0)
#if LANES >= 4
    if (G == 4) KSPREAD_PIXELS(4, KSPREAD_4(x, 4, out))
#endif
#if LANES >= 8
    if (G == 8) KSPREAD_PIXELS(8, (KSPREAD_4(x, 8, out), KSPREAD_8(x, 8, out)))
#endif
#endif
    for (; p < n; p++)
        for (int64_t i = 0; i < G; i++)
            for (int64_t l = 0; l < LANES; l++) dst[(p * G + i) * LANES + l] = src[p * LANES + (l / G) * G + i];
}
#if defined(__GNUC__)
#undef KSPREAD_PIXELS
#undef KSPREAD_8
#undef KSPREAD_4
#undef KSPREAD_LOW
#undef KSPREAD_LANE
#undef KSPREAD_MASK
#undef KSPREAD
#undef KSHUF
#endif

/* Depthwise over one block of LANES channels: for pixel r < n and channel j < nc,
 * out[r*ps + j*cs] = bias[j] + sum_t w[t*LANES + j] * in[r*in_step + off[t] + j], bias LANES
 * values or NULL; the taps come in rows of kw_n, kw_step elements apart
 * (off[t + 1] = off[t] + kw_step within a row). `in` holds a pixel's LANES channels together
 * (a band) and is readable for whole blocks of DW_BLOCK pixels: up to (DW_BLOCK - 1) * in_step
 * elements past pixel n - 1. Each vector FMA serves LANES channels of one pixel, so stride,
 * dilation and kernel size are only addresses. Channels-first output (ps == 1) is transposed in
 * registers and stored as rows of pixels. */
#if defined(__GNUC__)
#if DW_BLOCK - 1 > CONVX_DW_SLACK_PIXELS || DW_BLOCK % LANES != 0
#error "DW_BLOCK: whole LANES x LANES transposes within CONVX_DW_SLACK_PIXELS + 1 pixels"
#endif
/* dst[i] = v[i] for i < m (< LANES): a 4-, a 2- and a 1-element piece, each one move. */
static inline __attribute__((always_inline)) void KNAME(store_head)(T *dst, KNAME(vec) v, int64_t m) {
    T lane[LANES];
    memcpy(lane, &v, sizeof lane);
    int64_t i = 0;
    if (LANES > 4 && (m & 4)) {
        memcpy(dst, lane, 4 * sizeof(T));
        i = 4;
    }
    if (LANES > 2 && (m & 2)) {
        memcpy(dst + i, lane + i, 2 * sizeof(T));
        i += 2;
    }
    if (m & 1) dst[i] = lane[i];
}

/* Stores the first `valid` (<= B) pixels of a block of B (acc[r]: pixel r's LANES channels):
 * whole vectors where they can be (channels-first: each group of LANES pixels transposed, a
 * last partial group too, its channels stored in pieces), else through a tile. */
static inline __attribute__((always_inline)) void KNAME(dw_store)(const int B, KNAME(vec) *acc, int64_t valid, T *out,
                                                                  int64_t ps, int64_t cs, int64_t nc) {
    if (valid == B && nc == LANES && cs == 1) { /* channels-last: a vector per pixel */
        KUNROLL for (int r = 0; r < B; r++) *(KNAME(vec) *)(out + r * ps) = acc[r];
        return;
    }
    if (nc == LANES && ps == 1) { /* channels-first: LANES pixels of a channel per vector */
        KUNROLL for (int g = 0; g < B; g += LANES) {
            if (g >= valid) break;
            KNAME(transpose_block)(acc + g);
            if (g + LANES <= valid)
                KUNROLL for (int j = 0; j < LANES; j++) *(KNAME(vec) *)(out + j * cs + g) = acc[g + j];
            else /* the last pixels: a tile's scalar stores cost 10% of a 28-pixel row */
                KUNROLL for (int j = 0; j < LANES; j++) KNAME(store_head)(out + j * cs + g, acc[g + j], valid - g);
        }
        return;
    }
    T tile[DW_BLOCK][LANES];
    KUNROLL for (int r = 0; r < B; r++) *(KNAME(vec) *)tile[r] = acc[r];
    for (int64_t r = 0; r < valid; r++)
        for (int64_t j = 0; j < nc; j++) out[r * ps + j * cs] = tile[r][j];
}

/* A block of B pixels, any taps: a vector load per pixel and tap. */
static inline __attribute__((always_inline)) void KNAME(dw_pixels_block)(const int B, int64_t taps,
                                                                         const int64_t *CONVX_RESTRICT off,
                                                                         const T *in, int64_t in_step,
                                                                         const T *CONVX_RESTRICT w, KNAME(vec) *acc) {
    const T *src[DW_BLOCK];
    KUNROLL for (int r = 0; r < B; r++) src[r] = in + r * in_step;
    for (int64_t t = 0; t < taps; t++) {
        const KNAME(vec) wv = *(const KNAME(vec) *)(w + t * LANES);
        const int64_t o = off[t];
        KUNROLL for (int r = 0; r < B; r++) acc[r] += wv * *(const KNAME(vec) *)(src[r] + o);
    }
}

/* A block of B pixels of a kernel whose taps come in rows of K2 taps D pixels apart, pixels S
 * apart (constants): each input vector is loaded once per kernel row and feeds every FMA that
 * reads it, with the row's K2 weights in registers. Sums each output's taps in the same order
 * as dw_pixels_block. */
static inline __attribute__((always_inline)) void KNAME(dw_pixels_rows)(const int B, const int K2, const int S,
                                                                        const int D, int64_t taps,
                                                                        const int64_t *CONVX_RESTRICT off, const T *in,
                                                                        const T *CONVX_RESTRICT w, KNAME(vec) *acc) {
    for (int64_t t = 0; t < taps; t += K2) {
        const T *row = in + off[t];
        /* one pointer, so every load below is row plus a constant (else GCC keeps an index
         * register per load, and spills them) */
        __asm__("" : "+r"(row));
        KNAME(vec) wv[5];
        KUNROLL for (int kw = 0; kw < K2; kw++) wv[kw] = *(const KNAME(vec) *)(w + (t + kw) * LANES);
        KUNROLL for (int p = 0; p <= (B - 1) * S + (K2 - 1) * D; p++) {
            const KNAME(vec) x = *(const KNAME(vec) *)(row + p * LANES);
            KUNROLL for (int kw = 0; kw < K2; kw++) {
                const int q = p - kw * D;
                if (q >= 0 && q % S == 0 && q / S < B) acc[q / S] += wv[kw] * x;
            }
        }
    }
}

/* Pixels [0, n) in blocks of DW_BLOCK, the last 8 or fewer in a block of 8 (so a 56-pixel row
 * is 16 + 16 + 16 + 8, no idle lanes): COMPUTE(B, first pixel, acc) fills a block. */
#define DW_BLOCKS(COMPUTE)                                                                         \
    for (int64_t r = 0; r < n;) {                                                                  \
        KNAME(vec) acc[DW_BLOCK];                                                                  \
        if (DW_BLOCK > 8 && n - r > 8) {                                                           \
            KUNROLL for (int i = 0; i < DW_BLOCK; i++) acc[i] = start;                             \
            COMPUTE(DW_BLOCK, r, acc);                                                             \
            DW_STORE(DW_BLOCK, r);                                                                 \
            r += DW_BLOCK;                                                                         \
        } else {                                                                                   \
            KUNROLL for (int i = 0; i < 8; i++) acc[i] = start;                                    \
            COMPUTE(8, r, acc);                                                                    \
            DW_STORE(8, r);                                                                        \
            r += 8;                                                                                \
        }                                                                                          \
    }
/* A whole block's store compiled apart from the last, partial one. */
#define DW_STORE(B, r)                                                                             \
    if (r + B <= n)                                                                                \
        KNAME(dw_store)(B, acc, B, out + r * ps, ps, cs, nc);                                      \
    else                                                                                           \
        KNAME(dw_store)(B, acc, n - r, out + r * ps, ps, cs, nc)
/* The (K2, S, D) shapes dw_pixels_rows is compiled for. */
#define DW_ROWS_BLOCK(B, r, acc) KNAME(dw_pixels_rows)(B, K2_, S_, D_, taps, off, in + (r) * in_step, w, acc)
#define DW_PIXELS_ROWS(K2, S, D)                                                                   \
    if (kw_n == K2 && in_step == S * LANES && kw_step == D * LANES) {                             \
        enum { K2_ = K2, S_ = S, D_ = D };                                                         \
        DW_BLOCKS(DW_ROWS_BLOCK)                                                                   \
        return;                                                                                    \
    }
#define DW_ANY_BLOCK(B, r, acc) KNAME(dw_pixels_block)(B, taps, off, in + (r) * in_step, in_step, w, acc)
#endif

static void KNAME(dw_pixels)(int64_t n, int64_t taps, const int64_t *CONVX_RESTRICT off, int64_t kw_n,
                             int64_t kw_step, const T *in, int64_t in_step, const T *CONVX_RESTRICT w,
                             const T *CONVX_RESTRICT bias, T *out, int64_t ps, int64_t cs, int64_t nc) {
#if defined(__GNUC__)
    KNAME(vec) start = {0};
    if (bias) start = *(const KNAME(vec) *)bias;
    DW_PIXELS_ROWS(3, 1, 1)
    DW_PIXELS_ROWS(3, 1, 2)
    DW_PIXELS_ROWS(3, 1, 4)
    DW_PIXELS_ROWS(5, 1, 1)
    DW_PIXELS_ROWS(3, 2, 1)
    DW_PIXELS_ROWS(5, 2, 1)
    DW_BLOCKS(DW_ANY_BLOCK)
#else
    for (int64_t r = 0; r < n; r++)
        for (int64_t j = 0; j < nc; j++) {
            T a = bias ? bias[j] : (T)0;
            for (int64_t t = 0; t < taps; t++) a += w[t * LANES + j] * in[r * in_step + off[t] + j];
            out[r * ps + j * cs] = a;
        }
#endif
}
#if defined(__GNUC__)
#undef DW_BLOCKS
#undef DW_STORE
#undef DW_ROWS_BLOCK
#undef DW_PIXELS_ROWS
#undef DW_ANY_BLOCK
#endif

/* Depthwise along rows of one channel (channels-first, unit stride along the row) with a filter
 * of CONVX_DW_ROWS_HEIGHT rows at unit vertical stride and dilation: for rows r < rows and
 * columns j < n, out[r*out_row + j] = bias + sum over kh < height, kw < k2 of
 * w[kh*k2 + kw] * in[(r + kh)*in_row + kw*d_w + j]. Vectors (GEMM_VBYTES) run along the row, so
 * nothing is transposed, and a block of B output rows loads each input row's vectors once for
 * every output row that reads it (8 rows: 14 input rows for 8 x 7 filter rows); the loads then
 * cost less than the FMAs even unaligned. `in` is readable CONVX_DW_ROW_SLACK elements past each
 * row's last tap (what a row's last, partial vector reads beyond it). */
#if GEMM_VBYTES / 4 - 1 > CONVX_DW_ROW_SLACK
#error "CONVX_DW_ROW_SLACK must cover a vector's worth of float32 minus one"
#endif
#if defined(__GNUC__)
/* A vector made opaque once loaded (kept in a register of the ISA's VREG class): GCC would
 * otherwise fold its (unaligned) load into every FMA that reads it. */
#if defined(VREG)
#define KOPAQUE(x) __asm__("" : "+" VREG(x))
#elif defined(__x86_64__) || defined(__i386__)
#define KOPAQUE(x) __asm__("" : "+x"(x))
#elif defined(__aarch64__)
#define KOPAQUE(x) __asm__("" : "+w"(x))
#else
#define KOPAQUE(x) (void)0
#endif
/* Columns [0, V * VL) of B output rows (only the first `cols` stored). */
static inline __attribute__((always_inline)) void KNAME(dw_rows_block)(const int B, const int V, int64_t k2,
                                                                       int64_t d_w, const T *in, int64_t in_row,
                                                                       const T *CONVX_RESTRICT w, T bias, T *out,
                                                                       int64_t out_row, int64_t cols) {
    enum { VL = GEMM_VBYTES / (int)sizeof(T), K1 = CONVX_DW_ROWS_HEIGHT };
    KNAME(gvec) acc[DW_BLOCK][2];
    KUNROLL for (int b = 0; b < B; b++)
        KUNROLL for (int v = 0; v < V; v++) acc[b][v] = (KNAME(gvec)){0} + bias;
    /* kw outermost: the unrolled body keeps every accumulator in a register */
    for (int64_t kw = 0; kw < k2; kw++) {
        T wt[K1];
        KUNROLL for (int kh = 0; kh < K1; kh++) wt[kh] = w[kh * k2 + kw];
        const T *row = in + kw * d_w; /* input row q: one pointer stepped down (an offset per row spills) */
        KUNROLL for (int q = 0; q < B + K1 - 1; q++, row += in_row) {
            __asm__("" : "+r"(row)); /* one pointer register: GCC would otherwise keep one per row, and spill them */
            KNAME(gvec) x[2];
            KUNROLL for (int v = 0; v < V; v++) {
                x[v] = *(const KNAME(gvec) *)(row + v * VL);
                KOPAQUE(x[v]);
            }
            /* output row b reads input row q through filter row q - b */
            KUNROLL for (int b = 0; b < B; b++)
                if (q - b >= 0 && q - b < K1)
                    KUNROLL for (int v = 0; v < V; v++) acc[b][v] += wt[q - b] * x[v];
        }
    }
    if (cols == V * VL) { /* whole vectors; output rows through one stepped pointer, as the input's */
        KUNROLL for (int b = 0; b < B; b++, out += out_row)
            KUNROLL for (int v = 0; v < V; v++) *(KNAME(gvec) *)(out + v * VL) = acc[b][v];
        return;
    }
    KUNROLL for (int b = 0; b < B; b++, out += out_row)
        KUNROLL for (int v = 0; v < V; v++)
            for (int64_t j = 0; j < CONVX_MIN(VL, cols - v * VL); j++) out[v * VL + j] = acc[b][v][j];
}

/* Rows in blocks of DW_BLOCK / V (the accumulators), the rest in blocks of a half, a quarter
 * and single rows. */
#define DW_ROWS_BLOCKS(B, V)                                                                                       \
    for (; r + (B) <= rows; r += (B))                                                                               \
    KNAME(dw_rows_block)((B), V, k2, d_w, in + r * in_row + j0, in_row, w, bias, out + r * out_row + j0, out_row, cols)
#define DW_ROWS_RUN(V)                                                                                             \
    do {                                                                                                            \
        enum { B = DW_BLOCK / V };                                                                                  \
        int64_t r = 0;                                                                                              \
        DW_ROWS_BLOCKS(B, V);                                                                                       \
        DW_ROWS_BLOCKS(B / 2, V);                                                                                   \
        DW_ROWS_BLOCKS(B / 4, V);                                                                                   \
        DW_ROWS_BLOCKS(1, V);                                                                                       \
    } while (0)
#endif

static void KNAME(dw_rows)(int64_t rows, int64_t n, const T *in, int64_t in_row, int64_t k2, int64_t d_w,
                           const T *CONVX_RESTRICT w, T bias, T *out, int64_t out_row) {
#if defined(__GNUC__)
    enum { VL = GEMM_VBYTES / (int)sizeof(T) };
    if (n <= VL) {
        const int64_t j0 = 0, cols = n;
        DW_ROWS_RUN(1);
        return;
    }
    /* chunks of two vectors; the last one ends at the row's end (recomputing some columns of
     * the one before: the same values) unless the row is shorter than a chunk */
    for (int64_t c0 = 0; c0 < n; c0 += 2 * VL) {
        const int64_t j0 = n < 2 * VL ? 0 : CONVX_MIN(c0, n - 2 * VL), cols = CONVX_MIN(2 * VL, n - j0);
        DW_ROWS_RUN(2);
    }
#else
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n; j++) {
            T a = bias;
            for (int64_t kh = 0; kh < CONVX_DW_ROWS_HEIGHT; kh++)
                for (int64_t kw = 0; kw < k2; kw++) a += w[kh * k2 + kw] * in[(r + kh) * in_row + kw * d_w + j];
            out[r * out_row + j] = a;
        }
#endif
}
#if defined(__GNUC__)
#undef DW_ROWS_RUN
#undef DW_ROWS_BLOCKS
#undef KOPAQUE
#endif

/* Depthwise, channels-last: out[q*out_step + c] = init[c] + sum_t w[t*n + c] *
 * rows[t][q*in_step + c] for c < n and pixels q < pixels (init may be NULL for 0). rows[t] is
 * the input pixel tap t reads for pixel 0 (or a zero vector, with in_step 0). */
static void KNAME(dw_channels_pixel)(int64_t n, int64_t taps, const T *const *CONVX_RESTRICT rows, int64_t in_at,
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
            const KNAME(vec) *r = (const KNAME(vec) *)(rows[t] + in_at + c);
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
            a += *(const KNAME(vec) *)(w + t * n + c) * *(const KNAME(vec) *)(rows[t] + in_at + c);
        *(KNAME(vec) *)(out + c) = a;
    }
#endif
    for (; c < n; c++) {
        T a = init ? init[c] : (T)0;
        for (int64_t t = 0; t < taps; t++) a += w[t * n + c] * rows[t][in_at + c];
        out[c] = a;
    }
}

static void KNAME(dw_channels)(int64_t n, int64_t taps, const T *const *CONVX_RESTRICT rows,
                               const T *CONVX_RESTRICT w, const T *CONVX_RESTRICT init, T *CONVX_RESTRICT out,
                               int64_t pixels, int64_t in_step, int64_t out_step) {
    for (int64_t q = 0; q < pixels; q++) KNAME(dw_channels_pixel)(n, taps, rows, q * in_step, w, init, out + q * out_step);
}

/* FMA throughput at the micro-kernels' vector width (the machine's ceiling for the benchmarks):
 * 12 independent chains cover 4 cycles of latency on 3 FMA pipes. No chain starts at the
 * recurrence's fixed point 1: the compiler folds such a chain away (it did: 11 FMAs timed
 * as 12, a peak 9% too high). */
static double KNAME(fma_probe)(int64_t iterations, double *checksum) {
    enum { CHAINS = 12 };
#if defined(__GNUC__)
    enum { VL = GEMM_VBYTES / (int)sizeof(T) };
    const KNAME(gvec) scale = (KNAME(gvec)){0} + (T)0.999, shift = (KNAME(gvec)){0} + (T)0.001;
    KNAME(gvec) acc[CHAINS];
    KUNROLL for (int i = 0; i < CHAINS; i++) acc[i] = (KNAME(gvec)){0} + (T)(i + 2);
    for (int64_t it = 0; it < iterations; it++)
        KUNROLL for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * scale + shift;
    double sum = 0;
    for (int i = 0; i < CHAINS; i++)
        for (int l = 0; l < VL; l++) sum += acc[i][l];
#else
    enum { VL = 1 };
    T acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = (T)(i + 2);
    for (int64_t it = 0; it < iterations; it++)
        for (int i = 0; i < CHAINS; i++) acc[i] = acc[i] * (T)0.999 + (T)0.001;
    double sum = 0;
    for (int i = 0; i < CHAINS; i++) sum += acc[i];
#endif
    *checksum = sum;
    return 2.0 * (double)iterations * CHAINS * VL;
}

#undef KNAME
