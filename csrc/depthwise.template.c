/* Depthwise convolution (groups == in_channels, any depth multiplier M) for one element type.
 * Memory-bound, so it streams rows instead of packing a GEMM operand:
 *  - channels-first: each block of output rows is one dw_rows kernel call over pointers into
 *    padded input rows (split into stride phases so every tap reads a contiguous run);
 *  - channels-last: each output pixel is one dw_channels call over pointers to input pixels.
 * The including file defines T, SFX, KT_DW_ROWS, KT_DW3X3, KT_DW_CHANNELS. */

#define WNAME(name) CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, SFX))

/* How the padded width axis splits into stride phases: phase r holds padded positions
 * r, r + s, r + 2s, ... (count[r] of them), of which [lo[r], hi[r]) read the input directly.
 * Only phases r < len hold anything: nphase = min(stride, len). border lists, phase by phase,
 * the input index (resolved for the padding mode, -1 for a zero) of each position outside
 * [lo, hi), left ones then right ones, so loading a row never resolves an index. */
typedef struct {
    int64_t len, plen, nphase, nborder;
    int64_t *count, *lo, *hi; /* nphase entries each */
    int64_t *border;          /* nborder entries */
} WNAME(row_phases);

static void WNAME(plan_row_phases)(const convx_axis *aw, WNAME(row_phases) *ph) {
    const int64_t s = aw->stride;
    for (int64_t r = 0; r < ph->nphase; r++) {
        ph->count[r] = convx_ceil_div(ph->len - r, s);
        ph->lo[r] = CONVX_MIN(ph->count[r], convx_ceil_div(CONVX_MAX(aw->pad - r, 0), s));
        ph->hi[r] = CONVX_MAX(ph->lo[r], CONVX_MIN(ph->count[r], convx_ceil_div(CONVX_MAX(aw->in + aw->pad - r, 0), s)));
    }
}

static int64_t WNAME(border_count)(const WNAME(row_phases) *ph) {
    int64_t n = 0;
    for (int64_t r = 0; r < ph->nphase; r++) n += ph->lo[r] + ph->count[r] - ph->hi[r];
    return n;
}

static void WNAME(plan_border)(const convx_axis *aw, WNAME(row_phases) *ph) {
    int64_t *b = ph->border;
    for (int64_t r = 0; r < ph->nphase; r++)
        for (int64_t t = 0; t < ph->count[r]; t++)
            if (t < ph->lo[r] || t >= ph->hi[r]) *b++ = convx_resolve(r - aw->pad + t * aw->stride, aw->in, aw->mode);
}

/* Writes one input row, padded along the width and split into stride phases (phase r at
 * dst + r * plen), so every tap reads a contiguous run. */
static void WNAME(load_padded_row)(const convx_axis *aw, const WNAME(row_phases) *ph, const T *src, T *dst) {
    const int64_t s = aw->stride, pad = aw->pad;
    const int64_t *b = ph->border;
    for (int64_t r = 0; r < ph->nphase; r++) {
        const int64_t lo = ph->lo[r], hi = ph->hi[r], count = ph->count[r];
        T *phase = dst + r * ph->plen;
        for (int64_t t = 0; t < lo; t++, b++) phase[t] = *b < 0 ? (T)0 : src[*b];
        if (s == 1)
            memcpy(phase + lo, src + lo - pad, (size_t)(hi - lo) * sizeof(T));
        else if (s > 2)
            for (int64_t t = lo; t < hi; t++) phase[t] = src[r - pad + t * s];
        for (int64_t t = hi; t < count; t++, b++) phase[t] = *b < 0 ? (T)0 : src[*b];
    }
    if (s == 2) { /* the interiors of both phases in one pass, which compiles to vector shuffles */
        T *CONVX_RESTRICT even = dst, *CONVX_RESTRICT odd = dst + ph->plen;
        const int64_t both_lo = ph->nphase == 2 ? CONVX_MAX(ph->lo[0], ph->lo[1]) : ph->hi[0];
        const int64_t both_hi = ph->nphase == 2 ? CONVX_MAX(both_lo, CONVX_MIN(ph->hi[0], ph->hi[1])) : ph->hi[0];
        for (int64_t t = ph->lo[0]; t < CONVX_MIN(both_lo, ph->hi[0]); t++) even[t] = src[2 * t - pad];
        for (int64_t t = both_lo; t < both_hi; t++) {
            even[t] = src[2 * t - pad];
            odd[t] = src[2 * t + 1 - pad];
        }
        for (int64_t t = CONVX_MAX(both_hi, ph->lo[0]); t < ph->hi[0]; t++) even[t] = src[2 * t - pad];
        if (ph->nphase == 2) {
            for (int64_t t = ph->lo[1]; t < CONVX_MIN(both_lo, ph->hi[1]); t++) odd[t] = src[2 * t + 1 - pad];
            for (int64_t t = CONVX_MAX(both_hi, ph->lo[1]); t < ph->hi[1]; t++) odd[t] = src[2 * t + 1 - pad];
        }
    }
}

