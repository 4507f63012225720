/* Depthwise-separable convolution fused tile by tile: each task computes the depthwise output
 * of a tile (whole output rows, or a piece of one long row) for every channel into an L2-sized
 * buffer, which the pointwise step then reads, so the intermediate never exists in full.
 * Channels-first: the buffer is channels x pixels, directly the pixel-vector GEMM's B panel.
 * Channels-last: it is pixels x channels, which the direct kernel reads in place.
 * Included after dense.template.c and depthwise.template.c (it uses their helpers). */

#define SNAME(name) CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, SFX))

/* Pixels per tile: up to 768 whose depthwise output (K values each) fills at most 256 KiB of
 * L2, and at least one tile per thread (measured, 64 -> 128 channels at 56x56: 768-pixel tiles
 * 1.03-1.15x faster than 192). */
CONVX_INLINE int64_t SNAME(separable_tile)(int64_t K, int64_t plane, int num_threads) {
    const int64_t fits = CONVX_MAX(16, (256 << 10) / (CONVX_MAX(K, 1) * (int64_t)sizeof(T)));
    return CONVX_MAX(1, CONVX_MIN(CONVX_MIN(768, fits), convx_ceil_div(plane, num_threads)));
}

static convx_status SNAME(separable_channels_first)(const convx_conv_desc *dw, const convx_axis ax[3], const T *dw_w,
                                                    const T *pw_a, const T *bias, int64_t out_channels, const T *x,
                                                    T *y, int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t mr = kt->KT_MR, nr = kt->KT_NR;
    const int64_t N = dw->batch, K = dw->out_channels; /* K = C*M channels merged */
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out, P = out0 * out1 * out2;
    const int64_t panels = convx_ceil_div(out_channels, mr), kc_max = SNAME(k_chunk)(K);
    /* A task: a tile (whole output rows, or a piece of one) */
    const int64_t target = SNAME(separable_tile)(K, out1 * out2, num_threads);
    SNAME(dw_blocks_plan) plan;
    const convx_status planned = SNAME(plan_dw_blocks)(dw, ax, target, 0, num_threads, &plan);
    if (planned != CONVX_OK) return planned;
    const int64_t tiles = plan.tiles.row_blocks * plan.tiles.col_blocks, tasks = N * out0 * tiles;
    const int64_t ldb_max = convx_ceil_div(plan.tiles.rows * plan.tiles.cols, nr) * nr;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        T *scratch = SNAME(dw_blocks_scratch)(&plan, &failed);
        T *mid = scratch ? (T *)convx_thread_scratch((size_t)(K * ldb_max) * sizeof(T), &failed) : NULL;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < tasks; task++) {
            if (!mid) continue;
            const int64_t tile = task % tiles, od = (task / tiles) % out0, n = task / (tiles * out0);
            const SNAME(tile_rect) r = SNAME(tile_at)(&plan.tiles, ax, tile);
            const int64_t oh0 = r.oh0, oh1 = r.oh1, ow0 = r.ow0, ow1 = r.ow1;
            /* whole rows or a piece of one row: the tile's pixels are contiguous in the output */
            const int64_t np = (oh1 - oh0) * (ow1 - ow0), ldb = convx_ceil_div(np, nr) * nr;
            const int64_t p0 = (od * out1 + oh0) * out2 + ow0;
            /* mid[k][q]: depthwise output channel k at tile pixel q (zero beyond np) */
            for (int64_t cb = 0; cb < plan.blocks; cb++)
                SNAME(dw_blocks_tile)(&plan, scratch, x, dw_w, NULL, n, od, &r, cb, cb > 0, mid, ldb, ow1 - ow0, 1);
            for (int64_t k = 0; k < K && ldb > np; k++) memset(mid + k * ldb + np, 0, (size_t)(ldb - np) * sizeof(T));
            for (int64_t k0 = 0; k0 < K; k0 += kc_max) {
                const int64_t kc = CONVX_MIN(kc_max, K - k0);
                SNAME(gemm_channel_panels)(kc, pw_a + k0 * mr, K * mr, 0, panels, out_channels, mid + k0 * ldb, ldb, np,
                                           y + n * out_channels * P + p0, P, 1, k0 > 0, bias);
            }
        }
        convx_free(mid);
        convx_free(scratch);
    }
    convx_free(plan.off);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

