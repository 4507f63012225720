/* Dense, grouped and transposed convolution, for one element type. Per group,
 * Y[co, p] = sum_k W[co, k] * X[k, p] with k a (ci, tap) pair and p an output pixel; the weights
 * are packed once (dense_pack). Two ways to run it (pixel_vector_gemm chooses):
 *  - direct (dense_direct; transposed: dense_transposed_direct): a micro-tile of
 *    MR pixels x NR output channels (or the narrow 2 MR x NR / 2) reads each pixel's taps through a pointer plus per-k
 *    offsets, from a per-tile band of the input (or the input itself), so stride, dilation and
 *    padding live in the addresses;
 *  - pixel-vector GEMM (channels-first 1x1 and short reductions; dense_channels_first, and
 *    dense_transposed): each task packs one KC x NC tile of X straight from the input (1x1:
 *    one copy per channel row), resolving stride, dilation and padding in the addressing, then
 *    runs the MR x NR micro-kernel over it.
 * Transposed convolutions run output phase by phase (phase_taps), each phase a stride-1
 * correlation.
 * The including file defines T, SFX, KT_MR, KT_NR, KT_GEMM, KT_GEMM_DIRECT, KT_GEMM_DIRECT_NARROW,
 * KT_DIRECT_FN, KT_LANES, KT_INTERLEAVE, KT_COPY_PIXELS. */

#define DNAME(name) CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, SFX))

/* dense_nc_target: pixels per tile of the pixel-vector GEMM, more for short reductions, whose B
 * tile (K x pixels) stays within dense_b_tile elements (32 KiB of float32: rgb 3x3 with K = 27
 * gets 303 pixels, 1.05x; tiles' packing overhead is paid per tile). */
enum { DNAME(dense_kc) = 384, DNAME(dense_nc_target) = 192, DNAME(dense_b_tile) = 8192 };

/* K split into equal chunks of at most dense_kc (576 -> 2 x 288, not 384 + 192): no short last
 * chunk whose C tile round trip costs as much as a full one. */
CONVX_INLINE int64_t DNAME(k_chunk)(int64_t K) {
    const int64_t chunks = convx_ceil_div(CONVX_MAX(K, 1), DNAME(dense_kc));
    return convx_ceil_div(CONVX_MAX(K, 1), chunks);
}

/* Which micro-kernel runs a problem. Channels-first, the direct kernel stores each tile
 * channel-major (a scalar per value) and the pixel-vector GEMM (pixels along the vectors,
 * stored as whole rows) packs each input tile once for all the
 * output channels: the first costs per K, the second per output channel. So channels-first
 * runs direct only when the reduction K is long against the output channels (K >= 3 C_out per
 * group: 3x3 layers, ByteNet's k3; not WaveNet's k2) and those fill at least half of the
 * direct kernel's NR channel lanes (measured: below either, the GEMM wins by 20-30%);
 * never for 1x1. Transposed layers have no K rule (the packing, so this choice, may not depend
 * on the stride, which sets a phase's share of the taps): direct on the lanes rule alone, 0.63-0.97x
 * the GEMM's time on seven decoder layers (bench_transposed.py). Channels-last runs everything
 * direct. */
static int DNAME(pixel_vector_gemm)(const convx_conv_desc *d) {
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2], G = d->groups;
    const int64_t cin_g = d->in_channels / G, cout_g = d->out_channels / G;
    return d->layout == CONVX_CHANNELS_FIRST && (taps == 1 || (!d->transposed && cin_g * taps < 3 * cout_g) ||
                                                 2 * cout_g < convx_kernels()->KT_NR);
}

/* The direct kernel's tile: MR pixels x NR output channels, or the narrow kernel's 2 MR x NR / 2
 * when a group's output channels (cout_g) fit in NR / 2, so that no accumulator lane idles (measured
 * ~1.9x on 64->16 and 32->3 channels-last). */
typedef struct {
    int64_t mr, nr;
    KT_DIRECT_FN run;
} DNAME(direct_kernel);

static DNAME(direct_kernel) DNAME(direct_kernel_for)(int64_t cout_g) {
    const convx_kernel_table *kt = convx_kernels();
    DNAME(direct_kernel) k;
    const int narrow = 2 * cout_g <= kt->KT_NR;
    k.mr = narrow ? 2 * kt->KT_MR : kt->KT_MR;
    k.nr = narrow ? kt->KT_NR / 2 : kt->KT_NR;
    k.run = narrow ? kt->KT_GEMM_DIRECT_NARROW : kt->KT_GEMM_DIRECT;
    return k;
}

/* Width of dense_pack's panels: MR output channels for the GEMM, the direct kernel's nr. */
static int64_t DNAME(panel_width)(const convx_conv_desc *d) {
    return DNAME(pixel_vector_gemm)(d) ? convx_kernels()->KT_MR : DNAME(direct_kernel_for)(d->out_channels / d->groups).nr;
}

/* Elements of the packed panels (dense_pack stores one flag after them). */
static int64_t DNAME(dense_packed_count)(const convx_conv_desc *d) {
    const int64_t width = DNAME(panel_width)(d);
    const int64_t G = d->groups, K = d->in_channels / G * d->kernel[0] * d->kernel[1] * d->kernel[2];
    return G * convx_ceil_div(d->out_channels / G, width) * K * width;
}

/* Transposed convolution by output phase. Along an axis of stride s, output o takes tap k from
 * input (o + pad - k * dilation) / s only where that divides, i.e. where o = k * dilation - pad
 * (mod s): each phase (o mod s) of the outputs takes its own taps, a 1/s share of them, and is
 * a stride-1 correlation, output phase + s * m reading input m + shift(k). So the pixel-vector
 * GEMM packs, per phase, only its taps, each as contiguous input runs, instead of every tap with
 * all but 1/s of them reading zeros. Per axis: the phases that have taps (ascending), each one's
 * taps (ascending k), and their count. */
typedef struct {
    int64_t count[3];      /* phases with taps */
    int64_t *phase[3];     /* [count]: the phase (o mod s) */
    int64_t *first[3];     /* [count + 1]: phase p's taps are tap[first[p] .. first[p + 1]) */
    int64_t *tap[3];       /* [kernel]: taps by phase, then k */
    int all_phases;        /* every output lies in a phase with taps (else some are bias alone) */
} DNAME(phase_taps);

