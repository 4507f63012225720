/* The kernel table: the few hot loops every algorithm is built from, one set per ISA.
 * dispatch.c picks the set once at import. */
#ifndef CONVX_KERNELS_H
#define CONVX_KERNELS_H

#include <stdint.h>

/* C[r, j] (= or +=) sum_p a[p*MR + r] * b[p*ldb + j] for r < mr, j < nr, where C[r, j] is
 * c[r*rs_c + j*cs_c]. a is a packed MR-row panel of weights; b rows hold NR readable values
 * (packed input). Without accumulate, C starts from bias[r] (or 0 when bias is NULL). */
#define CONVX_GEMM_SIGNATURE(T)                                                                   \
    (int64_t k, const T *a, const T *b, int64_t ldb, T *c, int64_t rs_c, int64_t cs_c, int64_t mr, \
     int64_t nr, int accumulate, const T *bias)
typedef void(*convx_gemm_f32_fn) CONVX_GEMM_SIGNATURE(float);
typedef void(*convx_gemm_f64_fn) CONVX_GEMM_SIGNATURE(double);

/* Direct convolution tile (see kernels.template.c): C[r, j] (= or +=) sum_p pix[r][off[p]] *
 * w[p*NR + j] for pixel r < mr, channel j < nr, p over nseg ranges seg[2i] <= p < seg[2i+1];
 * w an NR-channel packed weight panel; without accumulate, C starts from bias[j] (or 0). */
#define CONVX_GEMM_DIRECT_SIGNATURE(T)                                                                        \
    (int64_t nseg, const int64_t *seg, const T *const *pix, const int64_t *off, const T *w, T *c, int64_t rs_c, int64_t cs_c, int64_t mr, \
     int64_t nr, int accumulate, const T *bias)
typedef void(*convx_gemm_direct_f32_fn) CONVX_GEMM_DIRECT_SIGNATURE(float);
typedef void(*convx_gemm_direct_f64_fn) CONVX_GEMM_DIRECT_SIGNATURE(double);

/* Depthwise along rows (channels-first): for r < nrows, j < n,
 * out[r*out_step + j] = init + sum_t w[t] * rows[t][r*row_step + j]; each row readable
 * CONVX_DW_ROW_SLACK elements past n. */
#define CONVX_DW_ROW_SLACK 32
#define CONVX_DW_ROWS_SIGNATURE(T)                                                          \
    (int64_t n, int64_t nrows, int64_t taps, const T *const *rows, int64_t row_step, const T *w, \
     T init, T *out, int64_t out_step)
typedef void(*convx_dw_rows_f32_fn) CONVX_DW_ROWS_SIGNATURE(float);
typedef void(*convx_dw_rows_f64_fn) CONVX_DW_ROWS_SIGNATURE(double);
/* Depthwise 3x3 along rows (channels-first), tap rows in_step apart, output rows row_taps
 * (1 or 2) tap rows apart: for m < nrows, j < n, out[m*out_step + j] = init +
 * sum_{kh,kw} w[kh*3 + kw] * in[(m*row_taps + kh)*in_step + kw_off[kw] + j]; rows readable
 * CONVX_DW_ROW_SLACK elements past n. */
#define CONVX_DW3X3_SIGNATURE(T)                                                                             \
    (int64_t n, int64_t nrows, const T *in, int64_t in_step, int64_t row_taps, const int64_t *kw_off, const T *w, \
     T init, T *out, int64_t out_step)
typedef void(*convx_dw3x3_f32_fn) CONVX_DW3X3_SIGNATURE(float);
typedef void(*convx_dw3x3_f64_fn) CONVX_DW3X3_SIGNATURE(double);
/* Depthwise across channels (channels-last): out[c] = init[c] + sum_t w[t*n + c] * rows[t][c]. */
#define CONVX_DW_CHANNELS_SIGNATURE(T) \
    (int64_t n, int64_t taps, const T *const *rows, const T *w, const T *init, T *out)
typedef void(*convx_dw_channels_f32_fn) CONVX_DW_CHANNELS_SIGNATURE(float);
typedef void(*convx_dw_channels_f64_fn) CONVX_DW_CHANNELS_SIGNATURE(double);

typedef struct {
    const char *name;
    int mr_f32, nr_f32, mr_f64, nr_f64; /* micro-tile of gemm_* */
    convx_gemm_f32_fn gemm_f32;
    convx_gemm_f64_fn gemm_f64;
    convx_gemm_direct_f32_fn gemm_direct_f32;
    convx_gemm_direct_f64_fn gemm_direct_f64;
    convx_dw_rows_f32_fn dw_rows_f32;
    convx_dw_rows_f64_fn dw_rows_f64;
    convx_dw3x3_f32_fn dw3x3_f32;
    convx_dw3x3_f64_fn dw3x3_f64;
    convx_dw_channels_f32_fn dw_channels_f32;
    convx_dw_channels_f64_fn dw_channels_f64;
} convx_kernel_table;

extern const convx_kernel_table convx_kernels_generic;
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define CONVX_HAVE_X86 1
/* The AVX2 table needs GCC/Clang's target pragma and vector extensions; MSVC has neither, so an
 * MSVC build runs the portable kernels on every CPU (CPU features are still detected). */
#if defined(__GNUC__)
#define CONVX_HAVE_AVX2 1
extern const convx_kernel_table convx_kernels_avx2;
#endif
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define CONVX_HAVE_NEON 1
extern const convx_kernel_table convx_kernels_neon;
#endif

/* The table in use (valid after convx_init). */
const convx_kernel_table *convx_kernels(void);

#endif
