/* float64 instantiation of the algorithms. */
#include "algorithms.h"

#define T double
#define SFX f64
#define KT_MR mr_f64
#define KT_NR nr_f64
#define KT_GEMM gemm_f64
#define KT_GEMM_DIRECT gemm_direct_f64
#define KT_DW_ROWS dw_rows_f64
#define KT_DW3X3 dw3x3_f64
#define KT_DW_CHANNELS dw_channels_f64
#include "dense.template.c"
#include "depthwise.template.c"
#include "separable.template.c"