static int DNAME(compare_int64)(const void *a, const void *b) {
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Fills pt for a transposed problem's axes; its arrays are one allocation at pt->phase[0]
 * (convx_free it; NULL when out of memory). */
static convx_status DNAME(plan_phase_taps)(const convx_axis ax[3], DNAME(phase_taps) *pt) {
    int64_t total = 0, kmax = 0;
    for (int i = 0; i < 3; i++) total += 3 * ax[i].kernel + 1, kmax = CONVX_MAX(kmax, ax[i].kernel);
    /* the tables, then scratch: each tap's phase and the phases sorted */
    int64_t *buf = (int64_t *)convx_alloc((size_t)(total + 2 * kmax) * sizeof(int64_t));
    pt->phase[0] = buf;
    if (!buf) return CONVX_ERR_NO_MEMORY;
    int64_t *of_tap = buf + total, *sorted = of_tap + kmax;
    pt->all_phases = 1;
    for (int i = 0; i < 3; i++) {
        const convx_axis *a = &ax[i];
        const int64_t kn = a->kernel, s = a->stride;
        pt->phase[i] = buf, pt->first[i] = buf + kn, pt->tap[i] = buf + 2 * kn + 1;
        buf += 3 * kn + 1;
        for (int64_t k = 0; k < kn; k++) {
            of_tap[k] = (k * a->dilation - a->pad) % s;
            if (of_tap[k] < 0) of_tap[k] += s;
            sorted[k] = of_tap[k];
        }
        qsort(sorted, (size_t)kn, sizeof(int64_t), DNAME(compare_int64));
        int64_t count = 0, placed = 0;
        for (int64_t j = 0; j < kn; j++) {
            if (j > 0 && sorted[j] == sorted[j - 1]) continue;
            pt->phase[i][count] = sorted[j];
            pt->first[i][count++] = placed;
            for (int64_t k = 0; k < kn; k++)
                if (of_tap[k] == sorted[j]) pt->tap[i][placed++] = k;
        }
        pt->first[i][count] = placed;
        pt->count[i] = count;
        int64_t reached = 0; /* phases with taps that have outputs */
        for (int64_t j = 0; j < count; j++) reached += pt->phase[i][j] < a->out;
        if (reached < CONVX_MIN(s, a->out)) pt->all_phases = 0;
    }
    return CONVX_OK;
}

/* Input m + shift(k) is what tap k of a transposed axis gives grid pixel m of its phase (output
 * phase + stride * m), whatever the phase: shift(k) = -floor((k * dilation - pad) / stride). */
CONVX_INLINE int64_t DNAME(tap_shift)(const convx_axis *a, int64_t k) {
    return -convx_floor_div(k * a->dilation - a->pad, a->stride);
}

/* The phase combination c (of count[0] x count[1] x count[2], the last fastest): its phase index
 * per axis in p[3] and its taps (product of the axes' counts). */
CONVX_INLINE int64_t DNAME(phase_combination)(const DNAME(phase_taps) *pt, int64_t c, int64_t p[3]) {
    p[2] = c % pt->count[2], p[1] = (c / pt->count[2]) % pt->count[1], p[0] = c / (pt->count[2] * pt->count[1]);
    int64_t taps = 1;
    for (int i = 0; i < 3; i++) taps *= pt->first[i][p[i] + 1] - pt->first[i][p[i]];
    return taps;
}

/* The j-th tap of phase combination p (its taps ordered axis 0 slowest): its index along each
 * axis in t[3]; returns its index in the kernel, (kd * k1 + kh) * k2 + kw. */
CONVX_INLINE int64_t DNAME(combination_tap)(const DNAME(phase_taps) *pt, const int64_t p[3], const convx_axis ax[3],
                                            int64_t j, int64_t t[3]) {
    const int64_t n1 = pt->first[1][p[1] + 1] - pt->first[1][p[1]], n2 = pt->first[2][p[2] + 1] - pt->first[2][p[2]];
    t[0] = pt->tap[0][pt->first[0][p[0]] + j / (n1 * n2)];
    t[1] = pt->tap[1][pt->first[1][p[1]] + (j / n2) % n1];
    t[2] = pt->tap[2][pt->first[2][p[2]] + j % n2];
    return (t[0] * ax[1].kernel + t[1]) * ax[2].kernel + t[2];
}

/* y all bias (or 0), in either layout, P pixels per image: the outputs of phases no tap
 * reaches keep it. */
static void DNAME(fill_with_bias)(const convx_conv_desc *d, int64_t P, const T *bias, T *y) {
    const int64_t Cout = d->out_channels, channels_last = d->layout == CONVX_CHANNELS_LAST;
    for (int64_t i = 0; i < d->batch * P * Cout; i++) y[i] = bias ? bias[channels_last ? i % Cout : i / P % Cout] : (T)0;
}

/* Pixel-vector GEMM: A[g][panel][k][MR] with k = (ci, tap), MR output channels per panel.
 * Otherwise B[g][panel][k][nr], nr output channels per panel (the direct kernel's: NR, or NR / 2
 * for the narrow one; panel_width), k = (tap, ci) (a tap's channels
 * together, so the direct path can skip a tap that reads only padding). Zero-padded to whole
 * panels, then one flag: 1 when every weight is finite. Only then may a tap reading zero
 * padding be skipped: 0 * Inf and 0 * NaN are NaN. */
T *DNAME(dense_pack)(const convx_conv_desc *d, const T *w) {
    const int tap_major = !DNAME(pixel_vector_gemm)(d);
    const int64_t width = DNAME(panel_width)(d);
    const int64_t G = d->groups, cin_g = d->in_channels / G, cout_g = d->out_channels / G;
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2], K = cin_g * taps;
    const int64_t panels = convx_ceil_div(cout_g, width);
    /* Where w[g, co, ci, t] sits: forward (C_out, C_in/G, taps), transposed (C_in, C_out/G, taps). */
    const int64_t stride_co = d->transposed ? taps : cin_g * taps, stride_ci = d->transposed ? cout_g * taps : taps;
    const int64_t stride_g = cout_g * cin_g * taps;
    const size_t count = (size_t)DNAME(dense_packed_count)(d);
    T *packed = (T *)convx_alloc((count + 1) * sizeof(T));
    if (!packed) return NULL;
    /* When the weights hold each output channel's K weights contiguously in k order (k = (ci, t)
     * of a forward weight, or a single tap), the table's interleave transposes LANES such rows
     * at a time; otherwise element by element, `width` sequential streams through the weights. */
    const int rows_in_order = stride_ci == taps && (!tap_major || taps == 1);
    const convx_kernel_table *kt = convx_kernels();
    int finite = 1; /* x - x is NaN for Inf and NaN */
    T *dst = packed;
    for (int64_t g = 0; g < G; g++)
        for (int64_t panel = 0; panel < panels; panel++) {
            const int64_t co0 = panel * width, rows = CONVX_MIN(width, cout_g - co0);
            const T *src = w + g * stride_g + co0 * stride_co;
            if (rows_in_order) {
                if (rows < width) memset(dst, 0, (size_t)(K * width) * sizeof(T));
                for (int64_t r0 = 0; r0 < rows; r0 += kt->KT_LANES)
                    kt->KT_INTERLEAVE(K, CONVX_MIN(kt->KT_LANES, rows - r0), src + r0 * stride_co, stride_co, dst + r0,
                                      width);
                for (int64_t i = 0; i < rows * K; i++) finite &= src[i] - src[i] == 0;
                dst += K * width;
                continue;
            }
            for (int64_t k = 0, ci = 0, t = 0; k < K; k++, dst += width) {
                const T *s = src + ci * stride_ci + t;
                int64_t r = 0;
                for (; r < rows; r++) {
                    const T v = s[r * stride_co];
                    dst[r] = v;
                    finite &= v - v == 0;
                }
                for (; r < width; r++) dst[r] = 0;
                if (tap_major ? ++ci == cin_g : ++t == taps) { /* next k: ci fastest, or t fastest */
                    if (tap_major) ci = 0, t++;
                    else t = 0, ci++;
                }
            }
        }
    packed[count] = (T)finite;
    return packed;
}

/* A run of a pixel tile along one output row: tile columns [q, q + end - ow0) are output
 * columns [ow0, end) of row (od, oh). */
typedef struct {
    int64_t q, ow0, end, od, oh;
} DNAME(row_run);

static int64_t DNAME(split_rows)(const convx_axis ax[3], int64_t p0, int64_t np, DNAME(row_run) *runs) {
    const int64_t out1 = ax[1].out, out2 = ax[2].out;
    int64_t count = 0;
    for (int64_t q = 0, p = p0; q < np; count++) {
        DNAME(row_run) *r = &runs[count];
        r->q = q;
        r->ow0 = p % out2;
        r->oh = (p / out2) % out1;
        r->od = p / (out2 * out1);
        r->end = r->ow0 + CONVX_MIN(out2 - r->ow0, np - q);
        q += r->end - r->ow0;
        p += r->end - r->ow0;
    }
    return count;
}

/* Column c of an input row, padding resolved by the axis's mode (0 for zero padding). */
CONVX_INLINE T DNAME(column_at)(const convx_axis *a, const T *row, int64_t c) {
    const int64_t i = convx_resolve(c, a->in, a->mode);
    return i < 0 ? (T)0 : row[i];
}

/* out[i] = column first + i * stride of a (forward) axis's input row, for i < count; columns
 * [lo, hi) lie inside the row and are copied straight, the rest resolved as padding. */
static void DNAME(gather_columns)(const convx_axis *a, const T *row, int64_t first, int64_t count, int64_t lo,
                                  int64_t hi, T *out) {
    const int64_t s = a->stride;
    for (int64_t i = 0; i < lo; i++) out[i] = DNAME(column_at)(a, row, first + i * s);
    if (s == 1 && hi > lo)
        memcpy(out + lo, row + first + lo, (size_t)(hi - lo) * sizeof(T));
    else if (s == 2) /* a constant stride compiles to vector shuffles */
        for (int64_t i = lo; i < hi; i++) out[i] = row[first + i * 2];
    else if (s != 1)
        for (int64_t i = lo; i < hi; i++) out[i] = row[first + i * s];
    for (int64_t i = hi; i < count; i++) out[i] = DNAME(column_at)(a, row, first + i * s);
}

/* One tap's run along an output row of a forward axis: out[o - o0] = what tap k of output o
 * reads from `row`, for outputs [o0, o1). lo/hi: the outputs whose tap reads inside the row. */
static void DNAME(pack_tap_run)(const convx_axis *a, const T *row, int64_t o0, int64_t o1, int64_t k, int64_t lo,
                                int64_t hi, T *out) {
    const int64_t mid_lo = CONVX_MIN(CONVX_MAX(o0, lo), o1), mid_hi = CONVX_MAX(CONVX_MIN(o1, hi), mid_lo);
    DNAME(gather_columns)(a, row, o0 * a->stride + k * a->dilation - a->pad, o1 - o0, mid_lo - o0, mid_hi - o0, out);
}

/* Taps k0 .. k0 + nk - 1 of a strided (forward) axis over outputs [o0, o1): tap k0 + j's run
 * goes to out + j * ldb. The input columns they read are split once by phase (column mod
 * stride), after which every tap's run is one contiguous copy of a phase: a strided gather
 * per input row instead of per tap (rgb 7x7 stride 2: 1 instead of 7). phase: scratch for
 * (o1 - o0 - 1) * stride + (nk - 1) * dilation + stride elements. */
static void DNAME(pack_tap_runs_by_phase)(const convx_axis *a, const T *row, int64_t o0, int64_t o1, int64_t k0,
                                          int64_t nk, T *out, int64_t ldb, T *phase) {
    const int64_t s = a->stride, dil = a->dilation;
    const int64_t base = o0 * s + k0 * dil - a->pad, span = (o1 - 1 - o0) * s + (nk - 1) * dil + 1;
    const int64_t per = convx_ceil_div(span, s); /* phase p holds columns base + p + i * s */
    for (int64_t p = 0; p < s; p++) {
        const int64_t first = base + p, count = convx_ceil_div(span - p, s);
        /* columns inside the input: i in [lo, hi) */
        const int64_t lo = CONVX_MIN(count, convx_ceil_div(CONVX_MAX(-first, 0), s));
        const int64_t hi = CONVX_MAX(lo, CONVX_MIN(count, convx_ceil_div(a->in - first, s)));
        DNAME(gather_columns)(a, row, first, count, lo, hi, phase + p * per);
    }
    for (int64_t j = 0; j < nk; j++)
        memcpy(out + j * ldb, phase + (j * dil) % s * per + (j * dil) / s, (size_t)(o1 - o0) * sizeof(T));
}

/* Packs B[k0:k0+kc, tile pixels] of batch n, group g (channels-first input) as rows of ldb
 * pixels (zero beyond the tile), so each run of pixels along an output row is one contiguous
 * copy of the input where it can be. w_lo/w_hi: per kw, the outputs that read the input row
 * directly (at o * stride + kw * dilation - pad). phase: scratch for pack_tap_runs_by_phase, or
 * NULL to copy tap by tap. */
