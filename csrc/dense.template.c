/* Dense, grouped and transposed convolution as an implicit GEMM, for one element type.
 *
 * Per group: Y[co, p] = sum_k A[co, k] * B[k, p] with k = (ci, kd, kh, kw) and p an output
 * pixel. A is the weight, packed once (dense_pack) into MR-row panels. B is never materialised
 * whole: each task packs one KC x NC tile of it (row-major, L2-sized) straight from the input, resolving stride,
 * dilation, padding mode and the transposed gather in the addressing, then runs the
 * micro-kernel over it. The including file defines T, SFX, KT_MR, KT_NR, KT_GEMM. */

#define DNAME(name) CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, SFX))

enum { DNAME(dense_kc) = 256, DNAME(dense_nc_target) = 192 };

/* Layout-independent element strides of a (N, C, spatial) array. */
typedef struct {
    int64_t n, c, sp;
} DNAME(strides);

CONVX_INLINE DNAME(strides) DNAME(array_strides)(convx_layout layout, int64_t channels, int64_t pixels) {
    DNAME(strides) s;
    s.n = channels * pixels;
    s.c = layout == CONVX_CHANNELS_FIRST ? pixels : 1;
    s.sp = layout == CONVX_CHANNELS_FIRST ? 1 : channels;
    return s;
}

/* A[g][panel][k][MR]: weight rows of group g, MR output channels per panel, zero-padded. */
T *DNAME(dense_pack)(const convx_conv_desc *d, const T *w) {
    const int64_t mr = convx_kernels()->KT_MR;
    const int64_t G = d->groups, cin_g = d->in_channels / G, cout_g = d->out_channels / G;
    const int64_t taps = d->kernel[0] * d->kernel[1] * d->kernel[2], K = cin_g * taps;
    const int64_t panels = convx_ceil_div(cout_g, mr);
    size_t count = (size_t)(G * panels * K * mr);
    T *a = (T *)convx_alloc(count * sizeof(T));
    if (!a) return NULL;
    for (size_t i = 0; i < count; i++) a[i] = 0;
    for (int64_t g = 0; g < G; g++)
        for (int64_t co = 0; co < cout_g; co++)
            for (int64_t ci = 0; ci < cin_g; ci++)
                for (int64_t t = 0; t < taps; t++) {
                    int64_t src = d->transposed ? ((g * cin_g + ci) * cout_g + co) * taps + t
                                                : ((g * cout_g + co) * cin_g + ci) * taps + t;
                    int64_t k = ci * taps + t;
                    a[((g * panels + co / mr) * K + k) * mr + co % mr] = w[src];
                }
    return a;
}

/* Packs B[k0:k0+kc, p0:p0+np] of batch n, group g as rows of ldb pixels (zero beyond np), so
 * each run of pixels along an output row is one contiguous copy of the input where it can be. */
static void DNAME(pack_input_tile)(const convx_conv_desc *d, const convx_axis ax[3], const T *x,
                                   DNAME(strides) sx, int64_t n, int64_t g, int64_t k0, int64_t kc,
                                   int64_t p0, int64_t np, int64_t ldb, T *bbuf) {
    const int64_t cin_g = d->in_channels / d->groups;
    const int64_t k1 = ax[1].kernel, k2 = ax[2].kernel, taps = ax[0].kernel * k1 * k2;
    const int64_t out1 = ax[1].out, out2 = ax[2].out, in1 = ax[1].in, in2 = ax[2].in;
    /* Interior taps of a stride-1 channels-first row are one contiguous run of the input. */
    const int contiguous = sx.sp == 1 && ax[2].stride == 1;
    for (int64_t kk = 0; kk < kc; kk++) {
        const int64_t k = k0 + kk, ci = k / taps, t = k % taps;
        const int64_t kd = t / (k1 * k2), kh = (t / k2) % k1, kw = t % k2;
        const T *chan = x + n * sx.n + (g * cin_g + ci) * sx.c;
        T *dst = bbuf + kk * ldb;
        int64_t lo = 0, hi = 0, shift = 0; /* outputs [lo, hi) read input o * stride + shift */
        if (!d->transposed) {
            convx_axis_interior(&ax[2], kw, &lo, &hi);
            shift = kw * ax[2].dilation - ax[2].pad;
        }
        for (int64_t q = 0, p = p0; q < np;) {
            const int64_t ow0 = p % out2, oh = (p / out2) % out1, od = p / (out2 * out1);
            const int64_t end = ow0 + CONVX_MIN(out2 - ow0, np - q);
            const int64_t id = convx_axis_tap(&ax[0], od, kd), ih = convx_axis_tap(&ax[1], oh, kh);
            T *run = dst + q - ow0; /* run[o] is output column o of this row */
            if (id < 0 || ih < 0) {
                for (int64_t o = ow0; o < end; o++) run[o] = 0;
            } else {
                const T *row = chan + (id * in1 + ih) * in2 * sx.sp;
                const int64_t mid_lo = CONVX_MIN(CONVX_MAX(ow0, lo), end);
                const int64_t mid_hi = CONVX_MAX(CONVX_MIN(end, hi), mid_lo);
                for (int64_t o = ow0; o < mid_lo; o++) {
                    const int64_t iw = convx_axis_tap(&ax[2], o, kw);
                    run[o] = iw < 0 ? (T)0 : row[iw * sx.sp];
                }
                if (contiguous)
                    memcpy(run + mid_lo, row + mid_lo + shift, (size_t)(mid_hi - mid_lo) * sizeof(T));
                else
                    for (int64_t o = mid_lo; o < mid_hi; o++) run[o] = row[(o * ax[2].stride + shift) * sx.sp];
                for (int64_t o = mid_hi; o < end; o++) {
                    const int64_t iw = convx_axis_tap(&ax[2], o, kw);
                    run[o] = iw < 0 ? (T)0 : row[iw * sx.sp];
                }
            }
            q += end - ow0;
            p += end - ow0;
        }
        for (int64_t q = np; q < ldb; q++) dst[q] = 0;
    }
}

