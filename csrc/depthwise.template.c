/* Depthwise convolution (groups == in_channels, any depth multiplier M) for one element type.
 * Memory-bound, so it streams rows instead of packing a GEMM operand:
 *  - channels-first: each output row accumulates whole padded input rows (split into stride
 *    phases so every tap is a contiguous axpy along the width);
 *  - channels-last: each output pixel accumulates whole channel vectors (vmla along channels).
 * The including file defines T, SFX, KT_AXPY, KT_VMLA. */

#define WNAME(name) CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, SFX))

/* Writes the padded input row at width positions j < len, stride phase by phase: phase r holds
 * positions r, r + s, r + 2s, ... at phases + r * plen, so each tap reads a contiguous run. */
static void WNAME(load_padded_row)(const convx_axis *aw, const T *src, int64_t len, int64_t plen,
                                   T *phases) {
    const int64_t s = aw->stride;
    for (int64_t r = 0; r < s; r++) {
        T *dst = phases + r * plen;
        const int64_t count = convx_ceil_div(len - r, s); /* positions r + t*s < len */
        /* t in [lo, hi) reads the input directly at r - pad + t*s */
        const int64_t lo = CONVX_MIN(count, convx_ceil_div(CONVX_MAX(aw->pad - r, 0), s));
        const int64_t hi = CONVX_MAX(lo, CONVX_MIN(count, convx_ceil_div(CONVX_MAX(aw->in + aw->pad - r, 0), s)));
        const T *base = src + (r - aw->pad);
        for (int64_t t = 0; t < lo; t++) {
            int64_t i = convx_resolve(r - aw->pad + t * s, aw->in, aw->mode);
            dst[t] = i < 0 ? (T)0 : src[i];
        }
        if (s == 1)
            memcpy(dst + lo, base + lo, (size_t)(hi - lo) * sizeof(T));
        else
            for (int64_t t = lo; t < hi; t++) dst[t] = base[t * s];
        for (int64_t t = hi; t < count; t++) {
            int64_t i = convx_resolve(r - aw->pad + t * s, aw->in, aw->mode);
            dst[t] = i < 0 ? (T)0 : src[i];
        }
    }
}

static convx_status WNAME(depthwise_channels_first)(const convx_conv_desc *d, const convx_axis ax[3],
                                                    const T *x, const T *w, const T *bias, T *y,
                                                    int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t C = d->in_channels, M = d->out_channels / C;
    const int64_t k0 = ax[0].kernel, k1 = ax[1].kernel, k2 = ax[2].kernel, taps = k0 * k1 * k2;
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out;
    const int64_t Pin = ax[0].in * ax[1].in * ax[2].in, P = out0 * out1 * out2;
    const int64_t s = ax[2].stride, len = (out2 - 1) * s + (k2 - 1) * ax[2].dilation + 1;
    const int64_t plen = convx_ceil_div(len, s);
    const int64_t tasks = d->batch * C * out0 * out1;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        /* tap_start[kw]: where tap kw starts in the phases (phase (kw*d) % s, offset (kw*d) / s). */
        int64_t *tap_start = (int64_t *)convx_alloc((size_t)k2 * sizeof(int64_t) + (size_t)(plen * s) * sizeof(T));
        T *phases = tap_start ? (T *)(tap_start + k2) : NULL;
        for (int64_t kw = 0; phases && kw < k2; kw++)
            tap_start[kw] = (kw * ax[2].dilation % s) * plen + kw * ax[2].dilation / s;
        if (!phases) {
#pragma omp critical(convx_failed)
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (!phases) continue;
            const int64_t oh = task % out1, od = (task / out1) % out0;
            const int64_t c = (task / (out1 * out0)) % C, n = task / (out1 * out0 * C);
            const T *chan = x + (n * C + c) * Pin;
            T *yrow = y + (n * C * M + c * M) * P + (od * out1 + oh) * out2;
            for (int64_t m = 0; m < M; m++) {
                T start = bias ? bias[c * M + m] : (T)0;
                for (int64_t ow = 0; ow < out2; ow++) yrow[m * P + ow] = start;
            }
            for (int64_t kd = 0; kd < k0; kd++) {
                const int64_t id = convx_axis_tap(&ax[0], od, kd);
                if (id < 0) continue;
                for (int64_t kh = 0; kh < k1; kh++) {
                    const int64_t ih = convx_axis_tap(&ax[1], oh, kh);
                    if (ih < 0) continue;
                    WNAME(load_padded_row)(&ax[2], chan + (id * ax[1].in + ih) * ax[2].in, len, plen, phases);
                    for (int64_t m = 0; m < M; m++) {
                        const T *wt = w + (c * M + m) * taps + (kd * k1 + kh) * k2;
                        for (int64_t kw = 0; kw < k2; kw++) {
                            kt->KT_AXPY(out2, wt[kw], phases + tap_start[kw], yrow + m * P);
                        }
                    }
                }
            }
        }
        convx_free(tap_start);
    }
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