static void DNAME(pack_input_tile)(const convx_conv_desc *d, const convx_axis ax[3], const T *x, int64_t n,
                                   int64_t g, int64_t k0, int64_t kc, const DNAME(row_run) *runs, int64_t nruns,
                                   int64_t np, const int64_t *w_lo, const int64_t *w_hi, int64_t ldb, T *bbuf,
                                   T *phase) {
    const int64_t cin_g = d->in_channels / d->groups, Pin = ax[0].in * ax[1].in * ax[2].in;
    const int64_t k0n = ax[0].kernel, k1 = ax[1].kernel, k2 = ax[2].kernel, taps = k0n * k1 * k2;
    const int64_t in1 = ax[1].in, in2 = ax[2].in;
    int64_t ci = k0 / taps, kd = (k0 % taps) / (k1 * k2), kh = (k0 / k2) % k1, kw = k0 % k2;
    /* per input row (ci, kd, kh): its taps kw .. kw + nkw - 1 within the chunk */
    for (int64_t kk = 0; kk < kc;) {
        const int64_t nkw = CONVX_MIN(k2 - kw, kc - kk);
        const T *chan = x + (n * d->in_channels + g * cin_g + ci) * Pin;
        T *dst = bbuf + kk * ldb;
        for (int64_t r = 0; r < nruns; r++) {
            const DNAME(row_run) *run = &runs[r];
            const int64_t len = run->end - run->ow0;
            const int64_t id = convx_axis_tap(&ax[0], run->od, kd);
            const int64_t ih = id < 0 ? -1 : convx_axis_tap(&ax[1], run->oh, kh);
            if (ih < 0) {
                for (int64_t j = 0; j < nkw; j++) memset(dst + j * ldb + run->q, 0, (size_t)len * sizeof(T));
                continue;
            }
            const T *row = chan + (id * in1 + ih) * in2;
            if (phase && nkw > 1)
                DNAME(pack_tap_runs_by_phase)(&ax[2], row, run->ow0, run->end, kw, nkw, dst + run->q, ldb, phase);
            else
                for (int64_t j = 0; j < nkw; j++)
                    DNAME(pack_tap_run)(&ax[2], row, run->ow0, run->end, kw + j, w_lo[kw + j], w_hi[kw + j],
                                        dst + j * ldb + run->q);
        }
        if (ldb > np)
            for (int64_t j = 0; j < nkw; j++) memset(dst + j * ldb + np, 0, (size_t)(ldb - np) * sizeof(T));
        kk += nkw;
        /* next row: kw from 0, then kh, kd, ci */
        kw = 0;
        if (++kh == k1) {
            kh = 0;
            if (++kd == k0n) {
                kd = 0;
                ci++;
            }
        }
    }
}

/* C (= or +=) A B over a tile of np pixels for output channels [panel_begin, panel_end) x MR
 * (below `rows`): A packed as MR-channel panels panel_stride apart (kc k each), B kc rows of
 * ldb pixels zero-padded to whole NR blocks, C rows ldc apart, its pixels pix_step apart. Each
 * panel's weights (L1-sized) serve every NR-pixel block of the tile. bias: per output channel,
 * or NULL. */
static void DNAME(gemm_channel_panels)(int64_t kc, const T *a, int64_t panel_stride, int64_t panel_begin,
                                       int64_t panel_end, int64_t rows, const T *b, int64_t ldb, int64_t np, T *c,
                                       int64_t ldc, int64_t pix_step, int accumulate, const T *bias) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t mr = kt->KT_MR, nr = kt->KT_NR;
    for (int64_t panel = panel_begin; panel < panel_end; panel++) {
        const int64_t co0 = panel * mr;
        for (int64_t q0 = 0; q0 < np; q0 += nr)
            kt->KT_GEMM(kc, a + panel * panel_stride, b + q0, ldb, c + co0 * ldc + q0 * pix_step, ldc, pix_step,
                        CONVX_MIN(mr, rows - co0), CONVX_MIN(nr, np - q0), accumulate, bias ? bias + co0 : NULL);
    }
}

/* Tiles of a plane, rounded up to a multiple of the threads when the planes (images x groups
 * [x output depth]) are few, so no thread waits for the other's last tile. */
CONVX_INLINE int64_t DNAME(thread_multiple)(int64_t tiles, int64_t planes, int num_threads) {
    return tiles > 1 && planes < 4 * num_threads ? convx_ceil_div(tiles, num_threads) * num_threads : tiles;
}

/* How a problem splits into tasks: batch x group x pixel tile x slice of output-channel panels.
 * The P pixels are `ptiles` tiles of whole units of `unit` pixels (the last unit may be short),
 * tile i holding units [i * units / ptiles, (i + 1) * units / ptiles): sizes differ by one unit
 * at most, so a tile count that is a multiple of the threads is shared evenly whatever P is
 * (784 pixels in units of 32 as 6 tiles: 4-5 units each, not 5 tiles of 5 units and a thread
 * waiting on the fifth). Channel panels are split only as far as needed to give every thread two
 * tasks, and never on one thread: every slice packs the same input tile again. */
typedef struct {
    int64_t groups, unit, units, ptiles, panels, csplit, panels_per_split, count;
} DNAME(tasks);

typedef struct {
    int64_t n, g, p0, np, panel_begin, panel_end;
} DNAME(task);

static DNAME(tasks) DNAME(plan_tasks)(int64_t N, int64_t G, int64_t P, int64_t unit, int64_t tiles, int64_t panels,
                                      int num_threads) {
    DNAME(tasks) t;
    t.groups = G;
    t.unit = unit;
    t.units = convx_ceil_div(P, unit);
    t.ptiles = CONVX_MAX(1, CONVX_MIN(tiles, t.units));
    t.panels = panels;
    t.csplit = 1;
    while (num_threads > 1 && N * G * t.ptiles * t.csplit < 2 * num_threads && t.csplit * 2 <= panels) t.csplit *= 2;
    t.panels_per_split = convx_ceil_div(panels, t.csplit);
    t.count = N * G * t.ptiles * t.csplit;
    return t;
}

static DNAME(task) DNAME(task_at)(const DNAME(tasks) *t, int64_t index, int64_t P) {
    DNAME(task) k;
    const int64_t cs = index % t->csplit, pt = (index / t->csplit) % t->ptiles;
    k.g = (index / (t->csplit * t->ptiles)) % t->groups;
    k.n = index / (t->csplit * t->ptiles * t->groups);
    k.p0 = pt * t->units / t->ptiles * t->unit;
    k.np = CONVX_MIN(P, (pt + 1) * t->units / t->ptiles * t->unit) - k.p0;
    k.panel_begin = CONVX_MIN(t->panels, cs * t->panels_per_split);
    k.panel_end = CONVX_MIN(t->panels, (cs + 1) * t->panels_per_split);
    return k;
}

/* Channels-first forward: output channels are the micro-tile's rows (weights broadcast), pixels
 * its columns (input vectors along the width). */
