# cython: language_level=3, boundscheck=False, wraparound=False, freethreading_compatible=True
"""Thin binding over the C core: fills a descriptor, releases the GIL, maps status to exceptions.

Arguments arrive already validated and normalised by the Python layer (convx._api):
C-contiguous arrays of one dtype, 3-entry spatial tuples.
"""

from libc.stdint cimport int64_t

cimport numpy as cnp

cnp.import_array()


cdef extern from "convx.h" nogil:
    ctypedef enum convx_status:
        CONVX_OK
        CONVX_ERR_NO_MEMORY
        CONVX_ERR_BAD_DESCRIPTOR
        CONVX_ERR_UNSUPPORTED

    ctypedef enum convx_dtype:
        CONVX_FLOAT32
        CONVX_FLOAT64

    ctypedef enum convx_layout:
        CONVX_CHANNELS_FIRST
        CONVX_CHANNELS_LAST

    ctypedef enum convx_padding_mode:
        CONVX_PAD_ZEROS
        CONVX_PAD_REFLECT
        CONVX_PAD_REPLICATE
        CONVX_PAD_CIRCULAR

    ctypedef struct convx_conv_desc:
        convx_dtype dtype
        convx_layout layout
        convx_padding_mode padding_mode
        int transposed
        int64_t batch
        int64_t groups
        int64_t in_channels
        int64_t out_channels
        int64_t in_size[3]
        int64_t out_size[3]
        int64_t kernel[3]
        int64_t stride[3]
        int64_t dilation[3]
        int64_t pad_before[3]

    convx_status convx_conv(const convx_conv_desc *desc, const void *input, const void *weight,
                            const void *bias, void *output, int num_threads)
    void convx_init()
    const char *convx_isa_name()
    const char *convx_cpu_features()
    int convx_openmp_enabled()
    int convx_max_threads()


convx_init()

PADDING_MODES = {"zeros": CONVX_PAD_ZEROS, "reflect": CONVX_PAD_REFLECT,
                 "replicate": CONVX_PAD_REPLICATE, "circular": CONVX_PAD_CIRCULAR}


def conv(cnp.ndarray x, cnp.ndarray w, object b, cnp.ndarray y, *, bint channels_last,
         str padding_mode, bint transposed, int64_t groups, in_size, out_size, kernel, stride,
         dilation, pad_before, int num_threads):
    """Run one convolution into y. Spatial arguments are 3-tuples (size-1 axes first)."""
    cdef convx_conv_desc d
    cdef int i
    d.dtype = CONVX_FLOAT64 if x.dtype.itemsize == 8 else CONVX_FLOAT32
    d.layout = CONVX_CHANNELS_LAST if channels_last else CONVX_CHANNELS_FIRST
    d.padding_mode = PADDING_MODES[padding_mode]
    d.transposed = transposed
    d.batch = x.shape[0]
    d.groups = groups
    d.in_channels = x.shape[x.ndim - 1] if channels_last else x.shape[1]
    d.out_channels = y.shape[y.ndim - 1] if channels_last else y.shape[1]
    for i in range(3):
        d.in_size[i] = in_size[i]
        d.out_size[i] = out_size[i]
        d.kernel[i] = kernel[i]
        d.stride[i] = stride[i]
        d.dilation[i] = dilation[i]
        d.pad_before[i] = pad_before[i]
    cdef const void *xp = cnp.PyArray_DATA(x)
    cdef const void *wp = cnp.PyArray_DATA(w)
    cdef const void *bp = NULL if b is None else cnp.PyArray_DATA(<cnp.ndarray>b)
    cdef void *yp = cnp.PyArray_DATA(y)
    cdef convx_status status
    with nogil:
        status = convx_conv(&d, xp, wp, bp, yp, num_threads)
    if status == CONVX_OK:
        return y
    if status == CONVX_ERR_NO_MEMORY:
        raise MemoryError("convx could not allocate scratch memory for this convolution")
    if status == CONVX_ERR_UNSUPPORTED:
        raise ValueError("convx has no kernel for this combination of arguments")
    raise ValueError("convx's core rejected the problem descriptor (inconsistent sizes); "
                     "this is a bug in convx's argument checking, please report it")


def openmp_enabled():
    return bool(convx_openmp_enabled())


def max_threads():
    """OpenMP's default team size right now (follows OMP_NUM_THREADS and threadpoolctl)."""
    return convx_max_threads()


def config():
    """Build and run-time facts of the core."""
    return {
        "openmp": bool(convx_openmp_enabled()),
        "max_threads": convx_max_threads(),
        "isa": convx_isa_name().decode(),
        "cpu_features": convx_cpu_features().decode(),
    }