/* Runs with weights packed by dense_pack for the same descriptor. */
convx_status DNAME(dense_run)(const convx_conv_desc *d, const T *a, const T *bias, const T *x, T *y,
                              int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t mr = kt->KT_MR, nr = kt->KT_NR;
    convx_axis ax[3];
    convx_axes_from_desc(d, ax);
    const int64_t N = d->batch, G = d->groups;
    const int64_t cin_g = d->in_channels / G, cout_g = d->out_channels / G;
    const int64_t K = cin_g * ax[0].kernel * ax[1].kernel * ax[2].kernel;
    const int64_t P = ax[0].out * ax[1].out * ax[2].out, Pin = ax[0].in * ax[1].in * ax[2].in;
    if (N == 0 || P == 0 || cout_g == 0) return CONVX_OK;
    const int64_t panels = convx_ceil_div(cout_g, mr);

    const DNAME(strides) sx = DNAME(array_strides)(d->layout, d->in_channels, Pin);
    const DNAME(strides) sy = DNAME(array_strides)(d->layout, d->out_channels, P);
    const int64_t kc_max = DNAME(dense_kc);
    const int64_t nc = convx_ceil_div(DNAME(dense_nc_target), nr) * nr;
    const int64_t ptiles = convx_ceil_div(P, nc);
    /* Split output channels too when batch x groups x pixel tiles cannot feed every thread. */
    int64_t csplit = 1;
    while (N * G * ptiles * csplit < 4 * num_threads && csplit * 2 <= panels) csplit *= 2;
    const int64_t panels_per_split = convx_ceil_div(panels, csplit);
    const int64_t tasks = N * G * ptiles * csplit;
    const size_t bbuf_count = (size_t)(nc * CONVX_MIN(kc_max, CONVX_MAX(K, 1)));
    (void)nr;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        T *bbuf = (T *)convx_alloc(bbuf_count * sizeof(T));
        if (!bbuf) {
#pragma omp critical(convx_failed)
            failed = 1;
        }
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < tasks; task++) {
            if (!bbuf) continue;
            const int64_t cs = task % csplit, pt = (task / csplit) % ptiles;
            const int64_t g = (task / (csplit * ptiles)) % G, n = task / (csplit * ptiles * G);
            const int64_t p0 = pt * nc, np = CONVX_MIN(nc, P - p0);
            const int64_t panel_end = CONVX_MIN(panels, (cs + 1) * panels_per_split);
            for (int64_t k0 = 0; k0 == 0 || k0 < K; k0 += kc_max) {
                const int64_t kc = CONVX_MIN(kc_max, K - k0);
                const int64_t ldb = convx_ceil_div(np, nr) * nr;
                DNAME(pack_input_tile)(d, ax, x, sx, n, g, k0, kc, p0, np, ldb, bbuf);
                for (int64_t panel = cs * panels_per_split; panel < panel_end; panel++) {
                    const int64_t co0 = panel * mr, rows = CONVX_MIN(mr, cout_g - co0);
                    const T *ap = a + ((g * panels + panel) * K + k0) * mr;
                    const T *bp = bias ? bias + g * cout_g + co0 : NULL;
                    for (int64_t q0 = 0; q0 < np; q0 += nr) {
                        T *c = y + n * sy.n + (g * cout_g + co0) * sy.c + (p0 + q0) * sy.sp;
                        kt->KT_GEMM(kc, ap, bbuf + q0, ldb, c, sy.c, sy.sp, rows,
                                    CONVX_MIN(nr, np - q0), k0 > 0, bp);
                    }
                }
            }
        }
        convx_free(bbuf);
    }
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

#undef DNAME
