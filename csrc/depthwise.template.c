/* Depthwise convolution (groups == in_channels, any depth multiplier M), and grouped
 * convolution whose groups fit in a vector (G = in = out channels per group, G dividing LANES),
 * for one element type. Memory-bound (depthwise) or short in K (small groups), so it streams the
 * input once instead of packing a GEMM operand:
 *  - channel blocks (depthwise, small groups; either layout): per tile of
 *    output rows and block of LANES channels, the input the tile reads is copied into a band
 *    holding a pixel's LANES channels side by side (padding resolved, as the dense direct path's
 *    bands; channels-first transposes), and dw_pixels computes LANES channels of a pixel per
 *    vector FMA, so stride, dilation and kernel size are only addresses. With groups of G, each
 *    band pixel is spread into G vectors (vector i: input channel i of each lane's group), so a
 *    group's reduction is G more taps of the same kernel;
 *  - channels-last depthwise with many channels and few taps (channel_blocks): each output
 *    pixel is one dw_channels call over pointers to input pixels, read in place;
 *  - channels-first depthwise with 7-row filters (rows_path): each channel's tile is copied into
 *    a band of its own and dw_rows runs vectors along its rows, sharing each input row loaded
 *    among the 7 filter rows that read it.
 * The including file defines T, SFX, KT_LANES, KT_INTERLEAVE, KT_DW_PIXELS, KT_SPREAD,
 * KT_DW_CHANNELS, KT_DW_ROWS; included after dense.template.c, whose band machinery
 * (plan_direct, fill_band) it uses. */

#define WNAME(name) CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, SFX))

/* Does a problem of this algorithm (plan.c's small_groups) run on channel blocks? All but
 * channels-last depthwise that reads its input in place more cheaply than it copies it into
 * bands: one output per input channel, many channels, few taps per input pixel (taps <= 9 x
 * strides: 3x3, or 5x5 at stride 2). Measured, channels-last in place vs blocks: 3x3 with 128
 * channels 1.1x (stride 1) and 2x (stride 2) faster; 5x5 2x, multiplier 2 1.6x, 3x3 with 32
 * channels at 112x112 1.5x slower. */
static int WNAME(channel_blocks)(const convx_conv_desc *d) {
    if (d->transposed) return 0; /* depthwise_transposed_channels_last */
    if (d->groups < d->in_channels || d->layout == CONVX_CHANNELS_FIRST) return 1;
    int64_t taps = 1, strides = 1;
    for (int i = 0; i < CONVX_MAX_SPATIAL; i++) taps *= d->kernel[i], strides *= d->stride[i];
    return d->out_channels != d->in_channels || d->in_channels < 64 || taps > 9 * strides;
}

/* The channel-block machinery for one problem: tiles of whole output rows (or pieces of one
 * long row) of one (n, od) plane, a band per tile and channel block. Used by depthwise, small
 * groups and fused separable. */
typedef struct {
    const convx_conv_desc *d;
    const convx_axis *ax;
    WNAME(direct_plan) tiles;  /* band positions hold group * lanes values */
    int64_t lanes, blocks;     /* channels per block, blocks */
    int64_t group, multiplier; /* G input channels per group (1: depthwise), M outputs per input */
    int64_t *off;              /* taps x G: where each (tap, i) sits in the band from a pixel's first tap */
    int64_t slack;             /* elements after the band that dw_pixels may read */
    size_t scratch;            /* bytes of per-thread scratch */
} WNAME(dw_blocks_plan);

/* Bands of at most 128 KiB (L2-resident next to the output rows being written); tiles up to
 * `target` output pixels. `split_blocks`: tasks are (tile, channel block) pairs, not tiles with
 * every block, when the tiles of a plane are made a multiple of the threads. */