static convx_status DNAME(dense_channels_first)(const convx_conv_desc *d, const convx_axis ax[3], const T *a,
                                                const T *bias, const T *x, T *y, int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t mr = kt->KT_MR, nr = kt->KT_NR;
    const int64_t N = d->batch, G = d->groups;
    const int64_t cin_g = d->in_channels / G, cout_g = d->out_channels / G;
    const int64_t K = cin_g * ax[0].kernel * ax[1].kernel * ax[2].kernel;
    const int64_t P = ax[0].out * ax[1].out * ax[2].out;
    const int64_t panels = convx_ceil_div(cout_g, mr);

    const int64_t kc_max = DNAME(k_chunk)(K);
    /* Pixel tiles of about nc_target in whole NR blocks, balanced (196 pixels -> 2 x 112, not
     * 192 + 4), and for few images a multiple of the threads (3136 pixels on 2 threads -> 18
     * tiles, not 17). nc: the largest tile. */
    const int64_t nc_target = CONVX_MAX(DNAME(dense_nc_target), DNAME(dense_b_tile) / CONVX_MAX(K, 1));
    const int64_t tiles = DNAME(thread_multiple)(convx_ceil_div(P, nc_target), N * G, num_threads);
    const DNAME(tasks) plan = DNAME(plan_tasks)(N, G, P, nr, tiles, panels, num_threads);
    const int64_t nc = convx_ceil_div(plan.units, plan.ptiles) * nr;
    const int64_t tasks = plan.count;
    const size_t bbuf_count = (size_t)(nc * CONVX_MIN(kc_max, CONVX_MAX(K, 1)));
    /* A strided axis whose taps share input columns is packed by phase (pack_tap_runs_by_phase);
     * its scratch holds what a run reads, a run being at most a row of the tile (rounded up to
     * 16 elements: the row runs after it stay aligned). */
    const int64_t sw = ax[2].stride, reach = (ax[2].kernel - 1) * ax[2].dilation;
    const size_t phase_count =
        sw == 1 || sw > reach ? 0 : (size_t)(convx_ceil_div((CONVX_MIN(nc, ax[2].out) - 1) * sw + reach + sw, 16) * 16);
    int failed = 0;
    /* A 1x1 stride-1 unpadded convolution's tile is kc rows of np consecutive input pixels:
     * one copy per row. (Reading them in place instead costs 5-15% on 64+ output channels:
     * each row is a page apart, so the kernel's loads miss the TLB and the prefetchers.) */
    int contiguous = K == cin_g;
    for (int i = 0; i < 3; i++) contiguous &= ax[i].stride == 1 && ax[i].pad == 0 && ax[i].out == ax[i].in;

    /* Per kw, the outputs whose tap reads the input row directly. */
    int64_t *w_lo = (int64_t *)convx_alloc((size_t)(2 * ax[2].kernel) * sizeof(int64_t)), *w_hi = w_lo + ax[2].kernel;
    if (!w_lo) return CONVX_ERR_NO_MEMORY;
    for (int64_t kw = 0; kw < ax[2].kernel; kw++) {
        w_lo[kw] = w_hi[kw] = 0;
        convx_axis_interior(&ax[2], kw, &w_lo[kw], &w_hi[kw]);
    }

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        /* Per thread: the B tile, the phase scratch, then the row runs of the pixel tile. */
        T *bbuf = (T *)convx_thread_scratch((bbuf_count + phase_count) * sizeof(T) +
                                                (size_t)(nc + 1) * sizeof(DNAME(row_run)), &failed);
        T *phase = bbuf && phase_count ? bbuf + bbuf_count : NULL;
        DNAME(row_run) *runs = bbuf ? (DNAME(row_run) *)(bbuf + bbuf_count + phase_count) : NULL;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < tasks; task++) {
            if (!bbuf) continue;
            const DNAME(task) job = DNAME(task_at)(&plan, task, P);
            const int64_t n = job.n, g = job.g, p0 = job.p0, np = job.np, ldb = convx_ceil_div(np, nr) * nr;
            const int64_t nruns = DNAME(split_rows)(ax, p0, np, runs);
            for (int64_t k0 = 0; k0 == 0 || k0 < K; k0 += kc_max) {
                const int64_t kc = CONVX_MIN(kc_max, K - k0);
                if (contiguous) {
                    const T *xk = x + (n * d->in_channels + g * cin_g + k0) * P + p0;
                    for (int64_t kk = 0; kk < kc; kk++) {
                        memcpy(bbuf + kk * ldb, xk + kk * P, (size_t)np * sizeof(T));
                        memset(bbuf + kk * ldb + np, 0, (size_t)(ldb - np) * sizeof(T));
                    }
                } else {
                    DNAME(pack_input_tile)(d, ax, x, n, g, k0, kc, runs, nruns, np, w_lo, w_hi, ldb, bbuf, phase);
                }
                DNAME(gemm_channel_panels)(kc, a + (g * panels * K + k0) * mr, K * mr, job.panel_begin, job.panel_end,
                                           cout_g, bbuf, ldb, np, y + (n * d->out_channels + g * cout_g) * P + p0, P, 1,
                                           k0 > 0, bias ? bias + g * cout_g : NULL);
            }
        }
        convx_free(bbuf);
    }
    convx_free(w_lo);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* The direct path (forward convolutions, either layout): output tiles of whole rows, or pieces
 * of one long row, of one (n, od) plane. The micro-kernel reads each pixel's taps through a
 * pointer per pixel plus a per-tap offset: from the band, a copy of just the input the tile
 * reads with its padding resolved (about one input's worth, not a patch per tap), or, for a
 * channels-last tile whose taps all land inside the input, straight from the input. */

/* One axis of the band. Band position b holds input coordinate start + (b / group) * dilation +
 * b % group, and tap k of a pixel at position i reads position i + k * tap_step. Taps that
 * overlap (dilation <= tile) share one span of `count` = `group` positions; taps further apart
 * get a group each, so no position nobody reads is copied. */
typedef struct {
    int64_t group, tap_step, count;
} DNAME(band_axis);

static DNAME(band_axis) DNAME(plan_band_axis)(const convx_axis *a, int64_t tile) {
    DNAME(band_axis) b;
    const int64_t reach = (tile - 1) * a->stride + 1, span = reach + (a->kernel - 1) * a->dilation;
    const int shared = span <= a->kernel * reach;
    b.group = shared ? span : reach;
    b.tap_step = shared ? a->dilation : reach;
    b.count = shared ? span : a->kernel * reach;
    return b;
}

typedef struct {
    int64_t rows, cols, row_blocks, col_blocks; /* a tile: rows x cols output pixels */
    DNAME(band_axis) band[3];                   /* the band is [D][H][W][unit] in either layout */
    int64_t unit, band_count;                   /* elements per band position; in the band */
} DNAME(direct_plan);

/* The band of t's tiles for axes ax (its size saturates: convx_size_mul). */
static void DNAME(set_band)(DNAME(direct_plan) *t, const convx_axis ax[3]) {
    const int64_t tile[3] = {1, t->rows, t->cols};
    t->band_count = t->unit;
    for (int i = 0; i < 3; i++) {
        t->band[i] = DNAME(plan_band_axis)(&ax[i], tile[i]);
        t->band_count = convx_size_mul(t->band_count, t->band[i].count);
    }
}

/* Tiles of about `target` pixels, for few planes (images x planes along D x channel groups) a
 * multiple of the threads per plane; `unit` elements (channels) per band position. */
static DNAME(direct_plan) DNAME(plan_direct_tiles)(const convx_axis ax[3], int64_t planes, int64_t unit,
                                                   int64_t target, int num_threads) {
    DNAME(direct_plan) t;
    const int64_t out1 = ax[1].out, out2 = ax[2].out;
    t.col_blocks = out2 > target ? convx_ceil_div(out2, target) : 1;
    t.row_blocks = out2 > target ? out1 : convx_ceil_div(out1, CONVX_MAX(1, target / out2));
    if (t.col_blocks > 1)
        t.col_blocks = DNAME(thread_multiple)(t.col_blocks, planes, num_threads);
    else
        t.row_blocks = CONVX_MIN(out1, DNAME(thread_multiple)(t.row_blocks, planes, num_threads));
    t.cols = convx_ceil_div(out2, t.col_blocks);
    t.col_blocks = convx_ceil_div(out2, t.cols);
    t.rows = convx_ceil_div(out1, t.row_blocks);
    t.row_blocks = convx_ceil_div(out1, t.rows);
    t.unit = unit;
    DNAME(set_band)(&t, ax);
    return t;
}

/* The largest tiles up to `target` pixels whose band fits in `cap` bytes (per thread). */
static DNAME(direct_plan) DNAME(plan_direct)(const convx_axis ax[3], int64_t planes, int64_t unit, int64_t target,
                                             int64_t cap, int num_threads) {
    DNAME(direct_plan) t = DNAME(plan_direct_tiles)(ax, planes, unit, target, num_threads);
    while (t.band_count * (int64_t)sizeof(T) > cap && target > 1) {
        target /= 2;
        t = DNAME(plan_direct_tiles)(ax, planes, unit, target, num_threads);
    }
    return t;
}

/* Output rows [oh0, oh1) x columns [ow0, ow1) of a plane's tile `tile` (row-major over the
 * plane's row_blocks x col_blocks tiles). */
typedef struct {
    int64_t oh0, oh1, ow0, ow1;
} DNAME(tile_rect);

static DNAME(tile_rect) DNAME(tile_at)(const DNAME(direct_plan) *t, const convx_axis ax[3], int64_t tile) {
    DNAME(tile_rect) r;
    r.oh0 = tile / t->col_blocks * t->rows;
    r.oh1 = CONVX_MIN(ax[1].out, r.oh0 + t->rows);
    r.ow0 = tile % t->col_blocks * t->cols;
    r.ow1 = CONVX_MIN(ax[2].out, r.ow0 + t->cols);
    return r;
}

/* Is every tap of output rows [oh0, oh1) x columns [ow0, ow1) of plane od inside the input? */
static int DNAME(tile_inside)(const convx_axis ax[3], int64_t od, int64_t oh0, int64_t oh1, int64_t ow0, int64_t ow1) {
    const int64_t lo[3] = {od, oh0, ow0}, hi[3] = {od + 1, oh1, ow1};
    for (int i = 0; i < 3; i++) {
        const convx_axis *a = &ax[i];
        if (lo[i] * a->stride - a->pad < 0) return 0;
        if ((hi[i] - 1) * a->stride + (a->kernel - 1) * a->dilation - a->pad >= a->in) return 0;
    }
    return 1;
}

/* Input coordinate of band position b on axis a for a tile starting at output o. */
CONVX_INLINE int64_t DNAME(band_source)(const convx_axis *a, const DNAME(band_axis) *b, int64_t o, int64_t pos) {
    const int64_t g = pos < b->group ? 0 : pos / b->group; /* no division for a shared span (called per row) */
    return convx_resolve(o * a->stride - a->pad + g * a->dilation + (pos - g * b->group), a->in, a->mode);
}

/* Copies channels [0, nc) of what the tile at plane od, rows from oh0, columns from ow0 reads
 * into the band ([D][H][W][unit], a position's channels together; nc <= unit, the rest of a
 * position zeroed), padding resolved by each axis's mode. Channels-first with unit 1: nc bands,
 * one per channel, band_count apart. padding_done: the band already holds this tile's zero
 * padding (filled for the same tile before), so only what the input holds is copied. xc: the
 * image's first channel to copy; C: the image's channels; runs: scratch for 3 * (the band's W)
 * entries. */
static void DNAME(fill_band)(const convx_axis ax[3], const DNAME(direct_plan) *t, int channels_last, int64_t C,
                             int64_t nc, const T *xc, int64_t od, int64_t oh0, int64_t ow0, int64_t *runs,
                             int padding_done, T *band) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t lanes = kt->KT_LANES, unit = t->unit;
    const int64_t in1 = ax[1].in, in2 = ax[2].in, Pin = ax[0].in * in1 * in2;
    const DNAME(band_axis) *bd = &t->band[0], *bh = &t->band[1], *bw = &t->band[2];
    const int64_t W = bw->count, HW = bh->count * W;
    /* channels-first, one channel per position: a plane per channel (with nc == 1, as a dense
     * convolution of one input channel per group has, the same layout as the transpose's) */
    const int planes = !channels_last && unit == 1;
    /* zero padding: written into each plane (or the one band) unless already there */
    const int64_t zero_planes = padding_done ? 0 : planes ? nc : 1, plane_step = planes ? t->band_count : 0;
    /* The band's columns as runs (first position, length, first input column or -1 for zeros)
     * reading consecutive input columns: the same for every row. */
    int64_t nruns = 0;
    for (int64_t pw = 0, len; pw < W; pw += len, nruns++) {
        const int64_t src = DNAME(band_source)(&ax[2], bw, ow0, pw);
        for (len = 1; pw + len < W; len++) {
            const int64_t next = DNAME(band_source)(&ax[2], bw, ow0, pw + len);
            if (src < 0 ? next >= 0 : next != src + len) break;
        }
        runs[3 * nruns] = pw, runs[3 * nruns + 1] = len, runs[3 * nruns + 2] = src;
    }
    for (int64_t pd = 0; pd < bd->count; pd++)
        for (int64_t ph = 0; ph < bh->count; ph++) {
            const int64_t id = DNAME(band_source)(&ax[0], bd, od, pd);
            const int64_t ih = id < 0 ? -1 : DNAME(band_source)(&ax[1], bh, oh0, ph);
            T *dst = band + (pd * HW + ph * W) * unit;
            if (ih < 0) {
                for (int64_t c = 0; c < zero_planes; c++)
                    memset(dst + c * plane_step, 0, (size_t)(W * unit) * sizeof(T));
                continue;
            }
            const T *row = xc + (id * in1 + ih) * in2 * (channels_last ? C : 1);
            for (int64_t r = 0; r < nruns; r++) {
                const int64_t pw = runs[3 * r], len = runs[3 * r + 1], src = runs[3 * r + 2];
                T *out = dst + pw * unit;
                if (src < 0) {
                    for (int64_t c = 0; c < zero_planes; c++)
                        memset(out + c * plane_step, 0, (size_t)(len * unit) * sizeof(T));
                } else if (planes) {
                    for (int64_t c = 0; c < nc; c++)
                        memcpy(out + c * plane_step, row + c * Pin + src, (size_t)len * sizeof(T));
                } else if (channels_last) {
                    kt->KT_COPY_PIXELS(len, nc, row + src * C, C, out, unit);
                } else { /* channels-first: a transpose, LANES channel rows at a time */
                    for (int64_t c0 = 0; c0 < nc; c0 += lanes)
                        kt->KT_INTERLEAVE(len, CONVX_MIN(lanes, nc - c0), row + c0 * Pin + src, Pin, out + c0, unit);
                }
                for (int64_t q = 0; q < len && src >= 0 && nc < unit; q++)
                    memset(out + q * unit + nc, 0, (size_t)(unit - nc) * sizeof(T));
            }
        }
}

