/* float32 instantiation of the algorithms. */
#include "algorithms.h"

#define T float
#define SFX f32
#define KT_MR mr_f32
#define KT_NR nr_f32
#define KT_GEMM gemm_f32
#define KT_GEMM_DIRECT gemm_direct_f32
#define KT_GEMM_DIRECT_NARROW gemm_direct_narrow_f32
#define KT_DIRECT_FN convx_gemm_direct_f32_fn
#define KT_LANES lanes_f32
#define KT_INTERLEAVE interleave_f32
#define KT_COPY_PIXELS copy_pixels_f32
#define KT_DW_PIXELS dw_pixels_f32
#define KT_DW_ROWS dw_rows_f32
#define KT_SPREAD spread_f32
#define KT_DW_CHANNELS dw_channels_f32
#include "dense.template.c"
#include "depthwise.template.c"
#include "separable.template.c"