/* The channels-first row machinery for one problem: a block of output rows of one (n, c, od)
 * plane is computed from padded input rows built once per block (k0 stacks of them), where
 * every tap of every output row is a fixed offset. Used by depthwise and fused separable. */
typedef struct {
    const convx_conv_desc *d;
    const convx_axis *ax;
    WNAME(row_phases) ph;
    int64_t row_size, rows_per_block, stack; /* padded row length; output rows per block; padded rows per kd */
    size_t scratch;                          /* bytes of per-thread scratch */
} WNAME(dw_rows_plan);

/* Per-thread scratch the row machinery may use; problems needing more (absurd paddings or
 * dilations that make padded rows or stacks huge) run through the dense path instead. */
#define CONVX_DW_ROWS_BUDGET ((double)(64 << 20))

/* Sets up the plan for blocks of at most max_rows output rows (fewer if their padded rows
 * would not fit in L2). Returns CONVX_ERR_UNSUPPORTED when the scratch would exceed the
 * budget, CONVX_ERR_NO_MEMORY when the phase tables cannot be allocated; else free it with
 * free_dw_rows. */
static convx_status WNAME(plan_dw_rows)(const convx_conv_desc *d, const convx_axis ax[3], int64_t max_rows,
                                        WNAME(dw_rows_plan) *plan) {
    const int64_t s = ax[2].stride, k0 = ax[0].kernel, taps = k0 * ax[1].kernel * ax[2].kernel;
    plan->d = d;
    plan->ax = ax;
    plan->ph.len = (ax[2].out - 1) * s + (ax[2].kernel - 1) * ax[2].dilation + 1;
    plan->ph.plen = convx_ceil_div(plan->ph.len, s);
    plan->ph.nphase = CONVX_MIN(s, plan->ph.len);
    plan->row_size = plan->ph.plen * plan->ph.nphase + CONVX_DW_ROW_SLACK; /* slack: dw_rows reads whole blocks */
    const double rows_bytes = (double)k0 * (double)plan->row_size * (double)sizeof(T);
    const double fit = (double)(192 * 1024) / (rows_bytes * (double)ax[1].stride);
    plan->rows_per_block = CONVX_MAX(1, CONVX_MIN(CONVX_MIN(max_rows, fit < 1e15 ? (int64_t)fit : max_rows), ax[1].out));
    const double stack = (double)(plan->rows_per_block - 1) * (double)ax[1].stride +
                         (double)(ax[1].kernel - 1) * (double)ax[1].dilation + 1;
    if (stack * rows_bytes + (double)(ax[2].kernel + taps) * 8 > CONVX_DW_ROWS_BUDGET) return CONVX_ERR_UNSUPPORTED;
    plan->stack = (int64_t)stack;
    plan->scratch = (size_t)(ax[2].kernel + taps) * sizeof(int64_t) + (size_t)(k0 * plan->stack * plan->row_size) * sizeof(T);
    int64_t *tables = (int64_t *)convx_alloc((size_t)(3 * plan->ph.nphase) * sizeof(int64_t));
    if (!tables) return CONVX_ERR_NO_MEMORY;
    plan->ph.count = tables;
    plan->ph.lo = tables + plan->ph.nphase;
    plan->ph.hi = tables + 2 * plan->ph.nphase;
    WNAME(plan_row_phases)(&ax[2], &plan->ph);
    plan->ph.nborder = WNAME(border_count)(&plan->ph);
    plan->ph.border = NULL;
    if ((double)plan->ph.nborder * 8 > CONVX_DW_ROWS_BUDGET) {
        convx_free(tables);
        return CONVX_ERR_UNSUPPORTED;
    }
    plan->ph.border = (int64_t *)convx_alloc((size_t)CONVX_MAX(plan->ph.nborder, 1) * sizeof(int64_t));
    if (!plan->ph.border) {
        convx_free(tables);
        return CONVX_ERR_NO_MEMORY;
    }
    WNAME(plan_border)(&ax[2], &plan->ph);
    return CONVX_OK;
}

