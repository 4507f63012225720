/* float64 instantiation of the algorithms. */
#include "algorithms.h"

#define T double
#define SFX f64
#define KT_MR mr_f64
#define KT_NR nr_f64
#define KT_GEMM gemm_f64
#define KT_GEMM_DIRECT gemm_direct_f64
#define KT_GEMM_DIRECT_NARROW gemm_direct_narrow_f64
#define KT_DIRECT_FN convx_gemm_direct_f64_fn
#define KT_LANES lanes_f64
#define KT_INTERLEAVE interleave_f64
#define KT_COPY_PIXELS copy_pixels_f64
#define KT_DW_PIXELS dw_pixels_f64
#define KT_DW_ROWS dw_rows_f64
#define KT_SPREAD spread_f64
#define KT_DW_CHANNELS dw_channels_f64
#include "dense.template.c"
#include "depthwise.template.c"
#include "separable.template.c"
