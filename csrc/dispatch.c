/* CPU detection and kernel selection, done once at import. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "kernels/kernels.h"

#if !defined(_WIN32)
#include <pthread.h>
#define CONVX_HAVE_ATFORK 1 /* also without OpenMP, so that every POSIX build reports a forked child */
#endif

#if defined(CONVX_HAVE_X86) && defined(_MSC_VER)
#include <immintrin.h>
#include <intrin.h>
#endif

static const convx_kernel_table *active_kernels = &convx_kernels_generic;
static const convx_kernel_table *best_kernels = &convx_kernels_generic; /* whatever CONVX_ISA says */
static char cpu_features[128] = "";
static int initialised = 0;

/* GNU libgomp's thread pool does not survive fork(): in a child of a process that has run a
 * parallel region, the first region of more than one thread waits forever for the parent's
 * workers. So a forked child runs every convx call on one thread; the flag is set in the child,
 * before any other thread exists there, and is only read afterwards. */
static volatile int forked_child = 0;

#ifdef CONVX_HAVE_ATFORK
static void mark_forked_child(void) { forked_child = 1; }
#endif

int convx_in_forked_child(void) { return forked_child; }

#ifdef CONVX_HAVE_X86
typedef struct {
    int sse2, avx, avx2, fma, avx512; /* avx512: F, VL, DQ and BW (x86-64-v4) */
} x86_features;

/* What the CPU has and the OS saves (YMM state for AVX, ZMM and mask state for AVX-512). */
static x86_features detect_x86(void) {
    x86_features f;
#if defined(_MSC_VER)
    int info[4];
    __cpuid(info, 1);
    int osxsave = (info[2] >> 27) & 1;
    f.sse2 = (info[3] >> 26) & 1;
    f.fma = (info[2] >> 12) & 1;
    int ymm_saved = osxsave && ((_xgetbv(0) & 6) == 6);
    int zmm_saved = osxsave && ((_xgetbv(0) & 0xe6) == 0xe6);
    f.avx = ((info[2] >> 28) & 1) && ymm_saved;
    __cpuidex(info, 7, 0);
    f.avx2 = ((info[1] >> 5) & 1) && f.avx;
    const unsigned v4_bits = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31); /* F, DQ, BW, VL in EBX */
    f.avx512 = ((unsigned)info[1] & v4_bits) == v4_bits && zmm_saved;
    f.fma = f.fma && f.avx;
#else
    __builtin_cpu_init(); /* libgcc / compiler-rt check the OS-saved state too */
    f.sse2 = __builtin_cpu_supports("sse2");
    f.avx = __builtin_cpu_supports("avx");
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
#endif
    return f;
}
#endif

/* CONVX_ISA caps the kernels: "generic" forces the portable ones, "avx2" the AVX2 ones at most
 * (so that the tests cover every table this CPU can run); unset or anything else, the best. */
void convx_init(void) {
    if (initialised) return;
    const char *forced = getenv("CONVX_ISA");
    const int use_generic = forced && strcmp(forced, "generic") == 0;
    const int cap_avx2 = forced && strcmp(forced, "avx2") == 0;
    const convx_kernel_table *avx2_at_most = &convx_kernels_generic; /* the best under the cap */
#ifdef CONVX_HAVE_X86
    const x86_features f = detect_x86();
    cpu_features[0] = '\0';
    if (f.sse2) strcat(cpu_features, "sse2 ");
    if (f.avx) strcat(cpu_features, "avx ");
    if (f.avx2) strcat(cpu_features, "avx2 ");
    if (f.fma) strcat(cpu_features, "fma ");
    if (f.avx512) strcat(cpu_features, "avx512 ");
    size_t len = strlen(cpu_features);
    if (len) cpu_features[len - 1] = '\0';
#ifdef CONVX_HAVE_AVX2
    if (f.avx2 && f.fma) best_kernels = avx2_at_most = &convx_kernels_avx2;
#endif
#ifdef CONVX_HAVE_AVX512
    if (f.avx512 && f.fma) best_kernels = &convx_kernels_avx512;
#endif
#elif defined(CONVX_HAVE_NEON)
    strcpy(cpu_features, "neon");
    best_kernels = avx2_at_most = &convx_kernels_neon;
#else
    strcpy(cpu_features, "baseline");
#endif
    active_kernels = use_generic ? &convx_kernels_generic : cap_avx2 ? avx2_at_most : best_kernels;
#ifdef CONVX_HAVE_ATFORK
    pthread_atfork(NULL, NULL, mark_forked_child);
#endif
    initialised = 1;
}

const convx_kernel_table *convx_kernels(void) { return active_kernels; }
const char *convx_isa_name(void) { return active_kernels->name; }
const char *convx_cpu_features(void) { return cpu_features; }

double convx_fma_probe(int float64, int64_t iterations, double *checksum) {
    return (float64 ? best_kernels->fma_probe_f64 : best_kernels->fma_probe_f32)(iterations, checksum);
}

int convx_openmp_enabled(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int convx_max_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