static convx_status WNAME(plan_dw_blocks)(const convx_conv_desc *d, const convx_axis ax[3], int64_t target,
                                          int split_blocks, int num_threads, WNAME(dw_blocks_plan) *plan) {
    const int64_t lanes = convx_kernels()->KT_LANES, k1 = ax[1].kernel, k2 = ax[2].kernel;
    const int64_t taps = ax[0].kernel * k1 * k2, G = d->in_channels / d->groups, unit = G * lanes;
    plan->d = d;
    plan->ax = ax;
    plan->lanes = lanes;
    plan->blocks = convx_ceil_div(d->in_channels, lanes);
    plan->group = G;
    plan->multiplier = d->out_channels / d->in_channels;
    const int64_t planes = d->batch * ax[0].out * (split_blocks ? plan->blocks : 1);
    plan->tiles = WNAME(plan_direct)(ax, planes, unit, target, 128 << 10, num_threads);
    plan->off = (int64_t *)convx_alloc((size_t)(taps * G) * sizeof(int64_t));
    if (!plan->off) return CONVX_ERR_NO_MEMORY;
    const WNAME(band_axis) *b = plan->tiles.band;
    const int64_t W = b[2].count, HW = b[1].count * W;
    for (int64_t t = 0; t < taps; t++)
        for (int64_t i = 0; i < G; i++)
            plan->off[t * G + i] = ((t / (k1 * k2)) * b[0].tap_step * HW + ((t / k2) % k1) * b[1].tap_step * W +
                                    (t % k2) * b[2].tap_step) * unit + i * lanes;
    /* per thread: the band (first: vectors aligned) and the slack dw_pixels may read past it,
     * with groups the band before spreading, the bias of a block per multiplier, the band's
     * column runs */
    plan->slack = CONVX_DW_SLACK_PIXELS * ax[2].stride * unit;
    plan->scratch = (size_t)(plan->tiles.band_count + plan->slack + (G > 1 ? plan->tiles.band_count / G : 0) +
                             plan->multiplier * lanes) * sizeof(T) +
                    (size_t)(3 * W) * sizeof(int64_t);
    return CONVX_OK;
}

/* Output tile r of plane (n, od) for channel block cb and every multiplier m: output channel
 * co of the tile's pixel (r.oh0 + i, r.ow0 + j) goes to dst + co * c_step + i * row_step +
 * j * pix_step. w: packed by depthwise_pack; bias per output channel or NULL. padding_done: this
 * scratch's last tile was the same (od, r), so its band's zero padding is already there. */
static void WNAME(dw_blocks_tile)(const WNAME(dw_blocks_plan) *plan, T *scratch, const T *x, const T *w,
                                  const T *bias, int64_t n, int64_t od, const WNAME(tile_rect) *r, int64_t cb,
                                  int padding_done, T *dst, int64_t c_step, int64_t row_step, int64_t pix_step) {
    const convx_conv_desc *d = plan->d;
    const convx_axis *ax = plan->ax;
    const WNAME(direct_plan) *t = &plan->tiles;
    const convx_kernel_table *kt = convx_kernels();
    const int64_t C = d->in_channels, M = plan->multiplier, G = plan->group, L = plan->lanes, unit = t->unit;
    const int64_t taps = ax[0].kernel * ax[1].kernel * ax[2].kernel, Pin = ax[0].in * ax[1].in * ax[2].in;
    const int64_t c0 = cb * L, nc = CONVX_MIN(L, C - c0), W = t->band[2].count;
    const int64_t oh0 = r->oh0, oh1 = r->oh1, ow0 = r->ow0, ow1 = r->ow1;
    const int channels_last = d->layout == CONVX_CHANNELS_LAST;
    T *band = scratch, *band0 = band + t->band_count + plan->slack;
    T *bias_m = band0 + (G > 1 ? t->band_count / G : 0);
    int64_t *runs = (int64_t *)(bias_m + M * L);
    const T *xc = x + (channels_last ? n * Pin * C + c0 : (n * C + c0) * Pin);
    if (G == 1) {
        WNAME(fill_band)(ax, t, channels_last, C, nc, xc, od, oh0, ow0, runs, padding_done, band);
    } else { /* the band of LANES channels per position, then each position spread for its groups */
        WNAME(direct_plan) narrow = *t;
        narrow.unit = L;
        WNAME(fill_band)(ax, &narrow, channels_last, C, nc, xc, od, oh0, ow0, runs, padding_done, band0);
        kt->KT_SPREAD(t->band_count / unit, G, band0, band);
    }
    /* output channel of lane l, multiplier m: (c / G) * G * M + m * G + c % G for c = c0 + l,
     * so lanes are M channels apart for depthwise, 1 for groups (M = 1) */
    const int64_t lane_step = (G == 1 ? M : 1) * c_step;
    for (int64_t m = 0; bias && m < M; m++)
        for (int64_t l = 0; l < L; l++)
            bias_m[m * L + l] = l < nc ? bias[((c0 + l) / G) * G * M + m * G + (c0 + l) % G] : (T)0;
    for (int64_t m = 0; m < M; m++)
        for (int64_t oh = oh0; oh < oh1; oh++)
            kt->KT_DW_PIXELS(ow1 - ow0, taps * G, plan->off, G == 1 ? ax[2].kernel : 1, t->band[2].tap_step * L,
                             band + (oh - oh0) * ax[1].stride * W * unit, ax[2].stride * unit,
                             w + (cb * M + m) * taps * G * L, bias ? bias_m + m * L : NULL,
                             dst + (c0 * M + m * G) * c_step + (oh - oh0) * row_step, pix_step, lane_step, nc);
}