static convx_status SNAME(separable_channels_last)(const convx_conv_desc *dw, const convx_axis ax[3], const T *dw_w,
                                                   const T *pw_b, const T *bias, int64_t out_channels, const T *x,
                                                   T *y, int num_threads) {
    const SNAME(direct_kernel) kernel = SNAME(direct_kernel_for)(out_channels); /* as dense_pack packed pw_b */
    const int64_t mr = kernel.mr, nr = kernel.nr;
    const int64_t N = dw->batch, K = dw->out_channels, Cout = out_channels;
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out, P = out0 * out1 * out2;
    /* A task: a tile (whole output rows, or a piece of one); its depthwise part on channel
     * blocks, or pixel by pixel in place (as depthwise_pack packed it) */
    const int on_blocks = SNAME(channel_blocks)(dw);
    SNAME(dw_blocks_plan) plan;
    const convx_status planned =
        SNAME(plan_dw_blocks)(dw, ax, SNAME(separable_tile)(K, out1 * out2, num_threads), 0, num_threads, &plan);
    if (planned != CONVX_OK) return planned;
    const int64_t tiles = plan.tiles.row_blocks * plan.tiles.col_blocks, tasks = N * out0 * tiles;
    const int64_t np_max = plan.tiles.rows * plan.tiles.cols;
    /* Per thread: the pixel pointers into the tile (padded to whole MR blocks), then the tile */
    const size_t scratch = (size_t)(np_max + mr) * sizeof(T *) + (size_t)(np_max * K) * sizeof(T);
    const int64_t seg[2] = {0, K}; /* the whole reduction in one range */
    int failed = 0;

    int64_t *off = (int64_t *)convx_alloc((size_t)(K + 1) * sizeof(int64_t)); /* channel k of a pixel */
    if (!off) {
        convx_free(plan.off);
        return CONVX_ERR_NO_MEMORY;
    }
    for (int64_t k = 0; k < K; k++) off[k] = k;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        const T **pix = (const T **)convx_thread_scratch(scratch, &failed);
        T *mid = pix ? (T *)(pix + np_max + mr) : NULL;
        T *blocks_scratch = on_blocks && mid ? SNAME(dw_blocks_scratch)(&plan, &failed) : NULL;
        void *cl_block = !on_blocks && mid ? convx_thread_scratch(SNAME(dw_cl_scratch_bytes)(dw), &failed) : NULL;
        const SNAME(dw_cl_scratch) dws = SNAME(dw_cl_carve)(dw, cl_block);
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < tasks; task++) {
            if (!blocks_scratch && !cl_block) continue;
            const int64_t tile = task % tiles, od = (task / tiles) % out0, n = task / (tiles * out0);
            const SNAME(tile_rect) r = SNAME(tile_at)(&plan.tiles, ax, tile);
            const int64_t oh0 = r.oh0, oh1 = r.oh1, ow0 = r.ow0, ow1 = r.ow1;
            const int64_t width = ow1 - ow0, np = (oh1 - oh0) * width;
            /* whole rows or a piece of one row: the tile's pixels are contiguous in the output */
            T *yt = y + (n * P + (od * out1 + oh0) * out2 + ow0) * Cout;
            /* mid[q][k]: depthwise output channel k at tile pixel q, which the direct kernel reads
             * in place (pixel q's channels at pix[q] + k) */
            if (on_blocks)
                for (int64_t cb = 0; cb < plan.blocks; cb++)
                    SNAME(dw_blocks_tile)(&plan, blocks_scratch, x, dw_w, NULL, n, od, &r, cb, cb > 0, mid, 1, width * K,
                                          K);
            else
                for (int64_t oh = oh0; oh < oh1; oh++)
                    SNAME(dw_cl_row)(dw, ax, &dws, x, dw_w, NULL, n, od, oh, ow0, ow1, mid + (oh - oh0) * width * K);
            for (int64_t q = 0; q < np + mr; q++) pix[q] = mid + (q < np ? q : 0) * K;
            for (int64_t co0 = 0; co0 < Cout; co0 += nr)
                for (int64_t q0 = 0; q0 < np; q0 += mr)
                    kernel.run(1, seg, pix + q0, off, pw_b + co0 * K, yt + q0 * Cout + co0, Cout, 1,
                                       CONVX_MIN(mr, np - q0), CONVX_MIN(nr, Cout - co0), 0, bias ? bias + co0 : NULL);
        }
        convx_free(cl_block);
        convx_free(blocks_scratch);
        convx_free((void *)pix);
    }
    convx_free(off);
    convx_free(plan.off);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

/* dw: the depthwise problem, dw_w its weights packed by depthwise_pack; pw: the pointwise
 * weights packed by dense_pack for the 1x1 problem with dw's output as input; bias: the
 * pointwise bias or NULL. */
convx_status SNAME(separable_run)(const convx_conv_desc *dw, const T *dw_w, const T *pw, const T *bias,
                                  int64_t out_channels, const T *x, T *y, int num_threads) {
    convx_axis ax[3];
    convx_axes_from_desc(dw, ax);
    if (dw->batch == 0 || ax[0].out * ax[1].out * ax[2].out == 0 || out_channels == 0) return CONVX_OK;
    const T *w = SNAME(depthwise_weights)(dw, 0, dw_w);
    return dw->layout == CONVX_CHANNELS_FIRST
               ? SNAME(separable_channels_first)(dw, ax, w, pw, bias, out_channels, x, y, num_threads)
               : SNAME(separable_channels_last)(dw, ax, w, pw, bias, out_channels, x, y, num_threads);
}

#undef SNAME
