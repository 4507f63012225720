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
 * w an NR-channel packed weight panel; without accumulate, C starts from bias[j] (or 0). The
 * narrow kernel: the same for 2 MR pixels x NR / 2 channels (w packed NR / 2 wide; 2 MR
 * readable pixel pointers). */
#define CONVX_GEMM_DIRECT_SIGNATURE(T)                                                                        \
    (int64_t nseg, const int64_t *seg, const T *const *pix, const int64_t *off, const T *w, T *c, int64_t rs_c, int64_t cs_c, int64_t mr, \
     int64_t nr, int accumulate, const T *bias)
typedef void(*convx_gemm_direct_f32_fn) CONVX_GEMM_DIRECT_SIGNATURE(float);
typedef void(*convx_gemm_direct_f64_fn) CONVX_GEMM_DIRECT_SIGNATURE(double);

/* Depthwise across channels (channels-last), a run of pixels: out[q*out_step + c] = init[c] +
 * sum_t w[t*n + c] * rows[t][q*in_step + c] for q < pixels. */
#define CONVX_DW_CHANNELS_SIGNATURE(T)                                                        \
    (int64_t n, int64_t taps, const T *const *rows, const T *w, const T *init, T *out, int64_t pixels, \
     int64_t in_step, int64_t out_step)
typedef void(*convx_dw_channels_f32_fn) CONVX_DW_CHANNELS_SIGNATURE(float);
typedef void(*convx_dw_channels_f64_fn) CONVX_DW_CHANNELS_SIGNATURE(double);

/* Channel blocks (LANES channels of a pixel side by side, lanes_f32/lanes_f64 of the table):
 * interleave writes dst[i*ld + c] = src[c*src_step + i] for i < n, c < nc <= LANES. */
#define CONVX_INTERLEAVE_SIGNATURE(T) (int64_t n, int64_t nc, const T *src, int64_t src_step, T *dst, int64_t ld)
typedef void(*convx_interleave_f32_fn) CONVX_INTERLEAVE_SIGNATURE(float);
typedef void(*convx_interleave_f64_fn) CONVX_INTERLEAVE_SIGNATURE(double);
/* dst[i*ld + c] = src[i*src_step + c] for i < n, c < nc (channels-last pixels into a band). */
#define CONVX_COPY_PIXELS_SIGNATURE(T) (int64_t n, int64_t nc, const T *src, int64_t src_step, T *dst, int64_t ld)
typedef void(*convx_copy_pixels_f32_fn) CONVX_COPY_PIXELS_SIGNATURE(float);
typedef void(*convx_copy_pixels_f64_fn) CONVX_COPY_PIXELS_SIGNATURE(double);
/* Grouped channel blocks (G | LANES): dst[(p*G + i)*LANES + l] = src[p*LANES + (l/G)*G + i]. */
#define CONVX_SPREAD_SIGNATURE(T) (int64_t n, int64_t G, const T *src, T *dst)
typedef void(*convx_spread_f32_fn) CONVX_SPREAD_SIGNATURE(float);
typedef void(*convx_spread_f64_fn) CONVX_SPREAD_SIGNATURE(double);
/* Depthwise over one channel block: for r < n, j < nc, out[r*ps + j*cs] = bias[j] +
 * sum_t w[t*LANES + j] * in[r*in_step + off[t] + j]; bias (LANES values) may be NULL; taps in
 * rows of kw_n, kw_step elements apart within a row; `in` readable CONVX_DW_SLACK_PIXELS *
 * in_step elements past its last pixel's taps (whole blocks of 8 pixels, 16 on AVX-512, are
 * computed). */
#define CONVX_DW_SLACK_PIXELS 15
#define CONVX_DW_PIXELS_SIGNATURE(T)                                                                      \
    (int64_t n, int64_t taps, const int64_t *off, int64_t kw_n, int64_t kw_step, const T *in, int64_t in_step, \
     const T *w, const T *bias, T *out, int64_t ps, int64_t cs, int64_t nc)
typedef void(*convx_dw_pixels_f32_fn) CONVX_DW_PIXELS_SIGNATURE(float);
typedef void(*convx_dw_pixels_f64_fn) CONVX_DW_PIXELS_SIGNATURE(double);

