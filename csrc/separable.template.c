/* Depthwise-separable convolution, channels-first, fused tile by tile: each task computes the
 * depthwise output of a few output rows for every channel into an L2-sized tile, which is
 * directly the input panel of the pointwise GEMM, so the intermediate never reaches memory.
 * Included after dense.template.c and depthwise.template.c (it uses their helpers). */

#define SNAME(name) CONVX_CAT(CONVX_CAT(convx_, name), CONVX_CAT(_, SFX))

/* dw: the depthwise problem; pw_a: pointwise weights packed by dense_pack for the 1x1 problem
 * with dw's output as input; bias: the pointwise bias or NULL. */
convx_status SNAME(separable_run)(const convx_conv_desc *dw, const T *dw_w, const T *pw_a, const T *bias,
                                  int64_t out_channels, const T *x, T *y, int num_threads) {
    const convx_kernel_table *kt = convx_kernels();
    const int64_t mr = kt->KT_MR, nr = kt->KT_NR;
    convx_axis ax[3];
    convx_axes_from_desc(dw, ax);
    const int64_t N = dw->batch, C = dw->in_channels, K = dw->out_channels; /* K = C*M channels merged */
    const int64_t out0 = ax[0].out, out1 = ax[1].out, out2 = ax[2].out, P = out0 * out1 * out2;
    if (N == 0 || P == 0 || out_channels == 0) return CONVX_OK;
    const int64_t panels = convx_ceil_div(out_channels, mr), kc_max = SNAME(k_chunk)(K);
    /* A task: about dense_nc_target pixels = whole output rows of one (n, od) plane. */
    SNAME(dw_rows_plan) plan;
    const convx_status planned = SNAME(plan_dw_rows)(dw, ax, CONVX_MAX(1, SNAME(dense_nc_target) / out2), &plan);
    if (planned != CONVX_OK) return planned; /* UNSUPPORTED: the caller runs the two steps apart */
    const int64_t rows = plan.rows_per_block, blocks = convx_ceil_div(out1, rows), tasks = N * out0 * blocks;
    const int64_t ldb_max = convx_ceil_div(rows * out2, nr) * nr;
    int failed = 0;

#pragma omp parallel num_threads(num_threads) if (num_threads > 1 && tasks > 1)
    {
        int64_t *scratch = SNAME(dw_rows_scratch)(&plan, &failed);
        T *mid = scratch ? (T *)convx_thread_scratch((size_t)(K * ldb_max) * sizeof(T), &failed) : NULL;
#pragma omp for schedule(dynamic)
        for (int64_t task = 0; task < tasks; task++) {
            if (!mid) continue;
            const int64_t block = task % blocks, od = (task / blocks) % out0, n = task / (blocks * out0);
            const int64_t oh0 = block * rows, oh1 = CONVX_MIN(out1, oh0 + rows);
            const int64_t np = (oh1 - oh0) * out2, ldb = convx_ceil_div(np, nr) * nr, p0 = (od * out1 + oh0) * out2;
            /* mid[k][q]: depthwise output channel k at tile pixel q (zero beyond np) */
            for (int64_t c = 0; c < C; c++)
                SNAME(dw_rows_block)(&plan, scratch, x, dw_w, NULL, n, c, od, oh0, oh1, mid + c * (K / C) * ldb, ldb, out2);
            for (int64_t k = 0; k < K && ldb > np; k++) memset(mid + k * ldb + np, 0, (size_t)(ldb - np) * sizeof(T));
            for (int64_t k0 = 0; k0 < K; k0 += kc_max) {
                const int64_t kc = CONVX_MIN(kc_max, K - k0);
                for (int64_t panel = 0; panel < panels; panel++) {
                    const int64_t co0 = panel * mr;
                    for (int64_t q0 = 0; q0 < np; q0 += nr)
                        kt->KT_GEMM(kc, pw_a + (panel * K + k0) * mr, mid + k0 * ldb + q0, ldb,
                                    y + (n * out_channels + co0) * P + p0 + q0, P, 1, CONVX_MIN(mr, out_channels - co0),
                                    CONVX_MIN(nr, np - q0), k0 > 0, bias ? bias + co0 : NULL);
                }
            }
        }
        convx_free(mid);
        convx_free(scratch);
    }
    SNAME(free_dw_rows)(&plan);
    return failed ? CONVX_ERR_NO_MEMORY : CONVX_OK;
}

#undef SNAME
