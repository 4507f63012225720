# cython: language_level=3, boundscheck=False, wraparound=False, freethreading_compatible=True
"""Thin binding over the C core: fills a descriptor, releases the GIL, maps status to exceptions.

Arguments arrive already validated and normalised by the Python layer (convx._conv):
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

    ctypedef struct convx_packed_weights:
        pass

    convx_status convx_pack_weights(const convx_conv_desc *desc, const void *weight, const void *bias,
                                    convx_packed_weights **packed)
    convx_status convx_conv_packed(const convx_conv_desc *desc, const convx_packed_weights *packed,
                                   const void *input, void *output, int num_threads)
    void convx_free_packed_weights(convx_packed_weights *packed)
    convx_status convx_conv_separable(const convx_conv_desc *dw, const convx_packed_weights *dw_packed,
                                      const convx_conv_desc *pw, const convx_packed_weights *pw_packed,
                                      const void *input, void *output, int num_threads)
    void convx_init()
    const char *convx_isa_name()
    const char *convx_cpu_features()
    double convx_fma_probe(int float64, int64_t iterations, double *checksum) nogil
    int convx_openmp_enabled()
    int convx_max_threads()
    int64_t convx_memory_held()
    int64_t convx_memory_peak()
    void convx_memory_reset_peak()
    int convx_in_forked_child()


convx_init()

PADDING_MODES = {"zeros": CONVX_PAD_ZEROS, "reflect": CONVX_PAD_REFLECT,
                 "replicate": CONVX_PAD_REPLICATE, "circular": CONVX_PAD_CIRCULAR}


cdef check(convx_status status):
    if status == CONVX_OK:
        return
    if status == CONVX_ERR_NO_MEMORY:
        raise MemoryError("convx could not allocate scratch memory for this convolution")
    if status == CONVX_ERR_UNSUPPORTED:
        raise ValueError("convx has no kernel for this combination of arguments")
    raise ValueError("convx's core rejected the problem descriptor (inconsistent sizes); "
                     "this is a bug in convx's argument checking, please report it")


cdef void fill_layer(convx_conv_desc *d, bint float64, bint channels_last, bint transposed,
                     int64_t groups, int64_t in_channels, int64_t out_channels, kernel):
    """The descriptor fields packed weights depend on; geometry set to a neutral 1."""
    cdef int i
    d.dtype = CONVX_FLOAT64 if float64 else CONVX_FLOAT32
    d.layout = CONVX_CHANNELS_LAST if channels_last else CONVX_CHANNELS_FIRST
    d.padding_mode = CONVX_PAD_ZEROS
    d.transposed = transposed
    d.batch = 1
    d.groups = groups
    d.in_channels = in_channels
    d.out_channels = out_channels
    for i in range(3):
        d.kernel[i] = kernel[i]
        d.in_size[i] = d.out_size[i] = d.stride[i] = d.dilation[i] = 1
        d.pad_before[i] = 0


cdef class PackedWeights:
    """Weights (and bias) in the layout the C kernels read, packed once for one layer and dtype."""
    cdef convx_packed_weights *ptr
    cdef convx_conv_desc layer

    def __cinit__(self, cnp.ndarray w, object b, *, bint channels_last, bint transposed, int64_t groups,
                  int64_t in_channels, int64_t out_channels, kernel):
        fill_layer(&self.layer, w.dtype.itemsize == 8, channels_last, transposed, groups, in_channels,
                   out_channels, kernel)
        cdef const void *wp = cnp.PyArray_DATA(w)
        cdef const void *bp = NULL if b is None else cnp.PyArray_DATA(<cnp.ndarray>b)
        cdef convx_status status
        with nogil:
            status = convx_pack_weights(&self.layer, wp, bp, &self.ptr)
        check(status)

    def __dealloc__(self):
        convx_free_packed_weights(self.ptr)

    cdef convx_conv_desc problem(self, str padding_mode, int64_t batch, int64_t groups, int64_t in_channels,
                                 int64_t out_channels, in_size, out_size, stride, dilation, pad_before):
        """The full problem; the core checks that its layer fields match what was packed."""
        cdef convx_conv_desc d = self.layer
        cdef int i
        d.padding_mode = PADDING_MODES[padding_mode]
        d.batch = batch
        d.groups = groups
        d.in_channels = in_channels
        d.out_channels = out_channels
        for i in range(3):
            d.in_size[i] = in_size[i]
            d.out_size[i] = out_size[i]
            d.stride[i] = stride[i]
            d.dilation[i] = dilation[i]
            d.pad_before[i] = pad_before[i]
        return d

    cdef check_arrays(self, cnp.ndarray x, cnp.ndarray y, const convx_conv_desc *d, int64_t y_channels):
        """The last line of defence before C reads and writes raw memory: sizes, dtype, contiguity."""
        cdef int64_t item = 8 if d.dtype == CONVX_FLOAT64 else 4
        cdef int64_t x_count = d.batch * d.in_channels * d.in_size[0] * d.in_size[1] * d.in_size[2]
        cdef int64_t y_count = d.batch * y_channels * d.out_size[0] * d.out_size[1] * d.out_size[2]
        for arr, count in ((x, x_count), (y, y_count)):
            if (arr.dtype.kind != "f" or arr.dtype.itemsize != item or arr.size != count
                    or not arr.flags.c_contiguous or not arr.flags.aligned or not arr.dtype.isnative):
                raise ValueError("convx's binding received an array that does not match the problem; "
                                 "this is a bug in convx's argument checking, please report it")
        if not y.flags.writeable:
            raise ValueError("convx's binding received a read-only output array")

    def run(self, cnp.ndarray x, cnp.ndarray y, *, str padding_mode, int64_t batch, int64_t groups,
            int64_t in_channels, int64_t out_channels, in_size, out_size, stride, dilation, pad_before, int num_threads):
        """Convolve x into y (C-contiguous, this object's dtype). Spatial arguments are 3-tuples."""
        cdef convx_conv_desc d = self.problem(padding_mode, batch, groups, in_channels, out_channels, in_size,
                                              out_size, stride, dilation, pad_before)
        self.check_arrays(x, y, &d, d.out_channels)
        cdef const void *xp = cnp.PyArray_DATA(x)
        cdef void *yp = cnp.PyArray_DATA(y)
        cdef convx_status status
        with nogil:
            status = convx_conv_packed(&d, self.ptr, xp, yp, num_threads)
        check(status)
        return y

    def run_separable(self, PackedWeights pointwise, cnp.ndarray x, cnp.ndarray y, *, str padding_mode,
                      int64_t batch, int64_t groups, int64_t in_channels, int64_t out_channels, int64_t merged_channels,
                      in_size, out_size, stride, dilation, pad_before, int num_threads):
        """Depthwise (self: in_channels -> out_channels) then 1x1 (pointwise: -> merged_channels) from x
        into y in one pass."""
        cdef convx_conv_desc d = self.problem(padding_mode, batch, groups, in_channels, out_channels, in_size,
                                              out_size, stride, dilation, pad_before)
        cdef convx_conv_desc p = pointwise.problem("zeros", batch, 1, out_channels, merged_channels, out_size,
                                                   out_size, (1, 1, 1), (1, 1, 1), (0, 0, 0))
        self.check_arrays(x, y, &d, p.out_channels)
        cdef const void *xp = cnp.PyArray_DATA(x)
        cdef void *yp = cnp.PyArray_DATA(y)
        cdef convx_status status
        with nogil:
            status = convx_conv_separable(&d, self.ptr, &p, pointwise.ptr, xp, yp, num_threads)
        check(status)
        return y


def openmp_enabled():
    return bool(convx_openmp_enabled())


def max_threads():
    """OpenMP's default team size right now (follows OMP_NUM_THREADS and threadpoolctl)."""
    return convx_max_threads()


def memory_held():
    """Bytes the C core holds now (packed weights and scratch)."""
    return convx_memory_held()


def memory_peak():
    """The most the C core has held since reset_memory_peak(): the peak minus what was held at the
    reset is the extra memory the calls in between took."""
    return convx_memory_peak()


def reset_memory_peak():
    convx_memory_reset_peak()


def in_forked_child():
    """True in a process forked after import: the core then runs every call on one thread."""
    return bool(convx_in_forked_child())


def fma_probe(bint float64, int64_t iterations):
    """Runs the core's FMA peak probe without the GIL: (operations done, their checksum)."""
    cdef double checksum = 0, flops
    with nogil:
        flops = convx_fma_probe(float64, iterations, &checksum)
    return flops, checksum


def config():
    """Build and run-time facts of the core."""
    return {
        "openmp": bool(convx_openmp_enabled()),
        "forked_child": bool(convx_in_forked_child()),
        "max_threads": convx_max_threads(),
        "isa": convx_isa_name().decode(),
        "cpu_features": convx_cpu_features().decode(),
    }
