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

/* One thread for small problems, where waking a team costs more than it saves, and in a forked
 * child, where an OpenMP team could hang (see convx_in_forked_child). */
static int choose_threads(const convx_conv_desc *d, int requested) {
    double macs = (double)d->batch * (double)d->out_channels * (double)(d->in_channels / d->groups + 1);
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++) macs *= (double)d->out_size[i] * (double)d->kernel[i];
    if (requested < 1 || macs < (double)(1 << 20) || convx_in_forked_child()) return 1;
    return requested;
}

struct convx_packed_weights {
    convx_conv_desc desc; /* what it was packed for; only the fields in same_layer() matter */
    int depthwise;        /* runs depthwise.template.c (small_groups), else dense.template.c */
    void *weights; /* the algorithm's packed form */
    void *bias;    /* a copy, or NULL */
};

/* Depthwise (one input channel per group), or groups of G = in = out channels with G dividing
 * the vector lanes (ResNeXt's 32 x 4): a group's outputs fit in a fraction of a vector, where
 * the dense kernels would fill a fraction of their tile. Each input pixel is spread into G
 * vectors first, which a group as wide as the vector repays only at stride 1 (measured, 8 x 8
 * float32 groups: stride 1 1.1x faster, stride 2 1.3x slower than dense). Transposed: channels-last
 * depthwise with one output per channel only (channels-first transposed runs dense by phase). */
static int small_groups(const convx_conv_desc *d) {
    if (d->in_channels == 0) return 0;
    if (d->transposed) /* channels-last depthwise only (depthwise_transposed_channels_last) */
        return d->layout == CONVX_CHANNELS_LAST && d->groups == d->in_channels && d->out_channels == d->in_channels;
    const int64_t G = d->in_channels / d->groups;
    const int lanes = d->dtype == CONVX_FLOAT32 ? convx_kernels()->lanes_f32 : convx_kernels()->lanes_f64;
    int unit_stride = 1;
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++) unit_stride &= d->stride[i] == 1;
    return G == 1 ||
           (d->groups > 1 && d->out_channels == d->in_channels && lanes % G == 0 && (2 * G <= lanes || unit_stride));
}

static int same_layer(const convx_conv_desc *a, const convx_conv_desc *b) {
    if (a->dtype != b->dtype || a->layout != b->layout || a->transposed != b->transposed) return 0;
    if (a->groups != b->groups || a->in_channels != b->in_channels || a->out_channels != b->out_channels) return 0;
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++)
        if (a->kernel[i] != b->kernel[i]) return 0;
    return 1;
}

convx_status convx_pack_weights(const convx_conv_desc *d, const void *weight, const void *bias,
                                convx_packed_weights **packed) {
    *packed = NULL;
    if (!valid_descriptor(d)) return CONVX_ERR_BAD_DESCRIPTOR;
    if (d->transposed && d->padding_mode != CONVX_PAD_ZEROS) return CONVX_ERR_UNSUPPORTED;
    convx_init();
    convx_packed_weights *p = (convx_packed_weights *)calloc(1, sizeof(*p));
    if (!p) return CONVX_ERR_NO_MEMORY;
    p->desc = *d;
    p->depthwise = small_groups(d);
    const size_t item = d->dtype == CONVX_FLOAT32 ? sizeof(float) : sizeof(double);
    if (d->dtype == CONVX_FLOAT32)
        p->weights = p->depthwise ? (void *)convx_depthwise_pack_f32(d, (const float *)weight)
                                  : (void *)convx_dense_pack_f32(d, (const float *)weight);
    else
        p->weights = p->depthwise ? (void *)convx_depthwise_pack_f64(d, (const double *)weight)
                                  : (void *)convx_dense_pack_f64(d, (const double *)weight);
    if (bias && (p->bias = convx_alloc((size_t)d->out_channels * item)) != NULL)
        memcpy(p->bias, bias, (size_t)d->out_channels * item);
    if (!p->weights || (bias && !p->bias)) {
        convx_free_packed_weights(p);
        return CONVX_ERR_NO_MEMORY;
    }
    *packed = p;
    return CONVX_OK;
}

