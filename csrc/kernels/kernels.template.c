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

static void KNAME(gemm)(int64_t k, const T *CONVX_RESTRICT a, const T *CONVX_RESTRICT b,
                        T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                        int accumulate, const T *CONVX_RESTRICT bias) {
    KNAME(vec) acc[MR][NV];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = (KNAME(vec)){0};
    for (int64_t p = 0; p < k; p++) {
        const KNAME(vec) *bp = (const KNAME(vec) *)(b + p * NR);
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
static void KNAME(gemm)(int64_t k, const T *CONVX_RESTRICT a, const T *CONVX_RESTRICT b,
                        T *CONVX_RESTRICT c, int64_t rs_c, int64_t cs_c, int64_t mr, int64_t nr,
                        int accumulate, const T *CONVX_RESTRICT bias) {
    T tile[MR][NR];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < NR; j++) tile[r][j] = 0;
    for (int64_t p = 0; p < k; p++) {
        const T *ap = a + p * MR, *bp = b + p * NR;
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

static void KNAME(axpy)(int64_t n, T alpha, const T *CONVX_RESTRICT x, T *CONVX_RESTRICT y) {
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

static void KNAME(vmla)(int64_t n, const T *CONVX_RESTRICT a, const T *CONVX_RESTRICT x,
                        T *CONVX_RESTRICT y) {
    for (int64_t i = 0; i < n; i++) y[i] += a[i] * x[i];
}

#undef KNAME