static convx_status WNAME(depthwise_channels_last)(const convx_conv_desc *d, const convx_axis ax[3],
                                                   const T *x, const T *w, const T *bias, T *y,
                                                   int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t C = d->in_channels, Cout = d->out_channels, M = Cout / C;
    const int64_t k1 = ax[1].kernel, k2 = ax[2].kernel, taps = ax[0].kernel * k1 * k2;
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out;
    const int64_t in1 = ax[1].in, in2 = ax[2].in, Pin = ax[0].in * in1 * in2;
    const int64_t tasks = d->batch * out0 * out1;
    /* Weights transposed to [tap][channel] so each tap is one contiguous vector. */
    T *wt = (T *)convx_alloc((size_t)(taps * Cout) * sizeof(T));
    if (!wt) return CONVX_ERR_NO_MEMORY;
    for (int64_t co = 0; co < Cout; co++)
        for (int64_t t = 0; t < taps; t++) wt[t * Cout + co] = w[co * taps + t];
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        /* With M > 1 each input channel is repeated M times to line up with the outputs. */
        T *expanded = M > 1 ? (T *)convx_alloc((size_t)Cout * sizeof(T)) : NULL;
        if (M > 1 && !expanded) {
#pragma omp critical(convx_failed)
            failed = 1;
        }
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (M > 1 && !expanded) continue;
            const int64_t oh = task % out1, od = (task / out1) % out0, n = task / (out1 * out0);
            T *yrow = y + ((n * out0 + od) * out1 + oh) * out2 * Cout;
            for (int64_t ow = 0; ow < out2; ow++)
                for (int64_t co = 0; co < Cout; co++) yrow[ow * Cout + co] = bias ? bias[co] : (T)0;
            for (int64_t kd = 0; kd < ax[0].kernel; kd++) {
                const int64_t id = convx_axis_tap(&ax[0], od, kd);
                if (id < 0) continue;
                for (int64_t kh = 0; kh < k1; kh++) {
                    const int64_t ih = convx_axis_tap(&ax[1], oh, kh);
                    if (ih < 0) continue;
                    const T *xrow = x + n * Pin * C + (id * in1 + ih) * in2 * C;
                    for (int64_t kw = 0; kw < k2; kw++) {
                        const T *wtap = wt + ((kd * k1 + kh) * k2 + kw) * Cout;
                        int64_t lo, hi;
                        convx_axis_interior(&ax[2], kw, &lo, &hi);
                        const int64_t shift = kw * ax[2].dilation - ax[2].pad;
                        for (int64_t ow = 0; ow < out2; ow++) {
                            const int64_t iw = (ow >= lo && ow < hi) ? ow * ax[2].stride + shift
                                                                      : convx_axis_tap(&ax[2], ow, kw);
                            if (iw < 0) continue;
                            const T *xp = xrow + iw * C;
                            if (M > 1) {
                                for (int64_t c = 0; c < C; c++)
                                    for (int64_t m = 0; m < M; m++) expanded[c * M + m] = xp[c];
                                xp = expanded;
                            }
                            kt->KT_VMLA(Cout, wtap, xp, yrow + ow * Cout);
                        }
                    }
                }
            }
        }
        convx_free(expanded);
    }
    convx_free(wt);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

convx_status WNAME(conv_depthwise)(const convx_conv_desc *d, const T *x, const T *w,
                                          const T *bias, T *y, int num_threads) {
    convx_axis ax[3];
    convx_axes_from_desc(d, ax);
    if (d->batch == 0 || ax[0].out * ax[1].out * ax[2].out == 0 || d->out_channels == 0) return CONVX_OK;
    return d->layout == CONVX_CHANNELS_FIRST
               ? WNAME(depthwise_channels_first)(d, ax, x, w, bias, y, num_threads)
               : WNAME(depthwise_channels_last)(d, ax, x, w, bias, y, num_threads);
}

#undef WNAME
