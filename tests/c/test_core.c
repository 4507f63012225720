/* Tests the C core on its own, against a naive reference written here: random problems of every
 * kind (dense, grouped, depthwise, transposed, separable; 1-3 spatial axes; both layouts, dtypes
 * and all padding modes) with small-integer data, so every result must match exactly.
 * Built and run natively by tests/test_c_core.py, and cross-built for aarch64 and run under
 * qemu by tools/test_aarch64.sh. Exit status 0 when every case matches. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convx.h"

static uint64_t rng_state = 88172645463325252ull;
static int64_t rnd(int64_t lo, int64_t hi) { /* uniform in [lo, hi] */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (int64_t)(rng_state % (uint64_t)(hi - lo + 1));
}

/* Padded coordinate i of an axis of size n -> index, or -1 for a zero (numpy.pad semantics). */
static int64_t resolve(int64_t i, int64_t n, int mode) {
    if (i >= 0 && i < n) return i;
    if (mode == CONVX_PAD_ZEROS) return -1;
    if (mode == CONVX_PAD_REPLICATE) return i < 0 ? 0 : n - 1;
    if (mode == CONVX_PAD_CIRCULAR) return ((i % n) + n) % n;
    if (n == 1) return 0;
    int64_t period = 2 * (n - 1), r = ((i % period) + period) % period;
    return r < n ? r : period - r;
}

static int64_t offset(const convx_conv_desc *d, int64_t n, int64_t c, int64_t channels, const int64_t *size,
                      const int64_t *pos) {
    int64_t sp = (pos[0] * size[1] + pos[1]) * size[2] + pos[2];
    int64_t pixels = size[0] * size[1] * size[2];
    return d->layout == CONVX_CHANNELS_FIRST ? (n * channels + c) * pixels + sp : (n * pixels + sp) * channels + c;
}

/* Scatter form for transposed, gather form for forward: both independent of the core's code. */
static void reference(const convx_conv_desc *d, const double *x, const double *w, const double *b, double *y) {
    const int64_t G = d->groups, cig = d->in_channels / G, cog = d->out_channels / G;
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2];
    const int64_t out_pixels = d->out_size[0] * d->out_size[1] * d->out_size[2];
    for (int64_t i = 0; i < d->batch * d->out_channels * out_pixels; i++) y[i] = 0;
    for (int64_t n = 0; n < d->batch; n++)
        for (int64_t g = 0; g < G; g++)
            for (int64_t co = 0; co < cog; co++)
                for (int64_t ci = 0; ci < cig; ci++)
                    for (int64_t t = 0; t < taps; t++) {
                        int64_t k[3] = {t / (d->kernel[1] * d->kernel[2]), (t / d->kernel[2]) % d->kernel[1], t % d->kernel[2]};
                        double wv = d->transposed ? w[((g * cig + ci) * cog + co) * taps + t] : w[((g * cog + co) * cig + ci) * taps + t];
                        if (!d->transposed) {
                            for (int64_t p = 0; p < out_pixels; p++) {
                                int64_t o[3] = {p / (d->out_size[1] * d->out_size[2]), (p / d->out_size[2]) % d->out_size[1], p % d->out_size[2]}, in[3];
                                int ok = 1;
                                for (int a = 0; a < 3; a++) {
                                    in[a] = resolve(o[a] * d->stride[a] + k[a] * d->dilation[a] - d->pad_before[a], d->in_size[a], d->padding_mode);
                                    ok &= in[a] >= 0;
                                }
                                if (ok) y[offset(d, n, g * cog + co, d->out_channels, d->out_size, o)] += wv * x[offset(d, n, g * cig + ci, d->in_channels, d->in_size, in)];
                            }
                        } else {
                            const int64_t in_pixels = d->in_size[0] * d->in_size[1] * d->in_size[2];
                            for (int64_t p = 0; p < in_pixels; p++) {
                                int64_t i[3] = {p / (d->in_size[1] * d->in_size[2]), (p / d->in_size[2]) % d->in_size[1], p % d->in_size[2]}, o[3];
                                int ok = 1;
                                for (int a = 0; a < 3; a++) {
                                    o[a] = i[a] * d->stride[a] + k[a] * d->dilation[a] - d->pad_before[a];
                                    ok &= o[a] >= 0 && o[a] < d->out_size[a];
                                }
                                if (ok) y[offset(d, n, g * cog + co, d->out_channels, d->out_size, o)] += wv * x[offset(d, n, g * cig + ci, d->in_channels, d->in_size, i)];
                            }
                        }
                    }
    if (b)
        for (int64_t n = 0; n < d->batch; n++)
            for (int64_t p = 0; p < out_pixels; p++)
                for (int64_t c = 0; c < d->out_channels; c++) {
                    int64_t o[3] = {p / (d->out_size[1] * d->out_size[2]), (p / d->out_size[2]) % d->out_size[1], p % d->out_size[2]};
                    y[offset(d, n, c, d->out_channels, d->out_size, o)] += b[c];
                }
}