/* Per-thread scratch for a plan (NULL, and *failed set, when out of memory), the band's
 * slack zeroed: its values reach only outputs that are never stored, but are read. */
static T *WNAME(dw_blocks_scratch)(const WNAME(dw_blocks_plan) *plan, int *failed) {
    T *scratch = (T *)convx_thread_scratch(plan->scratch, failed);
    if (scratch) memset(scratch + plan->tiles.band_count, 0, (size_t)plan->slack * sizeof(T));
    return scratch;
}

static convx_status WNAME(channel_blocks_run)(const convx_conv_desc *d, const convx_axis ax[3], const T *x,
                                              const T *w, const T *bias, T *y, int num_threads) {
    const int64_t Cout = d->out_channels;
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out, P = out0 * out1 * out2;
    const int channels_last = d->layout == CONVX_CHANNELS_LAST;
    WNAME(dw_blocks_plan) plan;
    const convx_status planned = WNAME(plan_dw_blocks)(d, ax, 4096, 1, num_threads, &plan);
    if (planned != CONVX_OK) return planned;
    const int64_t tiles = plan.tiles.row_blocks * plan.tiles.col_blocks;
    const int64_t tasks = d->batch * out0 * plan.blocks * tiles;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        T *scratch = WNAME(dw_blocks_scratch)(&plan, &failed);
        int64_t last_plane_tile = -1; /* (od, tile) of this thread's last band */
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (!scratch) continue;
            const int64_t tile = task % tiles, cb = (task / tiles) % plan.blocks;
            const int64_t od = (task / (tiles * plan.blocks)) % out0, n = task / (tiles * plan.blocks * out0);
            const WNAME(tile_rect) r = WNAME(tile_at)(&plan.tiles, ax, tile);
            const int64_t p = (od * out1 + r.oh0) * out2 + r.ow0; /* the tile's first pixel */
            const int same = od * tiles + tile == last_plane_tile;
            last_plane_tile = od * tiles + tile;
            if (channels_last)
                WNAME(dw_blocks_tile)(&plan, scratch, x, w, bias, n, od, &r, cb, same, y + (n * P + p) * Cout, 1,
                                      out2 * Cout, Cout);
            else
                WNAME(dw_blocks_tile)(&plan, scratch, x, w, bias, n, od, &r, cb, same, y + n * Cout * P + p, P, out2, 1);
        }
        convx_free(scratch);
    }
    convx_free(plan.off);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* Channels-first 2-D depthwise along rows (problems rows_path admits): per tile of output rows
 * and block of DW_ROWS_CHANNELS input channels, the input the tile reads is copied into a band
 * per channel (padding resolved), and dw_rows computes the tile for every multiplier with
 * vectors along its rows: no transposes, and vectors as wide as the GEMM's. wr: the weights as
 * [C_out][tap]. */