/* Offsets of each k = (tap, ci) from a pixel's first tap, in a channels-last input itself (`t`
 * NULL) or in the band; both hold a pixel's channels together. */
static void DNAME(direct_offsets)(const convx_conv_desc *d, const convx_axis ax[3], const DNAME(direct_plan) *t,
                                  int64_t *off) {
    const int64_t cin_g = d->in_channels / d->groups, k1 = ax[1].kernel, k2 = ax[2].kernel;
    const int64_t taps = ax[0].kernel * k1 * k2;
    /* element steps between taps along D, H, W (channels are 1 apart) */
    int64_t s_d, s_h, s_w;
    if (!t) {
        const int64_t C = d->in_channels, plane = ax[1].in * ax[2].in;
        s_d = ax[0].dilation * plane * C;
        s_h = ax[1].dilation * ax[2].in * C;
        s_w = ax[2].dilation * C;
    } else {
        const int64_t W = t->band[2].count, HW = t->band[1].count * W;
        s_d = t->band[0].tap_step * HW * cin_g;
        s_h = t->band[1].tap_step * W * cin_g;
        s_w = t->band[2].tap_step * cin_g;
    }
    for (int64_t ci = 0; ci < cin_g; ci++)
        for (int64_t tap = 0; tap < taps; tap++)
            off[tap * cin_g + ci] = ci + (tap / (k1 * k2)) * s_d + ((tap / k2) % k1) * s_h + (tap % k2) * s_w;
}

/* Taps [lo, hi) of axis a that read inside the input for some output in [o_min, o_max]: a
 * tap's input index falls as the output grows, so the first output bounds hi, the last lo. */
CONVX_INLINE void DNAME(taps_inside)(const convx_axis *a, int64_t o_min, int64_t o_max, int64_t *lo, int64_t *hi) {
    *lo = CONVX_MAX(0, convx_ceil_div(CONVX_MAX(a->pad - o_max * a->stride, 0), a->dilation));
    *hi = CONVX_MIN(a->kernel, convx_floor_div(a->in - 1 + a->pad - o_min * a->stride, a->dilation) + 1);
}

/* The k ranges (of chunk [k0, k1)) that a block of pixels q0..q0+m-1 of a tile needs: with
 * `skip` (zero padding, finite weights), taps that read padding for every pixel of the block,
 * per axis, are skipped (a dilated convolution's border blocks lose whole rows and columns of
 * taps). Returns the range count. */
static int64_t DNAME(block_segments)(const convx_conv_desc *d, const convx_axis ax[3], int64_t od, int64_t oh0,
                                     int64_t ow0, int64_t width, int64_t q0, int64_t m, int64_t k0, int64_t k1,
                                     int skip, int64_t *seg) {
    const int64_t cin_g = d->in_channels / d->groups, kh_n = ax[1].kernel, kw_n = ax[2].kernel;
    int64_t lo[3] = {0, 0, 0}, hi[3] = {ax[0].kernel, kh_n, kw_n};
    if (skip) {
        const int64_t first = q0, last = q0 + m - 1;
        const int64_t wraps = first / width != last / width; /* the block runs on into the next row */
        DNAME(taps_inside)(&ax[0], od, od, &lo[0], &hi[0]);
        DNAME(taps_inside)(&ax[1], oh0 + first / width, oh0 + last / width, &lo[1], &hi[1]);
        DNAME(taps_inside)(&ax[2], wraps ? ow0 : ow0 + first % width, wraps ? ow0 + width - 1 : ow0 + last % width,
                           &lo[2], &hi[2]);
    }
    int64_t count = 0;
    for (int64_t kd = lo[0]; kd < hi[0]; kd++)
        for (int64_t kh = lo[1]; kh < hi[1]; kh++) {
            const int64_t t = (kd * kh_n + kh) * kw_n;
            const int64_t b = CONVX_MAX(k0, (t + lo[2]) * cin_g), e = CONVX_MIN(k1, (t + hi[2]) * cin_g);
            if (b >= e) continue;
            if (count > 0 && seg[2 * count - 1] == b)
                seg[2 * count - 1] = e; /* runs on from the previous range */
            else
                seg[2 * count] = b, seg[2 * count + 1] = e, count++;
        }
    return count;
}

/* The direct kernel's K chunks: its weight panel (K x nr) stays in L2, one chunk unless K is
 * very large. */
CONVX_INLINE int64_t DNAME(direct_k_chunk)(int64_t K, int64_t nr) {
    return convx_ceil_div(CONVX_MAX(K, 1), convx_ceil_div(CONVX_MAX(K, 1) * nr * (int64_t)sizeof(T), 256 * 1024));
}

/* The direct path: tasks are (image, group, tile, slice of output-channel panels); per tile the
 * band (unless read in place), the pixel pointers and each block's k ranges, then for each
 * nr-channel weight panel every mr-pixel block (direct_kernel_for). */
static convx_status DNAME(dense_direct)(const convx_conv_desc *d, const convx_axis ax[3], const T *w,
                                        const T *bias, const T *x, T *y, int num_threads) {
    const DNAME(direct_kernel) kernel = DNAME(direct_kernel_for)(d->out_channels / d->groups);
    const int64_t mr = kernel.mr, nr = kernel.nr;
    const int channels_last = d->layout == CONVX_CHANNELS_LAST;
    const int64_t N = d->batch, G = d->groups, Cin = d->in_channels, Cout = d->out_channels;
    const int64_t cin_g = Cin / G, cout_g = Cout / G;
    const int64_t K = cin_g * ax[0].kernel * ax[1].kernel * ax[2].kernel;
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out, P = out0 * out1 * out2;
    const int64_t Pin = ax[0].in * ax[1].in * ax[2].in;
    const int64_t panels = convx_ceil_div(cout_g, nr);
    const int64_t kc_max = DNAME(direct_k_chunk)(K, nr);
    const DNAME(direct_plan) plan = DNAME(plan_direct)(ax, N * out0 * G, cin_g, 256, 1 << 20, num_threads);
    /* plan_tasks over "pixels" that are whole tiles: a task's p0 is its tile index */
    const DNAME(tasks) tasks = DNAME(plan_tasks)(N, G, out0 * plan.row_blocks * plan.col_blocks, 1,
                                                 out0 * plan.row_blocks * plan.col_blocks, panels, num_threads);
    const int64_t tile_max = plan.rows * plan.cols, blocks_max = convx_ceil_div(tile_max, mr);
    const int skip_padding = d->padding_mode == CONVX_PAD_ZEROS && w[DNAME(dense_packed_count)(d)] != 0;
    /* per block: a range count, then up to one range per (kd, kh) */
    const int64_t seg_stride = 1 + 2 * ax[0].kernel * ax[1].kernel;
    int failed = 0;

    int64_t *off_x = (int64_t *)convx_alloc((size_t)(2 * K + 1) * sizeof(int64_t)), *off_band = off_x + K;
    if (!off_x) return CONVX_ERR_NO_MEMORY;
    if (channels_last) DNAME(direct_offsets)(d, ax, NULL, off_x); /* only channels-last reads in place */
    DNAME(direct_offsets)(d, ax, &plan, off_band);

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks.count > 1)
    {
        /* Per thread: the k ranges of each pixel block of a tile, the band's column runs, the
         * pixel pointers (padded to whole MR blocks), then the band. */
        const int64_t runs_count = 3 * plan.band[2].count;
        int64_t *segs = (int64_t *)convx_thread_scratch(
            (size_t)(blocks_max * seg_stride + runs_count) * sizeof(int64_t) + (size_t)(tile_max + mr) * sizeof(T *) +
                (size_t)plan.band_count * sizeof(T),
            &failed);
        int64_t *runs = segs ? segs + blocks_max * seg_stride : NULL;
        const T **pix = segs ? (const T **)(runs + runs_count) : NULL;
        T *band = pix ? (T *)(pix + tile_max + mr) : NULL;
#pragma omp for schedule(dynamic)
        for (int64_t index = 0; index < tasks.count; index++) {
            if (!band) continue;
            const DNAME(task) job = DNAME(task_at)(&tasks, index, tasks.ptiles);
            const int64_t n = job.n, g = job.g, tile = job.p0;
            const int64_t per_plane = plan.row_blocks * plan.col_blocks, od = tile / per_plane;
            const DNAME(tile_rect) r = DNAME(tile_at)(&plan, ax, tile % per_plane);
            const int64_t oh0 = r.oh0, oh1 = r.oh1, ow0 = r.ow0, ow1 = r.ow1;
            const int64_t np = (oh1 - oh0) * (ow1 - ow0);
            const T *xg = x + (channels_last ? n * Pin * Cin + g * cin_g : (n * Cin + g * cin_g) * Pin);
            /* channels-first always copies: its band holds a pixel's channels side by side */
            const int inside = channels_last && DNAME(tile_inside)(ax, od, oh0, oh1, ow0, ow1);
            const int64_t *off = inside ? off_x : off_band;
            /* pixel (oh, ow)'s first tap */
            const int64_t unit = inside ? Cin : cin_g;
            for (int64_t oh = oh0, q = 0; oh < oh1; oh++)
                for (int64_t ow = ow0; ow < ow1; ow++, q++) {
                    if (inside)
                        pix[q] = xg + (((od * ax[0].stride - ax[0].pad) * ax[1].in + oh * ax[1].stride - ax[1].pad) * ax[2].in +
                                       ow * ax[2].stride - ax[2].pad) * unit;
                    else
                        pix[q] = band + ((oh - oh0) * ax[1].stride * plan.band[2].count + (ow - ow0) * ax[2].stride) * unit;
                }
            for (int64_t q = np; q < np + mr; q++) pix[q] = pix[0];
            if (!inside) DNAME(fill_band)(ax, &plan, channels_last, Cin, cin_g, xg, od, oh0, ow0, runs, 0, band);
            const int64_t width = ow1 - ow0;
            for (int64_t k0 = 0; k0 == 0 || k0 < K; k0 += kc_max) { /* K = 0: the bias alone */
                const int64_t k1 = CONVX_MIN(K, k0 + kc_max);
                for (int64_t q0 = 0; q0 < np; q0 += mr) {
                    int64_t *seg = segs + (q0 / mr) * seg_stride;
                    seg[0] = DNAME(block_segments)(d, ax, od, oh0, ow0, width, q0, CONVX_MIN(mr, np - q0), k0, k1,
                                                   skip_padding && !inside, seg + 1);
                }
                for (int64_t panel = job.panel_begin; panel < job.panel_end; panel++) {
                    const int64_t co0 = panel * nr, channels = CONVX_MIN(nr, cout_g - co0);
                    const T *wp = w + (g * panels + panel) * K * nr;
                    const T *bp = bias && k0 == 0 ? bias + g * cout_g + co0 : NULL;
                    for (int64_t q0 = 0; q0 < np; q0 += mr) {
                        /* tile pixel q0's output pixel: a tile is whole rows (so a block may run
                         * on into the next row, contiguous in the output) or part of one row */
                        const int64_t oh = oh0 + q0 / width, ow = ow0 + q0 % width;
                        const int64_t p = (od * out1 + oh) * out2 + ow, m = CONVX_MIN(mr, np - q0);
                        const int64_t *seg = segs + (q0 / mr) * seg_stride;
                        T *c = channels_last ? y + (n * P + p) * Cout + g * cout_g + co0
                                             : y + (n * Cout + g * cout_g + co0) * P + p;
                        kernel.run(seg[0], seg + 1, pix + q0, off, wp, c, channels_last ? Cout : 1,
                                           channels_last ? 1 : P, m, channels, k0 > 0, bp);
                    }
                }
            }
        }
        convx_free(segs);
    }
    convx_free(off_x);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* Channels-first transposed convolution with few output channels, phase by phase (phase_taps),
 * on the pixel-vector GEMM. A task is a tile of one
 * phase combination's output grid (n, g, combination, md, tile); per chunk of the combination's
 * k = (ci, its taps), B holds the input runs the tile's pixels read, contiguous (zero where they
 * leave the input), and A those k's rows of the packed panels, copied (the packing does not
 * depend on the stride, so a combination's k are not contiguous there); the GEMM computes the
 * tile's pixels side by side and they are scattered to every stride-th output pixel. Outputs of
 * phases no tap reaches are the bias alone. */