static void *convert(const double *v, int64_t count, int dtype) { /* to the core's dtype */
    if (dtype == CONVX_FLOAT64) {
        double *out = malloc((size_t)(count ? count : 1) * sizeof(double));
        memcpy(out, v, (size_t)count * sizeof(double));
        return out;
    }
    float *out = malloc((size_t)(count ? count : 1) * sizeof(float));
    for (int64_t i = 0; i < count; i++) out[i] = (float)v[i];
    return out;
}

static double *random_ints(int64_t count) {
    double *v = malloc((size_t)(count ? count : 1) * sizeof(double));
    for (int64_t i = 0; i < count; i++) v[i] = (double)rnd(-3, 3);
    return v;
}

static int64_t prod(const int64_t *v) { return v[0] * v[1] * v[2]; }

static int compare(const char *what, const convx_conv_desc *d, const void *got, const double *expected, int64_t count) {
    for (int64_t i = 0; i < count; i++) {
        double g = d->dtype == CONVX_FLOAT64 ? ((const double *)got)[i] : ((const float *)got)[i];
        if (g != expected[i]) {
            fprintf(stderr, "%s mismatch at %lld: got %g expected %g (groups %lld, C %lld->%lld, layout %d, mode %d, "
                    "transposed %d, dtype %d)\n", what, (long long)i, g, expected[i], (long long)d->groups,
                    (long long)d->in_channels, (long long)d->out_channels, d->layout, d->padding_mode, d->transposed, d->dtype);
            return 1;
        }
    }
    return 0;
}

/* A forward axis's output size from its input, padding and geometry; `after` (the padding at
 * the end) grows if the padded input is shorter than the filter's span. */
static void set_forward_out(convx_conv_desc *d, int a, int64_t after) {
    const int64_t span = (d->kernel[a] - 1) * d->dilation[a] + 1;
    if (d->in_size[a] + d->pad_before[a] + after < span) after = span - d->in_size[a] - d->pad_before[a];
    d->out_size[a] = (d->in_size[a] + d->pad_before[a] + after - span) / d->stride[a] + 1;
}

/* A random valid problem; kind 0 dense/grouped, 1 depthwise, 2 transposed. */
static void random_problem(convx_conv_desc *d, int kind) {
    memset(d, 0, sizeof(*d));
    const int nd = (int)rnd(1, 3);
    d->dtype = rnd(0, 1) ? CONVX_FLOAT64 : CONVX_FLOAT32;
    d->layout = rnd(0, 1) ? CONVX_CHANNELS_LAST : CONVX_CHANNELS_FIRST;
    d->transposed = kind == 2;
    d->padding_mode = d->transposed ? CONVX_PAD_ZEROS : (convx_padding_mode)rnd(0, 3);
    d->batch = rnd(1, 2);
    d->groups = kind == 1 ? rnd(1, 20) : rnd(1, 3);
    d->in_channels = d->groups * (kind == 1 ? 1 : rnd(1, 4));
    d->out_channels = d->groups * rnd(1, kind == 1 ? 3 : 20);
    for (int a = 0; a < 3; a++) {
        const int spatial = a >= 3 - nd;
        d->kernel[a] = spatial ? rnd(1, 4) : 1;
        d->stride[a] = spatial ? rnd(1, 3) : 1;
        d->dilation[a] = spatial ? rnd(1, 3) : 1;
        d->in_size[a] = spatial ? rnd(1, nd == 3 ? 6 : 19) : 1;
        int64_t span = (d->kernel[a] - 1) * d->dilation[a] + 1;
        if (d->transposed) {
            d->pad_before[a] = spatial ? rnd(0, span - 1) : 0;
            int64_t size = (d->in_size[a] - 1) * d->stride[a] - 2 * d->pad_before[a] + span;
            if (size < 1) d->pad_before[a] = 0, size = (d->in_size[a] - 1) * d->stride[a] + span;
            d->out_size[a] = size;
        } else {
            d->pad_before[a] = spatial ? rnd(0, 3) : 0;
            set_forward_out(d, a, spatial ? rnd(0, 3) : 0);
        }
    }
    if (kind == 1 && rnd(0, 2) == 0) { /* 7-row filters along long rows: the channels-first row path */
        d->layout = CONVX_CHANNELS_FIRST;
        d->kernel[0] = d->stride[0] = d->dilation[0] = d->in_size[0] = d->out_size[0] = 1;
        d->pad_before[0] = 0;
        for (int a = 1; a < 3; a++) {
            d->kernel[a] = a == 1 ? 7 : rnd(7, 9), d->stride[a] = 1, d->dilation[a] = a == 1 ? 1 : rnd(1, 2);
            d->in_size[a] = a == 1 ? rnd(1, 24) : rnd(14, 40), d->pad_before[a] = rnd(0, 4);
            set_forward_out(d, a, rnd(0, 4));
        }
    }
}