#define DW_ROWS_CHANNELS 8 /* channels per band fill: its per-row work is shared */
static convx_status WNAME(depthwise_rows_run)(const convx_conv_desc *d, const convx_axis ax[3], const T *x,
                                              const T *wr, const T *bias, T *y, int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t C = d->in_channels, Cout = d->out_channels, M = Cout / C, taps = ax[1].kernel * ax[2].kernel;
    const int64_t out1 = ax[1].out, out2 = ax[2].out, P = out1 * out2, Pin = ax[1].in * ax[2].in;
    const int64_t blocks = convx_ceil_div(C, DW_ROWS_CHANNELS);
    const WNAME(direct_plan) tiles =
        WNAME(plan_direct)(ax, d->batch * blocks, 1, 4096, (128 << 10) / DW_ROWS_CHANNELS, num_threads);
    const WNAME(band_axis) *bw = &tiles.band[2];
    const int64_t W = bw->count, per_plane = tiles.row_blocks * tiles.col_blocks;
    const int64_t tasks = d->batch * blocks * per_plane;
    const int64_t band_elems = DW_ROWS_CHANNELS * tiles.band_count + CONVX_DW_ROW_SLACK;
    /* rounded up to whole int64_t: the column runs that follow are aligned */
    const size_t band_bytes = (size_t)convx_ceil_div(band_elems * (int64_t)sizeof(T), 8) * 8;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        /* per thread: the bands and their slack, then the bands' column runs. A row's last
         * vector reads past it, into the next row, the next channel's band (unfilled in a short
         * channel block) or the zeroed slack: lanes that are never stored. */
        T *band = (T *)convx_thread_scratch(band_bytes + (size_t)(3 * W) * sizeof(int64_t), &failed);
        if (band) memset(band + DW_ROWS_CHANNELS * tiles.band_count, 0, CONVX_DW_ROW_SLACK * sizeof(T));
        int64_t *runs = band ? (int64_t *)((char *)band + band_bytes) : NULL;
        int64_t last_tile = -1, last_nc = 0;
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (!band) continue;
            const int64_t cb = task % blocks, n = (task / blocks) % d->batch, tile = task / (blocks * d->batch);
            const int64_t c0 = cb * DW_ROWS_CHANNELS, nc = CONVX_MIN(DW_ROWS_CHANNELS, C - c0);
            const WNAME(tile_rect) r = WNAME(tile_at)(&tiles, ax, tile);
            /* a thread's tasks come in runs of one tile: its zero padding is written once */
            WNAME(fill_band)(ax, &tiles, 0, C, nc, x + (n * C + c0) * Pin, 0, r.oh0, r.ow0, runs,
                             tile == last_tile && nc == last_nc, band);
            last_tile = tile, last_nc = nc;
            for (int64_t co = c0 * M; co < (c0 + nc) * M; co++)
                kt->KT_DW_ROWS(r.oh1 - r.oh0, r.ow1 - r.ow0, band + (co / M - c0) * tiles.band_count, W, ax[2].kernel,
                               bw->tap_step, wr + co * taps, bias ? bias[co] : (T)0,
                               y + (n * Cout + co) * P + r.oh0 * out2 + r.ow0, out2);
        }
        convx_free(band);
    }
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}
#undef DW_ROWS_CHANNELS

/* Per-thread scratch of the channels-last row: rows[taps], row_base[k0*k1], a zero pixel. */
typedef struct {
    const T **rows, **row_base;
    T *zero;
} WNAME(dw_cl_scratch);

static size_t WNAME(dw_cl_scratch_bytes)(const convx_conv_desc *d) {
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2];
    return (size_t)(taps + d->kernel[0] * d->kernel[1]) * sizeof(T *) + (size_t)d->in_channels * sizeof(T);
}