static convx_status DNAME(dense_transposed)(const convx_conv_desc *d, const convx_axis ax[3], const T *a,
                                            const T *bias, const T *x, T *y, int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t mr = kt->KT_MR, nr = kt->KT_NR;
    const int64_t N = d->batch, G = d->groups, Cin = d->in_channels, Cout = d->out_channels;
    const int64_t cin_g = Cin / G, cout_g = Cout / G, panels = convx_ceil_div(cout_g, mr);
    const int64_t K = cin_g * ax[0].kernel * ax[1].kernel * ax[2].kernel;
    const int64_t P = ax[0].out * ax[1].out * ax[2].out, Pin = ax[0].in * ax[1].in * ax[2].in;
    const int64_t out1 = ax[1].out, out2 = ax[2].out, in1 = ax[1].in, in2 = ax[2].in;
    DNAME(phase_taps) pt;
    if (DNAME(plan_phase_taps)(ax, &pt) != CONVX_OK) return CONVX_ERR_NO_MEMORY;
    const int64_t combos = pt.count[0] * pt.count[1] * pt.count[2];
    if (!pt.all_phases) DNAME(fill_with_bias)(d, P, bias, y);
    /* A phase grid has at most ceil(out / stride) rows and cols per axis. Tiles of up to 256 of
     * its pixels (fewer for many output channels: the C tile stays within scratch_elems): whole
     * rows (rows_per_tile of them), or pieces of one long row. K chunks of up to dense_kc, fewer
     * for many output channels (the A copy stays within scratch_elems too). */
    enum { scratch_elems = 1 << 18 };
    const int64_t rows0 = convx_ceil_div(ax[0].out, ax[0].stride), rows1 = convx_ceil_div(out1, ax[1].stride);
    const int64_t cols = convx_ceil_div(out2, ax[2].stride);
    const int64_t target = CONVX_MAX(nr, CONVX_MIN(256, scratch_elems / CONVX_MAX(cout_g, 1)));
    const int64_t rows_per_tile = CONVX_MAX(1, target / cols), pieces = convx_ceil_div(cols, target);
    const int64_t tiles = convx_ceil_div(rows1, rows_per_tile) * pieces;
    const int64_t np_max = CONVX_MIN(CONVX_MIN(rows_per_tile, rows1) * cols, target);
    const int64_t ldb_max = convx_ceil_div(np_max, nr) * nr, tasks = N * G * combos * rows0 * tiles;
    const int64_t kc_max = CONVX_MIN(CONVX_MIN(CONVX_MAX(K, 1), DNAME(dense_kc)),
                                     CONVX_MAX(8, scratch_elems / (panels * mr)));
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        /* per thread: the B tile, the C tile (its pixels in grid order, scattered after), then
         * the A panels of a k chunk (its k in phase order) */
        T *bbuf = (T *)convx_thread_scratch(
            (size_t)((kc_max + cout_g) * ldb_max + panels * kc_max * mr) * sizeof(T), &failed);
        T *cbuf = bbuf ? bbuf + kc_max * ldb_max : NULL, *achunk = cbuf ? cbuf + cout_g * ldb_max : NULL;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < tasks; task++) {
            if (!bbuf) continue;
            const int64_t tile = task % tiles, md = (task / tiles) % rows0;
            const int64_t c = (task / (tiles * rows0)) % combos, g = (task / (tiles * rows0 * combos)) % G;
            const int64_t n = task / (tiles * rows0 * combos * G);
            int64_t p[3], ph[3];
            const int64_t ntaps = DNAME(phase_combination)(&pt, c, p), Kc = cin_g * ntaps;
            for (int i = 0; i < 3; i++) ph[i] = pt.phase[i][p[i]];
            const int64_t od = ph[0] + ax[0].stride * md;
            if (od >= ax[0].out || ph[1] >= out1 || ph[2] >= out2) continue;
            /* this phase's grid: grid_rows x grid_cols; the tile's rows [mh0, mh1), columns [m0, m1) */
            const int64_t grid_rows = convx_ceil_div(out1 - ph[1], ax[1].stride);
            const int64_t grid_cols = convx_ceil_div(out2 - ph[2], ax[2].stride);
            const int64_t mh0 = (tile / pieces) * rows_per_tile, m0 = (tile % pieces) * target;
            const int64_t mh1 = CONVX_MIN(grid_rows, mh0 + rows_per_tile), m1 = CONVX_MIN(grid_cols, m0 + target);
            if (mh0 >= mh1 || m0 >= m1) continue;
            const int64_t width = m1 - m0, np = (mh1 - mh0) * width, ldb = convx_ceil_div(np, nr) * nr;
            const int64_t kc_step = CONVX_MIN(DNAME(k_chunk)(Kc), kc_max);
            const T *xg = x + (n * Cin + g * cin_g) * Pin;
            for (int64_t k0 = 0; k0 == 0 || k0 < Kc; k0 += kc_step) { /* Kc = 0: the bias alone */
                const int64_t kc = CONVX_MIN(kc_step, Kc - k0);
                for (int64_t k = k0; k < k0 + kc; k++) { /* k = (ci, j0, j1, j2) of the combination */
                    int64_t t[3];
                    const int64_t ci = k / ntaps, tap = DNAME(combination_tap)(&pt, p, ax, k % ntaps, t);
                    kt->KT_COPY_PIXELS(panels, mr, a + (g * panels * K + ci * (K / cin_g) + tap) * mr, K * mr,
                                       achunk + (k - k0) * mr, kc * mr);
                    int64_t shift[3]; /* output phase + stride * m reads input m + shift */
                    for (int i = 0; i < 3; i++) shift[i] = DNAME(tap_shift)(&ax[i], t[i]);
                    const int64_t id = md + shift[0], iw0 = m0 + shift[2];
                    /* the input holds rows [r_lo, r_hi) of the tile, columns iw0 + [lo, hi) */
                    const int64_t lo = CONVX_MIN(width, CONVX_MAX(0, -iw0)), hi = CONVX_MAX(lo, CONVX_MIN(width, in2 - iw0));
                    const int64_t r_lo = CONVX_MAX(mh0, -shift[1]), r_hi = CONVX_MIN(mh1, in1 - shift[1]);
                    T *dst = bbuf + (k - k0) * ldb;
                    const int inside = id >= 0 && id < ax[0].in && r_lo < r_hi && lo < hi;
                    if (!inside || r_lo > mh0 || r_hi < mh1 || lo > 0 || hi < width || ldb > np)
                        memset(dst, 0, (size_t)ldb * sizeof(T));
                    if (inside)
                        kt->KT_COPY_PIXELS(r_hi - r_lo, hi - lo,
                                           xg + ci * Pin + (id * in1 + r_lo + shift[1]) * in2 + iw0 + lo, in2,
                                           dst + (r_lo - mh0) * width + lo, width);
                }
                DNAME(gemm_channel_panels)(kc, achunk, kc * mr, 0, panels, cout_g, bbuf, ldb, np, cbuf, ldb, 1, k0 > 0,
                                           bias ? bias + g * cout_g : NULL);
            }
            /* every stride-th output pixel of each row */
            T *yg = y + (n * Cout + g * cout_g) * P + od * out1 * out2;
            for (int64_t co = 0; co < cout_g; co++)
                for (int64_t mh = mh0; mh < mh1; mh++) {
                    const T *src = cbuf + co * ldb + (mh - mh0) * width;
                    T *out = yg + co * P + (ph[1] + ax[1].stride * mh) * out2 + ph[2] + ax[2].stride * m0;
                    for (int64_t q = 0; q < width; q++) out[q * ax[2].stride] = src[q];
                }
        }
        convx_free(bbuf);
    }
    convx_free(pt.phase[0]);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* The k ranges of chunk [k0, k1) of phase combination p's own k = (its j-th tap, ci), as
 * ranges of the packed weights' k = (tap, ci): one per tap, merged where taps are adjacent.
 * lo/hi (or NULL): a block of grid pixels, [lo[i], hi[i]] along axis i, whose taps that read
 * only zero padding are left out. Returns the range count. */