static void WNAME(free_dw_rows)(WNAME(dw_rows_plan) *plan) {
    convx_free(plan->ph.count);
    convx_free(plan->ph.border);
}

/* Per-thread scratch for a plan: tap_start[k2], rows[taps], then the padded rows. NULL (and
 * *failed set) if out of memory. */
static int64_t *WNAME(dw_rows_scratch)(const WNAME(dw_rows_plan) *plan, int *failed) {
    int64_t *tap_start = (int64_t *)convx_thread_scratch(plan->scratch, failed);
    if (!tap_start) return NULL;
    memset(tap_start, 0, plan->scratch); /* the slack never holds garbage */
    const convx_axis *aw = &plan->ax[2];
    /* Tap kw starts in phase (kw*d) % s at offset (kw*d) / s. */
    for (int64_t kw = 0; kw < aw->kernel; kw++)
        tap_start[kw] = (kw * aw->dilation % aw->stride) * plan->ph.plen + kw * aw->dilation / aw->stride;
    return tap_start;
}

/* Output rows [oh0, oh1) of plane (n, c, od) for each multiplier m: row oh of output m goes to
 * dst + m * m_step + (oh - oh0) * row_step. w: (C*M, taps); bias per output channel or NULL. */
static void WNAME(dw_rows_block)(const WNAME(dw_rows_plan) *plan, int64_t *scratch, const T *x, const T *w,
                                 const T *bias, int64_t n, int64_t c, int64_t od, int64_t oh0, int64_t oh1, T *dst,
                                 int64_t m_step, int64_t row_step) {
    const convx_conv_desc *d = plan->d;
    const convx_axis *ax = plan->ax;
    const int64_t C = d->in_channels, M = d->out_channels / C, k0 = ax[0].kernel, k1 = ax[1].kernel;
    const int64_t k2 = ax[2].kernel, taps = k0 * k1 * k2, in1 = ax[1].in, row_size = plan->row_size;
    const int64_t sh = ax[1].stride, dh = ax[1].dilation, stack = plan->stack;
    const int64_t *tap_start = scratch;
    const T **rows = (const T **)(scratch + k2);
    T *padded = (T *)(rows + taps);
    const T *chan = x + (n * C + c) * ax[0].in * in1 * ax[2].in;
    const int64_t needed = (oh1 - oh0 - 1) * sh + (k1 - 1) * dh + 1;
    for (int64_t kd = 0; kd < k0; kd++) {
        const int64_t id = convx_axis_tap(&ax[0], od, kd);
        for (int64_t j = 0; j < needed; j++) {
            T *row = padded + (kd * stack + j) * row_size;
            const int64_t ih = id < 0 ? -1 : convx_resolve(oh0 * sh + j - ax[1].pad, in1, ax[1].mode);
            if (ih < 0)
                memset(row, 0, (size_t)(plan->ph.plen * plan->ph.nphase) * sizeof(T));
            else
                WNAME(load_padded_row)(&ax[2], &plan->ph, chan + (id * in1 + ih) * ax[2].in, row);
        }
    }
    if (k0 == 1 && k1 == 3 && k2 == 3 && (sh == 1 || (sh == 2 && dh <= 2))) {
        /* Stride 1: output rows oh0 + q, q + dh, q + 2dh, ... read padded rows dh apart, which
         * dw3x3 shares between neighbouring output rows. Stride 2: consecutive output rows, tap
         * rows dh apart and output rows 2/dh tap rows apart. */
        const int64_t groups = sh == 1 ? CONVX_MIN(dh, oh1 - oh0) : 1, rows_apart = sh == 1 ? dh : 1;
        for (int64_t m = 0; m < M; m++)
            for (int64_t q = 0; q < groups; q++)
                convx_kernels()->KT_DW3X3(ax[2].out, convx_ceil_div(oh1 - oh0 - q, rows_apart), padded + q * row_size,
                                          dh * row_size, sh == 1 ? 1 : 2 / dh, tap_start, w + (c * M + m) * taps,
                                          bias ? bias[c * M + m] : (T)0, dst + m * m_step + q * row_step,
                                          rows_apart * row_step);
        return;
    }
    /* Taps of the block's first output row; row oh reads (oh - oh0) * sh rows further on. */
    for (int64_t kd = 0; kd < k0; kd++)
        for (int64_t kh = 0; kh < k1; kh++) {
            const T *row = padded + (kd * stack + kh * dh) * row_size;
            for (int64_t kw = 0; kw < k2; kw++) rows[(kd * k1 + kh) * k2 + kw] = row + tap_start[kw];
        }
    for (int64_t m = 0; m < M; m++)
        convx_kernels()->KT_DW_ROWS(ax[2].out, oh1 - oh0, taps, rows, sh * row_size, w + (c * M + m) * taps,
                                    bias ? bias[c * M + m] : (T)0, dst + m * m_step, row_step);
}

