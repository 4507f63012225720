/* NEON kernels for aarch64 (Advanced SIMD is part of the baseline there): the same loops with
 * tiles sized for its 32 vector registers. */
#include "kernels.h"

#ifdef CONVX_HAVE_NEON

#define ISA neon
#define VBYTES 16

#define T float
#define SFX f32
#define MR 8
#define NR 8
#include "kernels.template.c"
#undef T
#undef SFX
#undef MR
#undef NR

#define T double
#define SFX f64
#define MR 8
#define NR 4
#include "kernels.template.c"

const convx_kernel_table convx_kernels_neon = {
    "neon",          8, 8, 8, 4,
    convx_gemm_neon_f32, convx_gemm_neon_f64, convx_dw_rows_neon_f32,
    convx_dw_rows_neon_f64, convx_dw_channels_neon_f32, convx_dw_channels_neon_f64,
};

#endif