static int64_t DNAME(combination_segments)(const DNAME(phase_taps) *pt, const int64_t p[3], const convx_axis ax[3],
                                           int64_t cin_g, int64_t k0, int64_t k1, const int64_t *lo,
                                           const int64_t *hi, int64_t *seg) {
    int64_t count = 0;
    for (int64_t j = cin_g > 0 ? k0 / cin_g : 0; j * cin_g < k1; j++) {
        int64_t t[3];
        const int64_t tap = DNAME(combination_tap)(pt, p, ax, j, t);
        int reads_input = 1;
        for (int i = 0; lo && i < 3; i++) {
            const int64_t shift = DNAME(tap_shift)(&ax[i], t[i]);
            reads_input &= hi[i] + shift >= 0 && lo[i] + shift < ax[i].in;
        }
        if (!reads_input) continue;
        const int64_t b = tap * cin_g + CONVX_MAX(k0 - j * cin_g, 0), e = tap * cin_g + CONVX_MIN(k1 - j * cin_g, cin_g);
        if (count > 0 && seg[2 * count - 1] == b)
            seg[2 * count - 1] = e;
        else
            seg[2 * count] = b, seg[2 * count + 1] = e, count++;
    }
    return count;
}

/* The forward stride-1 axes whose band holds what a tile of grid pixels reads: shared, over
 * the span of every tap's shift (kernel: the span, pad: minus the least shift), the same for
 * all combinations; or for combination p's taps alone, whose shifts step evenly (by dilation /
 * gcd(stride, dilation); its last tap's the least), so that the band keeps only the rows and
 * columns they read: with a dilation well above the stride, the span is mostly gaps. */
static void DNAME(band_axes)(const convx_axis ax[3], const DNAME(phase_taps) *pt, int per_phase, const int64_t p[3],
                             convx_axis fa[3]) {
    for (int i = 0; i < 3; i++) {
        const convx_axis *a = &ax[i];
        fa[i] = *a;
        fa[i].out = convx_ceil_div(a->out, a->stride), fa[i].stride = 1;
        fa[i].transposed = 0, fa[i].mode = CONVX_PAD_ZEROS;
        if (per_phase) {
            const int64_t first = pt->first[i][p[i]], count = pt->first[i][p[i] + 1] - first;
            int64_t g = a->stride, r = a->dilation; /* their gcd */
            while (r) {
                const int64_t next = g % r;
                g = r, r = next;
            }
            fa[i].kernel = count, fa[i].dilation = count > 1 ? a->dilation / g : 1;
            fa[i].pad = -DNAME(tap_shift)(a, pt->tap[i][first + count - 1]);
        } else {
            int64_t lo = DNAME(tap_shift)(a, 0), hi = lo;
            for (int64_t k = 1; k < a->kernel; k++)
                lo = CONVX_MIN(lo, DNAME(tap_shift)(a, k)), hi = CONVX_MAX(hi, DNAME(tap_shift)(a, k));
            fa[i].kernel = hi - lo + 1, fa[i].dilation = 1, fa[i].pad = -lo;
        }
    }
}

/* Transposed convolution phase by phase on the direct kernel. Grid pixel m of
 * every phase combination reads input m + shift(k) (tap_shift), so all combinations of a tile
 * of grid pixels read one band: the input under the tile, widened by the span of the shifts,
 * zero outside the input. A forward stride-1 axis (kernel: the span, pad: minus the least
 * shift) describes that to plan_direct, tile_inside and fill_band. Per combination the kernel
 * takes just its taps, as k ranges of the packed weights (no copy), and stores each grid row
 * of pixels to every stride-th output pixel. Outputs of phases no tap reaches are the bias
 * alone. */
static convx_status DNAME(dense_transposed_direct)(const convx_conv_desc *d, const convx_axis ax[3], const T *w,
                                                   const T *bias, const T *x, T *y, int num_threads) {
    const DNAME(direct_kernel) kernel = DNAME(direct_kernel_for)(d->out_channels / d->groups);
    const int64_t mr = kernel.mr, nr = kernel.nr;
    const int64_t N = d->batch, G = d->groups, Cin = d->in_channels, Cout = d->out_channels;
    const int64_t cin_g = Cin / G, cout_g = Cout / G, panels = convx_ceil_div(cout_g, nr);
    const int64_t taps = ax[0].kernel * ax[1].kernel * ax[2].kernel, K = cin_g * taps;
    const int64_t out1 = ax[1].out, out2 = ax[2].out, P = ax[0].out * out1 * out2;
    const int64_t in1 = ax[1].in, in2 = ax[2].in, Pin = ax[0].in * in1 * in2;
    const int channels_last = d->layout == CONVX_CHANNELS_LAST;
    DNAME(phase_taps) pt;
    if (DNAME(plan_phase_taps)(ax, &pt) != CONVX_OK) return CONVX_ERR_NO_MEMORY;
    const int64_t combos = pt.count[0] * pt.count[1] * pt.count[2];
    if (!pt.all_phases) DNAME(fill_with_bias)(d, P, bias, y);
    /* The phase grids (ceil(out / stride) per axis at most) as forward problems over the input:
     * one band for all combinations, or one per combination when that copies less. */
    int64_t widest[3]; /* per axis, a phase with the most taps */
    for (int i = 0; i < 3; i++) {
        widest[i] = 0;
        for (int64_t j = 1; j < pt.count[i]; j++)
            if (pt.first[i][j + 1] - pt.first[i][j] > pt.first[i][widest[i] + 1] - pt.first[i][widest[i]]) widest[i] = j;
    }
    convx_axis grid[3];
    DNAME(band_axes)(ax, &pt, 0, widest, grid);
    const DNAME(direct_plan) shared = DNAME(plan_direct)(grid, N * grid[0].out * G, cin_g, 256, 1 << 20, num_threads);
    DNAME(band_axes)(ax, &pt, 1, widest, grid);
    const DNAME(direct_plan) split = DNAME(plan_direct)(grid, N * grid[0].out * G, cin_g, 256, 1 << 20, num_threads);
    int64_t split_count = 0; /* the bands of all combinations, per tile */
    for (int64_t c = 0; c < combos; c++) {
        int64_t p[3];
        DNAME(phase_combination)(&pt, c, p);
        DNAME(direct_plan) b = split;
        DNAME(band_axes)(ax, &pt, 1, p, grid);
        DNAME(set_band)(&b, grid);
        split_count = convx_size_mul(1, split_count + b.band_count);
    }
    /* elements copied per tile pixel */
    const int per_phase = split_count / (split.rows * split.cols) < shared.band_count / (shared.rows * shared.cols);
    const DNAME(direct_plan) plan = per_phase ? split : shared;
    DNAME(band_axes)(ax, &pt, per_phase, widest, grid); /* the tiles' grid */
    const int64_t tiles = grid[0].out * plan.row_blocks * plan.col_blocks;
    const DNAME(tasks) tasks = DNAME(plan_tasks)(N, G, tiles, 1, tiles, panels, num_threads);
    const int64_t tile_max = plan.rows * plan.cols;
    /* finite weights: a block's taps that read only padding may be skipped (0 * Inf is NaN) */
    const int skip_padding = w[DNAME(dense_packed_count)(d)] != 0;
    int failed = 0;

    /* Each tap's offset from a grid pixel's input (m on every axis), and from the pixel's place in
     * the band of the tap's combination (each tap is in one). */
    int64_t *off_x = (int64_t *)convx_alloc((size_t)(2 * K + 1) * sizeof(int64_t)), *off_band = off_x + K;
    if (!off_x) {
        convx_free(pt.phase[0]);
        return CONVX_ERR_NO_MEMORY;
    }
    for (int64_t c = 0; c < combos; c++) {
        int64_t p[3];
        const int64_t ntaps = DNAME(phase_combination)(&pt, c, p);
        convx_axis fa[3];
        DNAME(band_axes)(ax, &pt, per_phase, p, fa);
        DNAME(direct_plan) b = plan;
        DNAME(set_band)(&b, fa);
        const int64_t bw = b.band[2].count, bhw = b.band[1].count * bw;
        for (int64_t j = 0; j < ntaps; j++) {
            int64_t t[3];
            const int64_t tap = DNAME(combination_tap)(&pt, p, ax, j, t);
            int64_t e[3], pos[3]; /* the tap's input from m, and its place in the band */
            for (int i = 0; i < 3; i++) {
                e[i] = DNAME(tap_shift)(&ax[i], t[i]);
                pos[i] = (e[i] + fa[i].pad) / fa[i].dilation * b.band[i].tap_step;
            }
            for (int64_t ci = 0; ci < cin_g; ci++) {
                off_x[tap * cin_g + ci] = ci + ((e[0] * in1 + e[1]) * in2 + e[2]) * Cin;
                off_band[tap * cin_g + ci] = ci + (pos[0] * bhw + pos[1] * bw + pos[2]) * cin_g;
            }
        }
    }

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks.count > 1)
    {
        /* Per thread: a chunk's k ranges (one per tap at most), a border block's, the band's
         * column runs, the pixel pointers (padded to a whole block of mr), then the band. */
        const int64_t seg_count = 4 * taps, runs_count = 3 * plan.band[2].count;
        int64_t *seg = (int64_t *)convx_thread_scratch((size_t)(seg_count + runs_count) * sizeof(int64_t) +
                                                           (size_t)(tile_max + mr) * sizeof(T *) +
                                                           (size_t)plan.band_count * sizeof(T),
                                                       &failed);
        int64_t *runs = seg ? seg + seg_count : NULL;
        const T **pix = seg ? (const T **)(runs + runs_count) : NULL;
        T *band = pix ? (T *)(pix + tile_max + mr) : NULL;
#pragma omp for schedule(dynamic)
        for (int64_t index = 0; index < tasks.count; index++) {
            if (!band) continue;
            const DNAME(task) job = DNAME(task_at)(&tasks, index, tasks.ptiles);
            const int64_t n = job.n, g = job.g, per_plane = plan.row_blocks * plan.col_blocks;
            const int64_t md = job.p0 / per_plane;
            const DNAME(tile_rect) r = DNAME(tile_at)(&plan, grid, job.p0 % per_plane);
            const int64_t width = r.ow1 - r.ow0, np = (r.oh1 - r.oh0) * width;
            const T *xg = x + (channels_last ? n * Pin * Cin + g * cin_g : (n * Cin + g * cin_g) * Pin);
            convx_axis fa[3]; /* the band's axes */
            int tile_in = 0;  /* every tap of the tile inside the input */
            const int64_t *off = off_band;
            int band_ready = 0;
            for (int64_t c = 0; c < combos; c++) {
                int64_t p[3], ph[3], rows[3];
                const int64_t Kc = cin_g * DNAME(phase_combination)(&pt, c, p);
                for (int i = 0; i < 3; i++) { /* the phase and its grid's extent */
                    ph[i] = pt.phase[i][p[i]];
                    rows[i] = ph[i] < ax[i].out ? convx_ceil_div(ax[i].out - ph[i], ax[i].stride) : 0;
                }
                const int64_t mh1 = CONVX_MIN(r.oh1, rows[1]), mw1 = CONVX_MIN(r.ow1, rows[2]);
                if (md >= rows[0] || r.oh0 >= mh1 || r.ow0 >= mw1) continue;
                if (per_phase || !band_ready) { /* this combination's band (or the shared one, once) */
                    DNAME(band_axes)(ax, &pt, per_phase, p, fa);
                    DNAME(direct_plan) b = plan;
                    DNAME(set_band)(&b, fa);
                    tile_in = DNAME(tile_inside)(fa, md, r.oh0, r.oh1, r.ow0, r.ow1);
                    /* channels-first always copies: its band holds a pixel's channels side by side */
                    const int inside = channels_last && tile_in;
                    for (int64_t q = 0; q < np; q++) {
                        const int64_t mh = r.oh0 + q / width, mw = r.ow0 + q % width;
                        pix[q] = inside ? xg + ((md * in1 + mh) * in2 + mw) * Cin
                                        : band + ((mh - r.oh0) * b.band[2].count + mw - r.ow0) * cin_g;
                    }
                    for (int64_t q = np; q < np + mr; q++) pix[q] = pix[0];
                    if (!inside) DNAME(fill_band)(fa, &b, channels_last, Cin, cin_g, xg, md, r.oh0, r.ow0, runs, 0, band);
                    off = inside ? off_x : off_band;
                    band_ready = 1;
                }
                /* output pixels along a grid row, and channels, are pix_step and ch_step apart */
                const int64_t od = ph[0] + ax[0].stride * md, pix_step = ax[2].stride * (channels_last ? Cout : 1);
                const int64_t ch_step = channels_last ? 1 : P;
                const int64_t kc_step = DNAME(direct_k_chunk)(Kc, nr);
                for (int64_t k0 = 0; k0 == 0 || k0 < Kc; k0 += kc_step) { /* Kc = 0: the bias alone */
                    const int64_t k1 = CONVX_MIN(Kc, k0 + kc_step);
                    const int64_t nseg = DNAME(combination_segments)(&pt, p, ax, cin_g, k0, k1, NULL, NULL, seg);
                    int64_t *border_seg = seg + 2 * taps;
                    for (int64_t panel = job.panel_begin; panel < job.panel_end; panel++) {
                        const int64_t co0 = panel * nr, channels = CONVX_MIN(nr, cout_g - co0);
                        const T *wp = w + (g * panels + panel) * K * nr;
                        const T *bp = bias && k0 == 0 ? bias + g * cout_g + co0 : NULL;
                        for (int64_t mh = r.oh0; mh < mh1; mh++) {
                            const T *const *row_pix = pix + (mh - r.oh0) * width;
                            const int64_t o = (od * out1 + ph[1] + ax[1].stride * mh) * out2 + ph[2] + ax[2].stride * r.ow0;
                            T *out = y + (channels_last ? (n * P + o) * Cout + g * cout_g + co0
                                                        : (n * Cout + g * cout_g + co0) * P + o);
                            for (int64_t q0 = 0; q0 < mw1 - r.ow0; q0 += mr) {
                                const int64_t m = CONVX_MIN(mr, mw1 - r.ow0 - q0);
                                const int64_t lo[3] = {md, mh, r.ow0 + q0}, hi[3] = {md, mh, r.ow0 + q0 + m - 1};
                                const int border = skip_padding && !tile_in &&
                                                   !DNAME(tile_inside)(fa, md, mh, mh + 1, lo[2], hi[2] + 1);
                                const int64_t count = border ? DNAME(combination_segments)(&pt, p, ax, cin_g, k0, k1, lo, hi, border_seg) : nseg;
                                kernel.run(count, border ? border_seg : seg, row_pix + q0, off, wp, out + q0 * pix_step,
                                                   pix_step, ch_step, m, channels, k0 > 0, bp);
                            }
                        }
                    }
                }
            }
        }
        convx_free(seg);
    }
    convx_free(off_x);
    convx_free(pt.phase[0]);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* A transposed layer sums only the taps that reach an input pixel; its kernels also multiply
 * zero padding by the other taps' weights, the same sum unless a weight is Inf or NaN (0 * Inf
 * is NaN). With such weights the outputs some tap of which leaves the input are recomputed
 * here, from the packed weights, tap by tap. */