static convx_status WNAME(depthwise_channels_first)(const convx_conv_desc *d, const convx_axis ax[3],
                                                    const T *x, const T *w, const T *bias, T *y,
                                                    int num_threads) {
    const int64_t C = d->in_channels, M = d->out_channels / C;
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out, P = out0 * out1 * out2;
    /* Tasks are blocks of output rows of one plane: enough blocks to feed every thread. */
    const int64_t planes = d->batch * C * out0;
    WNAME(dw_rows_plan) plan;
    const convx_status planned = WNAME(plan_dw_rows)(d, ax, convx_ceil_div(out1 * planes, 4 * (int64_t)num_threads), &plan);
    if (planned != CONVX_OK) return planned;
    const int64_t blocks = convx_ceil_div(out1, plan.rows_per_block), tasks = planes * blocks;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        int64_t *scratch = WNAME(dw_rows_scratch)(&plan, &failed);
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (!scratch) continue;
            const int64_t block = task % blocks, plane = task / blocks;
            const int64_t od = plane % out0, c = (plane / out0) % C, n = plane / (out0 * C);
            const int64_t oh0 = block * plan.rows_per_block, oh1 = CONVX_MIN(out1, oh0 + plan.rows_per_block);
            T *dst = y + (n * C * M + c * M) * P + (od * out1 + oh0) * out2;
            WNAME(dw_rows_block)(&plan, scratch, x, w, bias, n, c, od, oh0, oh1, dst, P, out2);
        }
        convx_free(scratch);
    }
    WNAME(free_dw_rows)(&plan);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* Per-thread scratch of the channels-last row: rows[taps], row_base[k0*k1], a zero pixel, and
 * with a depth multiplier M > 1 the outputs of one pixel grouped by m (out_m[m][c]) and the
 * bias in the same order. */
typedef struct {
    const T **rows, **row_base;
    T *zero, *out_m, *bias_m;
} WNAME(dw_cl_scratch);

static size_t WNAME(dw_cl_scratch_bytes)(const convx_conv_desc *d) {
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2], Cout = d->out_channels;
    return (size_t)(taps + d->kernel[0] * d->kernel[1]) * sizeof(T *) + (size_t)(3 * Cout) * sizeof(T);
}

/* Carves the scratch out of `block` (dw_cl_scratch_bytes of it; NULL gives NULL pointers). */
static WNAME(dw_cl_scratch) WNAME(dw_cl_carve)(const convx_conv_desc *d, const T *bias, void *block) {
    WNAME(dw_cl_scratch) s = {NULL, NULL, NULL, NULL, NULL};
    if (!block) return s;
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2], C = d->in_channels, Cout = d->out_channels;
    const int64_t M = Cout / C;
    s.rows = (const T **)block;
    s.row_base = s.rows + taps;
    s.zero = (T *)(s.row_base + d->kernel[0] * d->kernel[1]);
    s.out_m = s.zero + Cout;
    s.bias_m = bias ? s.out_m + Cout : NULL;
    for (int64_t co = 0; co < Cout; co++) s.zero[co] = 0;
    for (int64_t co = 0; s.bias_m && co < Cout; co++) s.bias_m[(co % M) * C + co / M] = bias[co];
    return s;
}

/* Output row (n, od, oh), channels-last, into yrow (out2 pixels of out_channels). wt: the
 * weights as [m][tap][channel] (depthwise_pack), so each tap of each m is one contiguous
 * vector over the input channels; with M > 1 the M outputs of each input channel are
 * computed apart and interleaved. */
