/* The algorithms plan.c chooses between, one per element type (instantiated in conv_f32.c and
 * conv_f64.c from the *.template.c files). */
#ifndef CONVX_ALGORITHMS_H
#define CONVX_ALGORITHMS_H

#include "common.h"
#include "kernels/kernels.h"

#define CONVX_ALGORITHM(name, T)                                                               \
    convx_status name(const convx_conv_desc *d, const T *x, const T *w, const T *bias, T *y, \
                      int num_threads)

CONVX_ALGORITHM(convx_conv_dense_f32, float);
CONVX_ALGORITHM(convx_conv_dense_f64, double);
CONVX_ALGORITHM(convx_conv_depthwise_f32, float);
CONVX_ALGORITHM(convx_conv_depthwise_f64, double);

#endif
