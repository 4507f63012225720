/* AVX2+FMA kernels: the same loops compiled for Haswell-class x86-64 via a target pragma, so
 * the rest of the extension stays baseline. Selected only when the CPU reports AVX2 and FMA. */
#include "../common.h" /* (the shared helpers stay baseline: included before the target switch) */
#include "kernels.h"

#ifdef CONVX_HAVE_AVX2

CONVX_TARGET_BEGIN("avx2,fma")

#define ISA avx2
#define ISA_NAME "avx2_fma"
#define VBYTES 32
#define GEMM_VBYTES 32
#define MR_F32 6
#define NR_F32 16
#define MR_F64 6
#define NR_F64 8
#include "kernels.instantiate.c"
CONVX_TARGET_END

#endif
