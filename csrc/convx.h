/* Public C API of the convx core. No Python objects cross this boundary. */
#ifndef CONVX_H
#define CONVX_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CONVX_OK = 0,
    CONVX_ERR_NO_MEMORY = 1,      /* scratch or packed-weight allocation failed */
    CONVX_ERR_BAD_DESCRIPTOR = 2, /* sizes inconsistent; the Python layer should have caught it */
    CONVX_ERR_UNSUPPORTED = 3     /* a valid descriptor no kernel handles (e.g. transposed + reflect) */
} convx_status;

typedef enum { CONVX_FLOAT32 = 0, CONVX_FLOAT64 = 1 } convx_dtype;

typedef enum {
    CONVX_PAD_ZEROS = 0,
    CONVX_PAD_REFLECT = 1,
    CONVX_PAD_REPLICATE = 2,
    CONVX_PAD_CIRCULAR = 3
} convx_padding_mode;

typedef enum { CONVX_CHANNELS_FIRST = 0, CONVX_CHANNELS_LAST = 1 } convx_layout;

#define CONVX_MAX_SPATIAL 3

/* One convolution problem. Spatial arrays always have 3 entries: 1-D and 2-D problems put
 * size-1 axes first (size 1, kernel 1, stride 1, dilation 1, padding 0).
 * Forward: weight is (out_channels, in_channels/groups, *kernel).
 * Transposed: weight is (in_channels, out_channels/groups, *kernel), as in PyTorch.
 * Arrays are C-contiguous; input/output are (N, C, D, H, W) or, channels-last, (N, D, H, W, C). */
typedef struct {
    convx_dtype dtype;
    convx_layout layout;
    convx_padding_mode padding_mode;
    int transposed;
    int64_t batch;
    int64_t groups;
    int64_t in_channels;
    int64_t out_channels;
    int64_t in_size[CONVX_MAX_SPATIAL];
    int64_t out_size[CONVX_MAX_SPATIAL];
    int64_t kernel[CONVX_MAX_SPATIAL];
    int64_t stride[CONVX_MAX_SPATIAL];
    int64_t dilation[CONVX_MAX_SPATIAL];
    int64_t pad_before[CONVX_MAX_SPATIAL];
} convx_conv_desc;

/* Runs the convolution; bias may be NULL. num_threads >= 1. */
convx_status convx_conv(const convx_conv_desc *desc, const void *input, const void *weight,
                        const void *bias, void *output, int num_threads);

/* Weights (and bias) packed once for repeated calls: valid for every descriptor with the same
 * dtype, layout, transposed flag, groups, channels and kernel as the one packed for (batch,
 * sizes, stride, dilation, padding and padding mode may differ). Read-only while running, so
 * one packed object serves many threads at once. */
typedef struct convx_packed_weights convx_packed_weights;

convx_status convx_pack_weights(const convx_conv_desc *desc, const void *weight, const void *bias,
                                convx_packed_weights **packed);
convx_status convx_conv_packed(const convx_conv_desc *desc, const convx_packed_weights *packed,
                               const void *input, void *output, int num_threads);
void convx_free_packed_weights(convx_packed_weights *packed);

/* Depthwise then 1x1 (depthwise-separable) in one pass: pw is the 1x1 problem whose input is
 * dw's output (same batch, sizes, layout, dtype); its bias is the only one applied. Fused tile
 * by tile, so the intermediate never exists in full. */
convx_status convx_conv_separable(const convx_conv_desc *dw, const convx_packed_weights *dw_packed,
                                  const convx_conv_desc *pw, const convx_packed_weights *pw_packed,
                                  const void *input, void *output, int num_threads);

/* Bytes the core holds now (packed weights and scratch), and the most it has held since the
 * last reset (which starts the peak from what is held): how tests measure a call's extra memory. */
int64_t convx_memory_held(void);
int64_t convx_memory_peak(void);
void convx_memory_reset_peak(void);

/* Once at import: detects the CPU and fills the kernel table. CONVX_ISA=generic forces the
 * portable kernels. Safe to call again (later calls do nothing). */
void convx_init(void);
const char *convx_isa_name(void);     /* kernels in use: "avx512", "avx2_fma", "neon" or "generic" */
const char *convx_cpu_features(void); /* features detected, e.g. "sse2 avx avx2 fma" */
/* Benchmarks' FMA ceiling: `iterations` rounds of independent FMAs at the widest vectors this CPU
 * has (whatever CONVX_ISA says); returns the operations done, *checksum their result. */
double convx_fma_probe(int float64, int64_t iterations, double *checksum);
int convx_openmp_enabled(void);
int convx_max_threads(void); /* OpenMP's default team size (OMP_NUM_THREADS), 1 without OpenMP */
/* 1 in a process forked (POSIX fork) after convx_init: there every call runs on one thread,
 * since GNU libgomp's thread pool does not survive fork. */
int convx_in_forked_child(void);

#ifdef __cplusplus
}
#endif

#endif
