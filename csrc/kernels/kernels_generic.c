/* Portable kernels: plain C the compiler vectorises for the baseline ISA. Always built, always
 * tested (CONVX_ISA=generic selects them). */
#include "kernels.h"

#define ISA generic
#define VBYTES 16

#define T float
#define SFX f32
#define MR 4
#define NR 8
#include "kernels.template.c"
#undef T
#undef SFX
#undef MR
#undef NR

#define T double
#define SFX f64
#define MR 4
#define NR 4
#include "kernels.template.c"

const convx_kernel_table convx_kernels_generic = {
    "generic",          4, 8, 4, 4,
    convx_gemm_generic_f32, convx_gemm_generic_f64, convx_dw_rows_generic_f32,
    convx_dw_rows_generic_f64, convx_dw_channels_generic_f32, convx_dw_channels_generic_f64,
};
