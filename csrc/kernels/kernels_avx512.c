/* AVX-512 kernels (the x86-64-v4 set: F, VL, DQ, BW, as Skylake-SP, Zen 4 and later have): the
 * same loops for a target pragma, selected only when the CPU and OS support them. The GEMM and
 * direct micro-kernels run on 512-bit vectors (twice AVX2's FMA width where, as on Zen 5, the
 * datapath is 512 bits), with 16 accumulators of the 32 registers; the channel-block kernels
 * keep 256-bit blocks of 8 float32 (their tile and transpose shapes), now with 32 registers. */
#include "../common.h" /* (the shared helpers stay baseline: included before the target switch) */
#include "kernels.h"

#ifdef CONVX_HAVE_AVX512

CONVX_TARGET_BEGIN("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")

#define ISA avx512
#define ISA_NAME "avx512"
#define VBYTES 32
#define GEMM_VBYTES 64
#define MR_F32 8
#define NR_F32 32
#define MR_F64 8
#define NR_F64 16
#define DW_BLOCK 16 /* 16 accumulators: more FMAs in flight than 8 cover */
#define VREG "v"    /* any of the 32 vector registers in inline asm ("x": the first 16) */
#include "kernels.instantiate.c"
CONVX_TARGET_END

#endif
