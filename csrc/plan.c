/* Entry point of the core: checks the descriptor, picks the algorithm and the thread count. */
#include "algorithms.h"

static int valid_descriptor(const convx_conv_desc *d) {
    if (d->dtype != CONVX_FLOAT32 && d->dtype != CONVX_FLOAT64) return 0;
    if (d->layout != CONVX_CHANNELS_FIRST && d->layout != CONVX_CHANNELS_LAST) return 0;
    if (d->padding_mode < CONVX_PAD_ZEROS || d->padding_mode > CONVX_PAD_CIRCULAR) return 0;
    if (d->batch < 0 || d->groups < 1 || d->in_channels < 0 || d->out_channels < 0) return 0;
    if (d->in_channels % d->groups || d->out_channels % d->groups) return 0;
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++) {
        if (d->in_size[i] < 1 || d->out_size[i] < 0 || d->kernel[i] < 1) return 0;
        if (d->stride[i] < 1 || d->dilation[i] < 1 || d->pad_before[i] < 0) return 0;
    }
    return 1;
}

/* One thread for small problems, where waking a team costs more than it saves. */
static int choose_threads(const convx_conv_desc *d, int requested) {
    double macs = (double)d->batch * (double)d->out_channels * (double)(d->in_channels / d->groups + 1);
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++) macs *= (double)d->out_size[i] * (double)d->kernel[i];
    if (requested < 1 || macs < (double)(1 << 20)) return 1;
    return requested;
}

convx_status convx_conv(const convx_conv_desc *d, const void *input, const void *weight,
                        const void *bias, void *output, int num_threads) {
    if (!valid_descriptor(d)) return CONVX_ERR_BAD_DESCRIPTOR;
    if (d->transposed && d->padding_mode != CONVX_PAD_ZEROS) return CONVX_ERR_UNSUPPORTED;
    convx_init();
    const int threads = choose_threads(d, num_threads);
    const int depthwise = !d->transposed && d->in_channels > 0 && d->groups == d->in_channels;
    if (d->dtype == CONVX_FLOAT32) {
        const float *x = (const float *)input, *w = (const float *)weight, *b = (const float *)bias;
        return depthwise ? convx_conv_depthwise_f32(d, x, w, b, (float *)output, threads)
                         : convx_conv_dense_f32(d, x, w, b, (float *)output, threads);
    }
    const double *x = (const double *)input, *w = (const double *)weight, *b = (const double *)bias;
    return depthwise ? convx_conv_depthwise_f64(d, x, w, b, (double *)output, threads)
                     : convx_conv_dense_f64(d, x, w, b, (double *)output, threads);
}
