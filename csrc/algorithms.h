/* The algorithms plan.c chooses between, one per element type (instantiated in conv_f32.c and
 * conv_f64.c from the *.template.c files). */
#ifndef CONVX_ALGORITHMS_H
#define CONVX_ALGORITHMS_H

#include "common.h"
#include "kernels/kernels.h"

/* Each algorithm packs the weights once (NULL when out of memory), then runs any number of
 * problems with the same channels, kernel, groups, layout and dtype. */
#define CONVX_ALGORITHM(name, SFX, T)                                                            \
    T *convx_##name##_pack_##SFX(const convx_conv_desc *d, const T *w);                          \
    convx_status convx_##name##_run_##SFX(const convx_conv_desc *d, const T *packed, const T *bias, \
                                          const T *x, T *y, int num_threads);

CONVX_ALGORITHM(dense, f32, float)
CONVX_ALGORITHM(dense, f64, double)
CONVX_ALGORITHM(depthwise, f32, float)
CONVX_ALGORITHM(depthwise, f64, double)

/* Fused depthwise-separable (either layout): dw_w packed by depthwise_pack, pw_a by dense_pack
 * for the 1x1 merge (K = dw->out_channels inputs, out_channels outputs). */
convx_status convx_separable_run_f32(const convx_conv_desc *dw, const float *dw_w, const float *pw_a,
                                     const float *bias, int64_t out_channels, const float *x, float *y,
                                     int num_threads);
convx_status convx_separable_run_f64(const convx_conv_desc *dw, const double *dw_w, const double *pw_a,
                                     const double *bias, int64_t out_channels, const double *x, double *y,
                                     int num_threads);

#endif
