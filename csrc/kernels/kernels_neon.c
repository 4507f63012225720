/* NEON kernels for aarch64 (Advanced SIMD is part of the baseline there): the same loops with
 * tiles sized for its 32 vector registers. */
#include "kernels.h"

#ifdef CONVX_HAVE_NEON

#define ISA neon
#define ISA_NAME "neon"
#define VBYTES 16
#define GEMM_VBYTES 16
#define MR_F32 8
#define NR_F32 8
#define MR_F64 8
#define NR_F64 4
#include "kernels.instantiate.c"

#endif