static void WNAME(dw_cl_row)(const convx_conv_desc *d, const convx_axis ax[3], const WNAME(dw_cl_scratch) *s,
                             const T *x, const T *wt, const T *bias, int64_t n, int64_t od, int64_t oh, T *yrow) {
    const int64_t C = d->in_channels, Cout = d->out_channels, M = Cout / C;
    const int64_t k0 = ax[0].kernel, k1 = ax[1].kernel, k2 = ax[2].kernel, taps = k0 * k1 * k2;
    const int64_t in1 = ax[1].in, in2 = ax[2].in, Pin = ax[0].in * in1 * in2;
    for (int64_t kd = 0; kd < k0; kd++) {
        const int64_t id = convx_axis_tap(&ax[0], od, kd);
        for (int64_t kh = 0; kh < k1; kh++) {
            const int64_t ih = id < 0 ? -1 : convx_axis_tap(&ax[1], oh, kh);
            s->row_base[kd * k1 + kh] = ih < 0 ? NULL : x + n * Pin * C + (id * in1 + ih) * in2 * C;
        }
    }
    for (int64_t ow = 0; ow < ax[2].out; ow++) {
        for (int64_t kw = 0; kw < k2; kw++) {
            const int64_t iw = convx_axis_tap(&ax[2], ow, kw);
            for (int64_t r = 0; r < k0 * k1; r++)
                s->rows[r * k2 + kw] = (s->row_base[r] && iw >= 0) ? s->row_base[r] + iw * C : s->zero;
        }
        T *out = yrow + ow * Cout;
        if (M == 1) {
            convx_kernels()->KT_DW_CHANNELS(C, taps, s->rows, wt, bias, out);
            continue;
        }
        for (int64_t m = 0; m < M; m++)
            convx_kernels()->KT_DW_CHANNELS(C, taps, s->rows, wt + m * taps * C, bias ? s->bias_m + m * C : NULL,
                                            s->out_m + m * C);
        for (int64_t c = 0; c < C; c++)
            for (int64_t m = 0; m < M; m++) out[c * M + m] = s->out_m[m * C + c];
    }
}

static convx_status WNAME(depthwise_channels_last)(const convx_conv_desc *d, const convx_axis ax[3],
                                                   const T *x, const T *wt, const T *bias, T *y,
                                                   int num_threads) {
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out;
    const int64_t tasks = d->batch * out0 * out1;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        void *block = convx_thread_scratch(WNAME(dw_cl_scratch_bytes)(d), &failed);
        const WNAME(dw_cl_scratch) scratch = WNAME(dw_cl_carve)(d, bias, block);
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (!block) continue;
            const int64_t oh = task % out1, od = (task / out1) % out0, n = task / (out1 * out0);
            WNAME(dw_cl_row)(d, ax, &scratch, x, wt, bias, n, od, oh, y + ((n * out0 + od) * out1 + oh) * out2 * d->out_channels);
        }
        convx_free(block);
    }
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* The weights as the layout's kernel reads them: as given (C*M, taps) for channels-first,
 * as [m][tap][c] for channels-last (for M = 1, [tap][c]). */
T *WNAME(depthwise_pack)(const convx_conv_desc *d, const T *w) {
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2], C = d->in_channels, Cout = d->out_channels;
    const int64_t M = Cout / C;
    T *packed = (T *)convx_alloc((size_t)(taps * Cout) * sizeof(T));
    if (!packed) return NULL;
    for (int64_t co = 0; co < Cout; co++)
        for (int64_t t = 0; t < taps; t++)
            packed[d->layout == CONVX_CHANNELS_FIRST ? co * taps + t : ((co % M) * taps + t) * C + co / M] =
                w[co * taps + t];
    return packed;
}

convx_status WNAME(depthwise_run)(const convx_conv_desc *d, const T *packed, const T *bias, const T *x,
                                  T *y, int num_threads) {
    convx_axis ax[3];
    convx_axes_from_desc(d, ax);
    if (d->batch == 0 || ax[0].out * ax[1].out * ax[2].out == 0 || d->out_channels == 0) return CONVX_OK;
    if (d->layout == CONVX_CHANNELS_LAST) return WNAME(depthwise_channels_last)(d, ax, x, packed, bias, y, num_threads);
    convx_status status = WNAME(depthwise_channels_first)(d, ax, x, packed, bias, y, num_threads);
    if (status == CONVX_ERR_UNSUPPORTED) { /* rows too large for the row machinery: the dense path */
        T *a = WNAME(dense_pack)(d, packed);   /* channels-first packed = the weights as given */
        if (!a) return CONVX_ERR_NO_MEMORY;
        status = WNAME(dense_run)(d, a, bias, x, y, num_threads);
        convx_free(a);
    }
    return status;
}

#undef WNAME