/* Carves the scratch out of `block` (dw_cl_scratch_bytes of it; NULL gives NULL pointers). */
static WNAME(dw_cl_scratch) WNAME(dw_cl_carve)(const convx_conv_desc *d, void *block) {
    WNAME(dw_cl_scratch) s = {NULL, NULL, NULL};
    if (!block) return s;
    s.rows = (const T **)block;
    s.row_base = s.rows + d->kernel[0] * d->kernel[1] * d->kernel[2];
    s.zero = (T *)(s.row_base + d->kernel[0] * d->kernel[1]);
    for (int64_t c = 0; c < d->in_channels; c++) s.zero[c] = 0;
    return s;
}

/* Output pixels [ow0, ow1) of row (n, od, oh), channels-last, one output per input channel
 * (channel_blocks decides), into yrow. wt: the weights as [tap][channel] (depthwise_pack), so
 * each tap is one contiguous vector over the channels. */
static void WNAME(dw_cl_row)(const convx_conv_desc *d, const convx_axis ax[3], const WNAME(dw_cl_scratch) *s,
                             const T *x, const T *wt, const T *bias, int64_t n, int64_t od, int64_t oh, int64_t ow0,
                             int64_t ow1, T *yrow) {
    const int64_t C = d->in_channels;
    const int64_t k0 = ax[0].kernel, k1 = ax[1].kernel, k2 = ax[2].kernel, taps = k0 * k1 * k2;
    const int64_t in1 = ax[1].in, in2 = ax[2].in, Pin = ax[0].in * in1 * in2;
    for (int64_t kd = 0; kd < k0; kd++) {
        const int64_t id = convx_axis_tap(&ax[0], od, kd);
        for (int64_t kh = 0; kh < k1; kh++) {
            const int64_t ih = id < 0 ? -1 : convx_axis_tap(&ax[1], oh, kh);
            s->row_base[kd * k1 + kh] = ih < 0 ? NULL : x + n * Pin * C + (id * in1 + ih) * in2 * C;
        }
    }
    for (int64_t ow = ow0; ow < ow1; ow++) {
        for (int64_t kw = 0; kw < k2; kw++) {
            const int64_t iw = convx_axis_tap(&ax[2], ow, kw);
            for (int64_t r = 0; r < k0 * k1; r++)
                s->rows[r * k2 + kw] = (s->row_base[r] && iw >= 0) ? s->row_base[r] + iw * C : s->zero;
        }
        convx_kernels()->KT_DW_CHANNELS(C, taps, s->rows, wt, bias, yrow + (ow - ow0) * C, 1, 0, 0);
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
        const WNAME(dw_cl_scratch) scratch = WNAME(dw_cl_carve)(d, block);
#pragma omp for schedule(static)
        for (int64_t task = 0; task < tasks; task++) {
            if (!block) continue;
            const int64_t oh = task % out1, od = (task / out1) % out0, n = task / (out1 * out0);
            WNAME(dw_cl_row)(d, ax, &scratch, x, wt, bias, n, od, oh, 0, out2,
                             y + ((n * out0 + od) * out1 + oh) * out2 * d->out_channels);
        }
        convx_free(block);
    }
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* Channels-last depthwise transposed convolution (one output per channel), pixel by pixel.
 * Output o = phase + stride * m (per axis) sums only its phase combination's taps (phase_taps),
 * tap k reading input m + tap_shift(k): one dw_channels call over the combination's taps,
 * their weights gathered tap-major per call ([tap][channel]); a border pixel, some of whose
 * taps leave the input, sums just the taps that reach it. Pixels of phases no tap reaches
 * are the bias. wt: the weights as [tap][channel] (depthwise_pack's pixel form). */
static convx_status WNAME(depthwise_transposed_channels_last)(const convx_conv_desc *d, const convx_axis ax[3],
                                                              const T *x, const T *wt, const T *bias, T *y,
                                                              int num_threads) {
    const int64_t C = d->in_channels, k1 = ax[1].kernel, k2 = ax[2].kernel, taps = ax[0].kernel * k1 * k2;
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out, in1 = ax[1].in, in2 = ax[2].in;
    const int64_t Pin = ax[0].in * in1 * in2, rows_count = d->batch * out0 * out1;
    WNAME(phase_taps) pt;
    if (WNAME(plan_phase_taps)(ax, &pt) != CONVX_OK) return CONVX_ERR_NO_MEMORY;
    const int64_t combos = pt.count[0] * pt.count[1] * pt.count[2];
    /* per axis and output: its phase's index in pt (-1: no tap reaches it); per combination:
     * where its weights start in wc, [its j-th tap][channel]; per axis and tap: its shift */
    const int64_t kernels = ax[0].kernel + k1 + k2;
    int64_t *phase_of = (int64_t *)convx_alloc((size_t)(out0 + out1 + out2 + combos + kernels) * sizeof(int64_t));
    T *wc = (T *)convx_alloc((size_t)CONVX_MAX(taps * C, 1) * sizeof(T));
    if (!phase_of || !wc) {
        convx_free(phase_of), convx_free(wc), convx_free(pt.phase[0]);
        return CONVX_ERR_NO_MEMORY;
    }
    int64_t *axis_phase[3] = {phase_of, phase_of + out0, phase_of + out0 + out1}, *wc_start = phase_of + out0 + out1 + out2;
    int64_t *shift[3] = {wc_start + combos, wc_start + combos + ax[0].kernel, wc_start + combos + ax[0].kernel + k1};
    for (int i = 0; i < 3; i++) /* tap k of axis i reads input o / stride + shift[i][k] */
        for (int64_t k = 0; k < ax[i].kernel; k++) shift[i][k] = WNAME(tap_shift)(&ax[i], k);
    for (int i = 0; i < 3; i++)
        for (int64_t o = 0; o < ax[i].out; o++) {
            axis_phase[i][o] = -1;
            for (int64_t j = 0; j < pt.count[i]; j++)
                if (pt.phase[i][j] == o % ax[i].stride) axis_phase[i][o] = j;
        }
    int w_gaps = 0; /* some output column that no tap reaches */
    for (int64_t o = 0; o < out2; o++) w_gaps |= axis_phase[2][o] < 0;
    for (int64_t c = 0, start = 0; c < combos; c++) {
        int64_t p[3];
        const int64_t ntaps = WNAME(phase_combination)(&pt, c, p);
        wc_start[c] = start;
        for (int64_t j = 0; j < ntaps; j++, start += C) {
            int64_t t[3];
            memcpy(wc + start, wt + WNAME(combination_tap)(&pt, p, ax, j, t) * C, (size_t)C * sizeof(T));
        }
    }
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && rows_count > 1)
    {
        /* per thread: a pixel's tap inputs (NULL outside the input), the row's input rows */
        const T **src = (const T **)convx_thread_scratch((size_t)(taps + ax[0].kernel * k1) * sizeof(T *), &failed);
        const T **in_row = src ? src + taps : NULL;
#pragma omp for schedule(static)
        for (int64_t row = 0; row < rows_count; row++) {
            if (!src) continue;
            const int64_t oh = row % out1, od = (row / out1) % out0, n = row / (out1 * out0);
            const int64_t p0 = axis_phase[0][od], p1 = axis_phase[1][oh];
            T *yrow = y + row * out2 * C;
            const int64_t n0 = p0 < 0 ? 0 : pt.first[0][p0 + 1] - pt.first[0][p0];
            const int64_t n1 = p1 < 0 ? 0 : pt.first[1][p1 + 1] - pt.first[1][p1];
            for (int64_t j = 0; j < n0 * n1; j++) { /* the input row each (D, H) tap pair reads */
                const int64_t id = od / ax[0].stride + shift[0][pt.tap[0][pt.first[0][p0] + j / n1]];
                const int64_t ih = oh / ax[1].stride + shift[1][pt.tap[1][pt.first[1][p1] + j % n1]];
                in_row[j] = id >= 0 && id < ax[0].in && ih >= 0 && ih < in1 ? x + (n * Pin + id * in1 * in2 + ih * in2) * C
                                                                             : NULL;
            }
            int row_inside = n0 * n1 > 0; /* every (D, H) tap pair reads an input row */
            for (int64_t j = 0; j < n0 * n1; j++) row_inside &= in_row[j] != NULL;
            if (n0 * n1 == 0 || w_gaps) /* outputs no tap reaches: the bias */
                for (int64_t ow = 0; ow < out2; ow++)
                    for (int64_t ch = 0; ch < C; ch++) yrow[ow * C + ch] = bias ? bias[ch] : (T)0;
            for (int64_t p2 = 0; n0 * n1 > 0 && p2 < pt.count[2]; p2++) { /* the W phases, m along each */
                const int64_t ph2 = pt.phase[2][p2], t2 = pt.first[2][p2], n2 = pt.first[2][p2 + 1] - t2;
                const int64_t cols = ph2 < out2 ? convx_ceil_div(out2 - ph2, ax[2].stride) : 0, ntaps = n0 * n1 * n2;
                const T *w = wc + wc_start[(p0 * pt.count[1] + p1) * pt.count[2] + p2];
                /* columns [m_lo, m_hi) have every W tap inside: their inputs step by a pixel */
                int64_t m_lo = 0, m_hi = cols;
                for (int64_t j2 = 0; j2 < n2; j2++) {
                    const int64_t sh = shift[2][pt.tap[2][t2 + j2]];
                    m_lo = CONVX_MAX(m_lo, -sh), m_hi = CONVX_MIN(m_hi, in2 - sh);
                }
                if (!row_inside) m_lo = m_hi = 0;
                for (int64_t m = 0; m < cols; m++) {
                    T *out = yrow + (ph2 + ax[2].stride * m) * C;
                    int64_t reached = 0; /* taps whose input is inside */
                    for (int64_t j = 0; j < n0 * n1; j++)
                        for (int64_t j2 = 0; j2 < n2; j2++) {
                            const int64_t iw = m + shift[2][pt.tap[2][t2 + j2]];
                            const T *at = in_row[j] && iw >= 0 && iw < in2 ? in_row[j] + iw * C : NULL;
                            src[j * n2 + j2] = at;
                            reached += at != NULL;
                        }
                    if (reached < ntaps) { /* a border pixel: just the taps that reach it */
                        for (int64_t ch = 0; ch < C; ch++) out[ch] = bias ? bias[ch] : (T)0;
                        for (int64_t j = 0; j < ntaps; j++)
                            for (int64_t ch = 0; src[j] && ch < C; ch++) out[ch] += w[j * C + ch] * src[j][ch];
                        continue;
                    }
                    /* the interior run from here: one kernel call, each tap's input a pixel on per pixel */
                    const int64_t run = m >= m_lo && m < m_hi ? m_hi - m : 1;
                    convx_kernels()->KT_DW_CHANNELS(C, ntaps, src, w, bias, out, run, C, ax[2].stride * C);
                    m += run - 1;
                }
            }
        }
        convx_free((void *)src);
    }
    convx_free(wc);
    convx_free(phase_of);
    convx_free(pt.phase[0]);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* Elements of the channel-block weights, [block][m][tap][i][LANES] (lane l of block b: input
 * channel c = b*LANES + l, its output channel for m, its group's input channel i; zeros past C). */
static int64_t WNAME(blocks_weights)(const convx_conv_desc *d) {
    const int64_t L = convx_kernels()->KT_LANES, G = d->in_channels / d->groups;
    return convx_ceil_div(d->in_channels, L) * L * (d->out_channels / d->in_channels) * G * d->kernel[0] *
           d->kernel[1] * d->kernel[2];
}

/* Can a channels-first depthwise layer run on rows (depthwise_rows_run)? A 2-D filter
 * CONVX_DW_ROWS_HEIGHT (7) rows high and 7 or more wide: there each input row loaded serves 7
 * filter rows, which beats the channel blocks' transposes (measured on two AVX-512 machines:
 * 7x7 1.1-1.75x faster). Elsewhere rows lose: 5x5 0.8-1.2x by machine, 3x3 slower, other
 * heights or 1-D (each input row loaded for one filter row only) 0.77-0.88x. */
static int WNAME(rows_filter)(const convx_conv_desc *d) {
    return d->layout == CONVX_CHANNELS_FIRST && d->groups == d->in_channels && d->kernel[0] == 1 &&
           d->kernel[1] == CONVX_DW_ROWS_HEIGHT && d->kernel[2] >= 7;
}

/* Does a problem run on rows? Its filter can, at unit strides and vertical dilation, with output
 * rows 14 or more wide (shorter ones measured slower). */
static int WNAME(rows_path)(const convx_conv_desc *d, const convx_axis ax[3]) {
    return WNAME(rows_filter)(d) && ax[0].in == 1 && ax[0].out == 1 && ax[1].stride == 1 && ax[1].dilation == 1 &&
           ax[2].stride == 1 && ax[2].out >= 14;
}

/* The weights as the kernels read them: the channel-block form, then for depthwise whose path
 * depends on the stride (not part of a packed layer) the other path's form too: channels-last
 * with one output per channel [tap][c] for the pixel-by-pixel path (channel_blocks),
 * channels-first [C_out][tap] (the weight as given) for the row path (rows_filter). */
T *WNAME(depthwise_pack)(const convx_conv_desc *d, const T *w) {
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2], C = d->in_channels;
    const int64_t G = C / d->groups, M = d->out_channels / C, L = convx_kernels()->KT_LANES;
    const int64_t nblocks = WNAME(blocks_weights)(d);
    const int pixels = G == 1 && M == 1 && d->layout == CONVX_CHANNELS_LAST;
    const int rows = WNAME(rows_filter)(d);
    const size_t count = (size_t)(nblocks + (pixels || rows ? C * M * taps : 0));
    T *packed = (T *)convx_alloc(CONVX_MAX(count, 1) * sizeof(T));
    if (!packed) return NULL;
    memset(packed, 0, count * sizeof(T));
    if (rows) memcpy(packed + nblocks, w, (size_t)(C * M * taps) * sizeof(T));
    for (int64_t c = 0; c < C; c++)
        for (int64_t m = 0; m < M; m++) {
            const int64_t co = (c / G) * G * M + m * G + c % G; /* w is (C_out, G, taps) */
            for (int64_t t = 0; t < taps; t++)
                for (int64_t i = 0; i < G; i++) {
                    const T v = w[(co * G + i) * taps + t];
                    packed[((((c / L) * M + m) * taps + t) * G + i) * L + c % L] = v;
                    if (pixels) packed[nblocks + t * C + c] = v;
                }
        }
    return packed;
}

/* The weights a problem's path reads (packed by depthwise_pack for its layer): on rows, or by
 * channel_blocks (a separable's depthwise step never runs on rows). */
static const T *WNAME(depthwise_weights)(const convx_conv_desc *d, int on_rows, const T *packed) {
    return on_rows || !WNAME(channel_blocks)(d) ? packed + WNAME(blocks_weights)(d) : packed;
}

convx_status WNAME(depthwise_run)(const convx_conv_desc *d, const T *packed, const T *bias, const T *x,
                                  T *y, int num_threads) {
    convx_axis ax[3];
    convx_axes_from_desc(d, ax);
    if (d->batch == 0 || ax[0].out * ax[1].out * ax[2].out == 0 || d->out_channels == 0) return CONVX_OK;
    const int on_rows = WNAME(rows_path)(d, ax);
    const T *w = WNAME(depthwise_weights)(d, on_rows, packed);
    if (d->transposed) return WNAME(depthwise_transposed_channels_last)(d, ax, x, w, bias, y, num_threads);
    if (on_rows) return WNAME(depthwise_rows_run)(d, ax, x, w, bias, y, num_threads);
    return WNAME(channel_blocks)(d) ? WNAME(channel_blocks_run)(d, ax, x, w, bias, y, num_threads)
                                    : WNAME(depthwise_channels_last)(d, ax, x, w, bias, y, num_threads);
}

#undef WNAME