convx_status convx_conv_packed(const convx_conv_desc *d, const convx_packed_weights *p,
                               const void *input, void *output, int num_threads) {
    if (!valid_descriptor(d) || !same_layer(d, &p->desc)) return CONVX_ERR_BAD_DESCRIPTOR;
    if (d->transposed && d->padding_mode != CONVX_PAD_ZEROS) return CONVX_ERR_UNSUPPORTED;
    const int threads = choose_threads(d, num_threads);
    if (d->dtype == CONVX_FLOAT32) {
        const float *w = (const float *)p->weights, *b = (const float *)p->bias, *x = (const float *)input;
        return p->depthwise ? convx_depthwise_run_f32(d, w, b, x, (float *)output, threads)
                            : convx_dense_run_f32(d, w, b, x, (float *)output, threads);
    }
    const double *w = (const double *)p->weights, *b = (const double *)p->bias, *x = (const double *)input;
    return p->depthwise ? convx_depthwise_run_f64(d, w, b, x, (double *)output, threads)
                        : convx_dense_run_f64(d, w, b, x, (double *)output, threads);
}

convx_status convx_conv_separable(const convx_conv_desc *dw, const convx_packed_weights *dw_packed,
                                  const convx_conv_desc *pw, const convx_packed_weights *pw_packed,
                                  const void *input, void *output, int num_threads) {
    if (!valid_descriptor(dw) || !same_layer(dw, &dw_packed->desc) || dw->groups != dw->in_channels)
        return CONVX_ERR_BAD_DESCRIPTOR;
    if (!valid_descriptor(pw) || !same_layer(pw, &pw_packed->desc)) return CONVX_ERR_BAD_DESCRIPTOR;
    if (pw->in_channels != dw->out_channels || pw->groups != 1 || pw->batch != dw->batch || pw->dtype != dw->dtype ||
        pw->layout != dw->layout)
        return CONVX_ERR_BAD_DESCRIPTOR;
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++)
        if (pw->kernel[i] != 1 || pw->stride[i] != 1 || pw->pad_before[i] != 0 || pw->in_size[i] != dw->out_size[i] ||
            pw->out_size[i] != dw->out_size[i])
            return CONVX_ERR_BAD_DESCRIPTOR;
    const int threads = (choose_threads(dw, num_threads) > 1 || choose_threads(pw, num_threads) > 1) ? num_threads : 1;
    /* Fused; else (one channel making the packing ambiguous: a 1-channel depthwise packs as
     * dense, a 1-channel 1x1 as depthwise) the two steps through a full intermediate. */
    convx_status status = CONVX_ERR_UNSUPPORTED;
    if (dw_packed->depthwise && !pw_packed->depthwise) {
        if (dw->dtype == CONVX_FLOAT32)
            status = convx_separable_run_f32(dw, (const float *)dw_packed->weights, (const float *)pw_packed->weights,
                                             (const float *)pw_packed->bias, pw->out_channels, (const float *)input,
                                             (float *)output, threads);
        else
            status = convx_separable_run_f64(dw, (const double *)dw_packed->weights, (const double *)pw_packed->weights,
                                             (const double *)pw_packed->bias, pw->out_channels, (const double *)input,
                                             (double *)output, threads);
    }
    if (status == CONVX_ERR_UNSUPPORTED) {
        const size_t item = dw->dtype == CONVX_FLOAT32 ? sizeof(float) : sizeof(double);
        size_t count = (size_t)dw->batch * (size_t)dw->out_channels;
        for (int i = 0; i < CONVX_MAX_SPATIAL; i++) count *= (size_t)dw->out_size[i];
        void *middle = convx_alloc(count * item);
        if (!middle) return CONVX_ERR_NO_MEMORY;
        status = convx_conv_packed(dw, dw_packed, input, middle, num_threads);
        if (status == CONVX_OK) status = convx_conv_packed(pw, pw_packed, middle, output, num_threads);
        convx_free(middle);
    }
    return status;
}

void convx_free_packed_weights(convx_packed_weights *p) {
    if (!p) return;
    convx_free(p->weights);
    convx_free(p->bias);
    free(p);
}

convx_status convx_conv(const convx_conv_desc *d, const void *input, const void *weight,
                        const void *bias, void *output, int num_threads) {
    convx_packed_weights *packed;
    convx_status status = convx_pack_weights(d, weight, bias, &packed);
    if (status != CONVX_OK) return status;
    status = convx_conv_packed(d, packed, input, output, num_threads);
    convx_free_packed_weights(packed);
    return status;
}
