/* AVX2+FMA kernels: the same loops compiled for Haswell-class x86-64 via a target pragma, so
 * the rest of the extension stays baseline. Selected only when the CPU reports AVX2 and FMA. */
#include "kernels.h"

#ifdef CONVX_HAVE_X86

#if defined(__GNUC__)
#pragma GCC target("avx2,fma")
#endif

#define ISA avx2
#define VBYTES 32

#define T float
#define SFX f32
#define MR 6
#define NR 16
#include "kernels.template.c"
#undef T
#undef SFX
#undef MR
#undef NR

#define T double
#define SFX f64
#define MR 6
#define NR 8
#include "kernels.template.c"

const convx_kernel_table convx_kernels_avx2 = {
    "avx2_fma",          6, 16, 6, 8,
    convx_gemm_avx2_f32, convx_gemm_avx2_f64, convx_dw_rows_avx2_f32,
    convx_dw_rows_avx2_f64, convx_dw_channels_avx2_f32, convx_dw_channels_avx2_f64,
};

#endif
