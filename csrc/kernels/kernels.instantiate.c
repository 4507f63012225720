/* One ISA's kernel table from kernels.template.c. The including file defines ISA, ISA_NAME,
 * VBYTES, GEMM_VBYTES and the micro-tiles MR_F32, NR_F32, MR_F64, NR_F64 (compiled for its target),
 * and may define DW_BLOCK, the depthwise kernel's pixels per block (8 unless it says). */
#include "kernels.h"

#ifndef DW_BLOCK
#define DW_BLOCK 8
#endif

#define T float
#define SFX f32
#define MR MR_F32
#define NR NR_F32
#define LANES (VBYTES / 4)
#define ITYPE int32_t
#include "kernels.template.c"
#undef T
#undef SFX
#undef MR
#undef NR
#undef LANES
#undef ITYPE

#define T double
#define SFX f64
#define MR MR_F64
#define NR NR_F64
#define LANES (VBYTES / 8)
#define ITYPE int64_t
#include "kernels.template.c"
#undef T
#undef SFX
#undef MR
#undef NR
#undef LANES
#undef ITYPE

#define KERNEL(name, sfx) CONVX_CAT(CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, ISA)), CONVX_CAT(_, sfx))

const convx_kernel_table CONVX_CAT(convx_kernels_, ISA) = {
    ISA_NAME,
    MR_F32,
    NR_F32,
    MR_F64,
    NR_F64,
    KERNEL(gemm, f32),
    KERNEL(gemm, f64),
    KERNEL(gemm_direct, f32),
    KERNEL(gemm_direct, f64),
    KERNEL(gemm_direct_narrow, f32),
    KERNEL(gemm_direct_narrow, f64),
    KERNEL(dw_channels, f32),
    KERNEL(dw_channels, f64),
    VBYTES / 4,
    VBYTES / 8,
    KERNEL(interleave, f32),
    KERNEL(interleave, f64),
    KERNEL(dw_pixels, f32),
    KERNEL(dw_pixels, f64),
    KERNEL(dw_rows, f32),
    KERNEL(dw_rows, f64),
    KERNEL(spread_groups, f32),
    KERNEL(spread_groups, f64),
    KERNEL(copy_pixels, f32),
    KERNEL(copy_pixels, f64),
    KERNEL(fma_probe, f32),
    KERNEL(fma_probe, f64),
};

#undef KERNEL