static int run_case(int kind) {
    convx_conv_desc d;
    random_problem(&d, kind);
    const int64_t nx = d.batch * d.in_channels * prod(d.in_size), ny = d.batch * d.out_channels * prod(d.out_size);
    const int64_t nw = d.out_channels * (d.in_channels / d.groups) * prod(d.kernel);
    double *x = random_ints(nx), *w = random_ints(nw), *b = rnd(0, 1) ? random_ints(d.out_channels) : NULL;
    double *expected = malloc((size_t)ny * sizeof(double));
    reference(&d, x, w, b, expected);
    void *xs = convert(x, nx, d.dtype), *ws = convert(w, nw, d.dtype), *bs = b ? convert(b, d.out_channels, d.dtype) : NULL;
    void *y = malloc((size_t)ny * 8);
    int failed = 0;
    for (int threads = 1; threads <= 2 && !failed; threads++) {
        memset(y, 0xff, (size_t)ny * 8); /* NaN everywhere: every output must be written */
        convx_status status = convx_conv(&d, xs, ws, bs, y, threads);
        failed = status != CONVX_OK ? (fprintf(stderr, "status %d\n", status), 1) : compare("conv", &d, y, expected, ny);
    }
    free(x), free(w), free(b), free(expected), free(xs), free(ws), free(bs), free(y);
    return failed;
}

/* Depthwise (multiplier M) then 1x1 to C_out, fused by the core, against two reference steps. */
static int run_separable_case(void) {
    convx_conv_desc dw, pw;
    random_problem(&dw, 1);
    dw.batch = 1;
    pw = dw;
    pw.groups = 1;
    pw.in_channels = dw.out_channels;
    pw.out_channels = rnd(1, 20);
    pw.padding_mode = CONVX_PAD_ZEROS;
    for (int a = 0; a < 3; a++) {
        pw.in_size[a] = pw.out_size[a] = dw.out_size[a];
        pw.kernel[a] = pw.stride[a] = pw.dilation[a] = 1;
        pw.pad_before[a] = 0;
    }
    const int64_t nx = dw.in_channels * prod(dw.in_size), nm = dw.out_channels * prod(dw.out_size);
    const int64_t ny = pw.out_channels * prod(pw.out_size);
    double *x = random_ints(nx), *w1 = random_ints(dw.out_channels * prod(dw.kernel));
    double *w2 = random_ints(pw.out_channels * pw.in_channels), *b = random_ints(pw.out_channels);
    double *middle = malloc((size_t)nm * sizeof(double)), *expected = malloc((size_t)ny * sizeof(double));
    reference(&dw, x, w1, NULL, middle);
    reference(&pw, middle, w2, b, expected);
    void *xs = convert(x, nx, dw.dtype), *w1s = convert(w1, dw.out_channels * prod(dw.kernel), dw.dtype);
    void *w2s = convert(w2, pw.out_channels * pw.in_channels, dw.dtype), *bs = convert(b, pw.out_channels, dw.dtype);
    void *y = malloc((size_t)ny * 8);
    convx_packed_weights *p1 = NULL, *p2 = NULL;
    int failed = convx_pack_weights(&dw, w1s, NULL, &p1) != CONVX_OK || convx_pack_weights(&pw, w2s, bs, &p2) != CONVX_OK;
    for (int threads = 1; threads <= 2 && !failed; threads++) {
        memset(y, 0xff, (size_t)ny * 8);
        failed = convx_conv_separable(&dw, p1, &pw, p2, xs, y, threads) != CONVX_OK ||
                 compare("separable", &pw, y, expected, ny);
    }
    convx_free_packed_weights(p1);
    convx_free_packed_weights(p2);
    free(x), free(w1), free(w2), free(b), free(middle), free(expected), free(xs), free(w1s), free(w2s), free(bs), free(y);
    return failed;
}

int main(int argc, char **argv) {
    const int cases = argc > 1 ? atoi(argv[1]) : 300;
    convx_init();
    printf("convx core test: kernels %s, CPU features '%s', OpenMP %s\n", convx_isa_name(), convx_cpu_features(),
           convx_openmp_enabled() ? "on" : "off");
    int failures = 0;
    for (int i = 0; i < cases; i++) {
        failures += run_case(i % 3);
        failures += run_separable_case();
    }
    printf("%d passed, %d failed\n", 2 * cases - failures, failures);
    return failures != 0;
}
