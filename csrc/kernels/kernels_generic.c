/* Portable kernels: plain C the compiler vectorises for the baseline ISA. Always built, always
 * tested (CONVX_ISA=generic selects them). */
#define ISA generic
#define ISA_NAME "generic"
#define VBYTES 16
#define GEMM_VBYTES 16
#define MR_F32 4
#define NR_F32 8
#define MR_F64 4
#define NR_F64 4
#include "kernels.instantiate.c"