static convx_status DNAME(transposed_exact_borders)(const convx_conv_desc *d, const convx_axis ax[3], const T *packed,
                                                    const T *bias, const T *x, T *y, int num_threads) {
    const int tap_major = !DNAME(pixel_vector_gemm)(d), channels_last = d->layout == CONVX_CHANNELS_LAST;
    const int64_t width = DNAME(panel_width)(d);
    const int64_t N = d->batch, G = d->groups, Cin = d->in_channels, Cout = d->out_channels;
    const int64_t cin_g = Cin / G, cout_g = Cout / G, panels = convx_ceil_div(cout_g, width);
    const int64_t k1 = ax[1].kernel, k2 = ax[2].kernel, taps = ax[0].kernel * k1 * k2, K = cin_g * taps;
    const int64_t P = ax[0].out * ax[1].out * ax[2].out, Pin = ax[0].in * ax[1].in * ax[2].in;
    /* per axis and output: does a tap that reaches it come from outside the input? */
    unsigned char *leaves = (unsigned char *)convx_alloc((size_t)(ax[0].out + ax[1].out + ax[2].out));
    if (!leaves) return CONVX_ERR_NO_MEMORY;
    unsigned char *axis_leaves[3] = {leaves, leaves + ax[0].out, leaves + ax[0].out + ax[1].out};
    for (int i = 0; i < 3; i++)
        for (int64_t o = 0; o < ax[i].out; o++) {
            axis_leaves[i][o] = 0;
            for (int64_t k = 0; k < ax[i].kernel; k++) {
                const int64_t t = o + ax[i].pad - k * ax[i].dilation; /* input * stride */
                if (convx_floor_div(t, ax[i].stride) * ax[i].stride == t && convx_axis_tap(&ax[i], o, k) < 0)
                    axis_leaves[i][o] = 1;
            }
        }
#pragma omp parallel for schedule(dynamic, 64) num_threads(num_threads) if (num_threads > 1)
    for (int64_t p = 0; p < P; p++) {
        const int64_t o[3] = {p / (ax[1].out * ax[2].out), (p / ax[2].out) % ax[1].out, p % ax[2].out};
        if (!axis_leaves[0][o[0]] && !axis_leaves[1][o[1]] && !axis_leaves[2][o[2]]) continue;
        for (int64_t n = 0; n < N; n++)
            for (int64_t co = 0; co < Cout; co++) {
                const int64_t g = co / cout_g, c = co % cout_g;
                const T *wp = packed + ((g * panels + c / width) * K) * width + c % width;
                T acc = bias ? bias[co] : (T)0;
                for (int64_t tap = 0; tap < taps; tap++) {
                    const int64_t t[3] = {tap / (k1 * k2), (tap / k2) % k1, tap % k2};
                    int64_t in[3];
                    for (int i = 0; i < 3; i++) in[i] = convx_axis_tap(&ax[i], o[i], t[i]);
                    if (in[0] < 0 || in[1] < 0 || in[2] < 0) continue;
                    const int64_t q = (in[0] * ax[1].in + in[1]) * ax[2].in + in[2];
                    for (int64_t ci = 0; ci < cin_g; ci++) {
                        const T v = channels_last ? x[(n * Pin + q) * Cin + g * cin_g + ci]
                                                  : x[(n * Cin + g * cin_g + ci) * Pin + q];
                        acc += v * wp[(tap_major ? tap * cin_g + ci : ci * taps + tap) * width];
                    }
                }
                y[channels_last ? (n * P + p) * Cout + co : (n * Cout + co) * P + p] = acc;
            }
    }
    convx_free(leaves);
    return CONVX_OK;
}

/* Runs with weights packed by dense_pack for the same descriptor. */
convx_status DNAME(dense_run)(const convx_conv_desc *d, const T *packed, const T *bias, const T *x, T *y,
                              int num_threads) {
    convx_axis ax[3];
    convx_axes_from_desc(d, ax);
    if (d->batch == 0 || ax[0].out * ax[1].out * ax[2].out == 0 || d->out_channels == 0) return CONVX_OK;
    const int gemm = DNAME(pixel_vector_gemm)(d);
    if (!d->transposed)
        return gemm ? DNAME(dense_channels_first)(d, ax, packed, bias, x, y, num_threads)
                    : DNAME(dense_direct)(d, ax, packed, bias, x, y, num_threads);
    const convx_status status = gemm ? DNAME(dense_transposed)(d, ax, packed, bias, x, y, num_threads)
                                     : DNAME(dense_transposed_direct)(d, ax, packed, bias, x, y, num_threads);
    const int finite = packed[DNAME(dense_packed_count)(d)] != 0;
    return status != CONVX_OK || finite ? status : DNAME(transposed_exact_borders)(d, ax, packed, bias, x, y, num_threads);
}

#undef DNAME
