/* One ISA's kernel table from kernels.template.c. The including file defines ISA, ISA_NAME,
 * VBYTES and the micro-tiles MR_F32, NR_F32, MR_F64, NR_F64 (compiled for its target). */
#include "kernels.h"

#define T float
#define SFX f32
#define MR MR_F32
#define NR NR_F32
#include "kernels.template.c"
#undef T
#undef SFX
#undef MR
#undef NR

#define T double
#define SFX f64
#define MR MR_F64
#define NR NR_F64
#include "kernels.template.c"
#undef T
#undef SFX
#undef MR
#undef NR

#define KERNEL(name, sfx) CONVX_CAT(CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, ISA)), CONVX_CAT(_, sfx))

const convx_kernel_table CONVX_CAT(convx_kernels_, ISA) = {
    ISA_NAME,           MR_F32, NR_F32, MR_F64, NR_F64, KERNEL(gemm, f32), KERNEL(gemm, f64), KERNEL(gemm_direct, f32), KERNEL(gemm_direct, f64), KERNEL(dw_rows, f32),
    KERNEL(dw_rows, f64), KERNEL(dw3x3_rows, f32), KERNEL(dw3x3_rows, f64), KERNEL(dw_channels, f32), KERNEL(dw_channels, f64),
};

#undef KERNEL