/* Depthwise along rows of one channel, a filter CONVX_DW_ROWS_HEIGHT rows high at unit vertical
 * stride and dilation: for r < rows, j < n, out[r*out_row + j] = bias + sum over kh < height,
 * kw < k2 of w[kh*k2 + kw] * in[(r + kh)*in_row + kw*d_w + j]; `in` readable CONVX_DW_ROW_SLACK
 * elements past each row's last tap (whole vectors of the micro-kernels' width are computed). */
#define CONVX_DW_ROWS_HEIGHT 7
#define CONVX_DW_ROW_SLACK 15
#define CONVX_DW_ROWS_SIGNATURE(T)                                                                      \
    (int64_t rows, int64_t n, const T *in, int64_t in_row, int64_t k2, int64_t d_w, const T *w, T bias, T *out, \
     int64_t out_row)
typedef void(*convx_dw_rows_f32_fn) CONVX_DW_ROWS_SIGNATURE(float);
typedef void(*convx_dw_rows_f64_fn) CONVX_DW_ROWS_SIGNATURE(double);

/* The FMA peak, for benchmarks: `iterations` rounds of independent vector FMAs at the
 * micro-kernels' width; returns the floating-point operations done, *checksum their result
 * (so that the compiler cannot drop them). */
typedef double (*convx_fma_probe_fn)(int64_t iterations, double *checksum);

typedef struct {
    const char *name;
    int mr_f32, nr_f32, mr_f64, nr_f64; /* micro-tile of gemm_* */
    convx_gemm_f32_fn gemm_f32;
    convx_gemm_f64_fn gemm_f64;
    convx_gemm_direct_f32_fn gemm_direct_f32;
    convx_gemm_direct_f64_fn gemm_direct_f64;
    convx_gemm_direct_f32_fn gemm_direct_narrow_f32;
    convx_gemm_direct_f64_fn gemm_direct_narrow_f64;
    convx_dw_channels_f32_fn dw_channels_f32;
    convx_dw_channels_f64_fn dw_channels_f64;
    int lanes_f32, lanes_f64; /* channels per block of interleave and dw_pixels */
    convx_interleave_f32_fn interleave_f32;
    convx_interleave_f64_fn interleave_f64;
    convx_dw_pixels_f32_fn dw_pixels_f32;
    convx_dw_pixels_f64_fn dw_pixels_f64;
    convx_dw_rows_f32_fn dw_rows_f32;
    convx_dw_rows_f64_fn dw_rows_f64;
    convx_spread_f32_fn spread_f32;
    convx_spread_f64_fn spread_f64;
    convx_copy_pixels_f32_fn copy_pixels_f32;
    convx_copy_pixels_f64_fn copy_pixels_f64;
    convx_fma_probe_fn fma_probe_f32;
    convx_fma_probe_fn fma_probe_f64;
} convx_kernel_table;

extern const convx_kernel_table convx_kernels_generic;
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__) || defined(_M_IX86)
#define CONVX_HAVE_X86 1
/* The AVX2 and AVX-512 tables need GCC/Clang's target pragma and vector extensions; MSVC has
 * neither, so an MSVC build runs the portable kernels on every CPU (CPU features are still
 * detected). */
#if defined(__GNUC__)
#define CONVX_HAVE_AVX2 1
#define CONVX_HAVE_AVX512 1
/* Compiles what follows, up to CONVX_TARGET_END, for the ISA named by a string literal. Clang
 * ignores GCC's target pragma (silently: its AVX2 table was SSE code), so it gets its own. */
#if defined(__clang__)
#define CONVX_TARGET_BEGIN(isa) _Pragma(CONVX_PRAGMA_STR(clang attribute push(__attribute__((target(isa))), apply_to = function)))
#define CONVX_TARGET_END _Pragma("clang attribute pop")
#else
#define CONVX_TARGET_BEGIN(isa) _Pragma(CONVX_PRAGMA_STR(GCC target(isa)))
#define CONVX_TARGET_END
#endif
#define CONVX_PRAGMA_STR(...) #__VA_ARGS__
extern const convx_kernel_table convx_kernels_avx2;
extern const convx_kernel_table convx_kernels_avx512;
#endif
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define CONVX_HAVE_NEON 1
extern const convx_kernel_table convx_kernels_neon;
#endif

/* The table in use (valid after convx_init). */
const convx_kernel_table *convx_kernels(void);

#endif
