"""Helpers shared by the convx test modules: data, layouts, tolerances and check_* comparisons.

Every ``check_*`` function runs one convx call and the float64 reference on the same arguments,
converts layouts, and compares:

* ``exact=True`` (integer-valued inputs): bit-for-bit equality with the reference cast to the
  result dtype, since every partial sum is an exactly representable integer.
* otherwise: an element-wise bound ``(K + 4) * eps * sum|x*w|`` where K is the accumulation
  length of one output (worst-case rounding for any summation order, FMA or not) and
  ``sum|x*w|`` is the reference evaluated on absolute values.
"""

import contextlib
import math
import os
import signal
import subprocess
import sys

import numpy as np
from numpy.testing import assert_array_equal

import convx
from reference import (
    ref_conv,
    ref_conv_transpose,
    ref_pointwise,
    ref_separable,
    resolve_padding,
)

FLOAT_DTYPES = [np.float32, np.float64]
LAYOUTS = ["channels_first", "channels_last"]
PADDING_MODES = ["zeros", "reflect", "replicate", "circular"]
ODD_CHANNELS = [1, 3, 17, 23]
TILE_WIDTHS = [1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 35]  # around 8, 16 and 32-wide tiles (AVX2, AVX-512)
SMALL_SIZES = [1, 2, 5, 7, 13]


# ---------------------------------------------------------------------------------------------
# subprocesses


def run_python(script, timeout=60, env=None):
    """Run ``python -c script``; returns (returncode, stdout, stderr), or None if it did not finish
    in ``timeout`` seconds. It gets a session of its own, so that on a timeout the whole process
    group (forked children included) is killed, not only the interpreter."""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    return proc.returncode, stdout, stderr


# ---------------------------------------------------------------------------------------------
# data and layouts


def make(rng, shape, dtype=np.float32, integer=False):
    """Random array: small integers in [-3, 3] (exact sums) or standard normal values."""
    if integer:
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def to_layout(a, layout):
    """Channels-first array -> the array convx gets for ``layout`` (C-contiguous)."""
    if layout == "channels_last":
        return np.ascontiguousarray(np.moveaxis(a, 1, -1))
    assert layout == "channels_first"
    return a


def from_layout(a, layout):
    """convx result in ``layout`` -> channels-first view for comparison."""
    if layout == "channels_last":
        return np.moveaxis(a, -1, 1)
    return a


def layout_shape(shape, layout):
    """Channels-first shape -> the shape of the same array in ``layout``."""
    shape = tuple(shape)
    if layout == "channels_last":
        return (shape[0],) + shape[2:] + (shape[1],)
    return shape


def expected_dtype(*arrays):
    """Result dtype the spec promises: NumPy promotion, ints/bool -> float64, float16 -> float32."""
    dts = [np.asarray(a).dtype for a in arrays if a is not None]
    r = np.result_type(*dts)
    if r.kind in "biu":
        return np.dtype(np.float64)
    if r == np.float16:
        return np.dtype(np.float32)
    return np.dtype(r)


def _abs(a):
    return None if a is None else np.abs(np.asarray(a, dtype=np.float64))


# ---------------------------------------------------------------------------------------------
# comparison


@contextlib.contextmanager
def untouched(*arrays):
    """The arrays hold the same values, dtype, strides and flags after the block as before."""
    arrays = [a for a in arrays if isinstance(a, np.ndarray)]
    before = [(a.copy(), a.strides, a.flags.writeable) for a in arrays]
    yield
    for a, (values, strides, writeable) in zip(arrays, before):
        np.testing.assert_array_equal(a, values, strict=True)
        assert (a.strides, a.flags.writeable) == (strides, writeable)


def assert_conv_close(got, ref, absref, k_len, dtype, exact=False):
    """Compare a convx result (channels-first view) with the float64 reference."""
    dtype = np.dtype(dtype)
    assert isinstance(got, np.ndarray), type(got)
    assert got.dtype == dtype, f"dtype {got.dtype} != expected {dtype}"
    assert got.shape == ref.shape, f"shape {got.shape} != expected {ref.shape}"
    if exact:
        assert_array_equal(got, ref.astype(dtype), strict=True)
        return
    eps = np.finfo(dtype).eps
    bound = (k_len + 4) * eps * absref + np.finfo(dtype).tiny
    err = np.abs(got.astype(np.float64) - ref)
    bad = ~(err <= bound)  # NaN counts as bad
    if bad.any():
        idx = np.unravel_index(np.argmax(np.where(bad, err / bound, -1.0)), got.shape)
        raise AssertionError(
            f"{int(bad.sum())} of {got.size} elements out of tolerance (K={k_len}, {dtype}); "
            f"worst at {idx}: got {got[idx]!r}, expected {ref[idx]!r}, bound {bound[idx]:.3g}"
        )


def _k_len(w):
    return int(w.shape[1]) * math.prod(w.shape[2:])


def check_conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1,
               padding_mode="zeros", layout="channels_first", exact=False, fn=None, **kwargs):
    """Run convx.conv{1,2,3}d on channels-first test data (converted to ``layout``) vs ref_conv."""
    nd = x.ndim - 2
    fn = fn or getattr(convx, f"conv{nd}d")
    pads = resolve_padding(padding, x.shape[2:], w.shape[2:], stride, dilation)
    ref = ref_conv(x, w, b, stride, pads, dilation, groups, padding_mode)
    absref = None if exact else ref_conv(_abs(x), _abs(w), _abs(b), stride, pads, dilation,
                                         groups, padding_mode)
    got = fn(to_layout(x, layout), w, b, stride=stride, padding=padding, dilation=dilation,
             groups=groups, padding_mode=padding_mode, layout=layout, **kwargs)
    assert_conv_close(from_layout(got, layout), ref, absref, _k_len(w), expected_dtype(x, w, b), exact)
    return got


def check_depthwise(x, w, b=None, *, stride=1, padding=0, dilation=1, padding_mode="zeros",
                    layout="channels_first", exact=False, **kwargs):
    """convx.depthwise_conv{1,2}d vs ref_conv with groups = C."""
    nd = x.ndim - 2
    fn = getattr(convx, f"depthwise_conv{nd}d")
    c = x.shape[1]
    pads = resolve_padding(padding, x.shape[2:], w.shape[2:], stride, dilation)
    ref = ref_conv(x, w, b, stride, pads, dilation, c, padding_mode)
    absref = None if exact else ref_conv(_abs(x), _abs(w), _abs(b), stride, pads, dilation, c,
                                         padding_mode)
    got = fn(to_layout(x, layout), w, b, stride=stride, padding=padding, dilation=dilation,
             padding_mode=padding_mode, layout=layout, **kwargs)
    assert_conv_close(from_layout(got, layout), ref, absref, _k_len(w), expected_dtype(x, w, b), exact)
    return got


def check_separable(x, dw, pw, b=None, *, stride=1, padding=0, dilation=1, padding_mode="zeros",
                    layout="channels_first", exact=False, **kwargs):
    """convx.separable_conv{1,2}d vs depthwise-then-pointwise reference."""
    nd = x.ndim - 2
    fn = getattr(convx, f"separable_conv{nd}d")
    pads = resolve_padding(padding, x.shape[2:], dw.shape[2:], stride, dilation)
    ref = ref_separable(x, dw, pw, b, stride, pads, dilation, padding_mode)
    absref = None if exact else ref_separable(_abs(x), _abs(dw), _abs(pw), _abs(b), stride, pads,
                                              dilation, padding_mode)
    got = fn(to_layout(x, layout), dw, pw, b, stride=stride, padding=padding, dilation=dilation,
             padding_mode=padding_mode, layout=layout, **kwargs)
    k_len = _k_len(dw) + int(pw.shape[1]) + 1
    assert_conv_close(from_layout(got, layout), ref, absref, k_len, expected_dtype(x, dw, pw, b),
                      exact)
    return got


def check_pointwise(x, w, b=None, *, layout="channels_first", exact=False, **kwargs):
    """convx.pointwise_conv vs einsum reference."""
    ref = ref_pointwise(x, w, b)
    absref = None if exact else ref_pointwise(_abs(x), _abs(w), _abs(b))
    got = convx.pointwise_conv(to_layout(x, layout), w, b, layout=layout, **kwargs)
    assert_conv_close(from_layout(got, layout), ref, absref, int(w.shape[1]),
                      expected_dtype(x, w, b), exact)
    return got


def check_transpose(x, w, b=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
                    layout="channels_first", exact=False, **kwargs):
    """convx.conv_transpose{1,2,3}d vs the scatter-add reference."""
    nd = x.ndim - 2
    fn = getattr(convx, f"conv_transpose{nd}d")
    ref = ref_conv_transpose(x, w, b, stride, padding, output_padding, groups, dilation)
    absref = None if exact else ref_conv_transpose(_abs(x), _abs(w), _abs(b), stride, padding,
                                                   output_padding, groups, dilation)
    got = fn(to_layout(x, layout), w, b, stride=stride, padding=padding,
             output_padding=output_padding, groups=groups, dilation=dilation, layout=layout,
             **kwargs)
    # each output receives at most (C_in / groups) * prod(kernel) products
    k_len = (int(x.shape[1]) // groups) * math.prod(w.shape[2:])
    assert_conv_close(from_layout(got, layout), ref, absref, k_len, expected_dtype(x, w, b), exact)
    return got


# ---------------------------------------------------------------------------------------------
# random configurations


def random_conv_config(rng, nd, *, max_channels=6, max_kernel=4, max_stride=3, max_dilation=3,
                       modes=PADDING_MODES, max_extra=6):
    """A random valid (shapes, stride, pads, dilation, groups, mode) for an nd-D convolution.

    Padding is returned as explicit pairs, each pad < the input size so every mode is valid
    in every library (torch's reflect needs pad < size).
    """
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in = groups * int(rng.integers(1, max_channels // groups + 1))
    c_out = groups * int(rng.integers(1, max_channels // groups + 1))
    kernel = tuple(int(k) for k in rng.integers(1, max_kernel + 1, nd))
    stride = tuple(int(s) for s in rng.integers(1, max_stride + 1, nd))
    dilation = tuple(int(d) for d in rng.integers(1, max_dilation + 1, nd))
    mode = str(rng.choice(list(modes)))
    in_sp, pads = [], []
    for k, d in zip(kernel, dilation):
        span = (k - 1) * d + 1
        n = int(rng.integers(max(1, span - 2), span + max_extra + 1))
        before = int(rng.integers(0, n))
        after = int(rng.integers(0, n))
        while n + before + after < span:
            before, after = before + 1, after + 1
            if max(before, after) >= n:
                n += 1
        pads.append((before, after))
        in_sp.append(n)
    n_batch = int(rng.integers(1, 3))
    return dict(
        x_shape=(n_batch, c_in) + tuple(in_sp),
        w_shape=(c_out, c_in // groups) + kernel,
        stride=stride,
        padding=pads,
        dilation=dilation,
        groups=groups,
        padding_mode=mode,
    )


# ---------------------------------------------------------------------------------------------
# one representative call per public function family (for API, error and thread tests)

FAMILIES = [
    "conv1d", "conv2d", "conv3d",
    "depthwise_conv1d", "depthwise_conv2d",
    "separable_conv1d", "separable_conv2d",
    "pointwise_conv",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
]
CONV_FAMILIES = ["conv1d", "conv2d", "conv3d"]
TRANSPOSE_FAMILIES = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d"]
STRIDED_FAMILIES = [f for f in FAMILIES if f != "pointwise_conv"]
MODE_FAMILIES = [f for f in STRIDED_FAMILIES if not f.startswith("conv_transpose")]


def family_nd(name):
    return 2 if name == "pointwise_conv" else int(name[-2])


class Case:
    """One convx call: ``fn(*args, **kwargs)`` with its float64 reference.

    ``args`` are the array arguments in order (input, weight(s), bias) already in ``layout``;
    ``names`` are their parameter names; ``reference(*args)`` recomputes the expected result
    (float64, in ``layout``) for any replacement arrays of the same shapes.
    """

    def __init__(self, name, args, names, kwargs, ref_cf, layout):
        self.name = name
        self.fn = getattr(convx, name)
        self.args = list(args)
        self.names = list(names)
        self.kwargs = dict(kwargs)
        self._ref_cf = ref_cf
        self.layout = layout

    def __call__(self, *args, **kwargs):
        args = list(args) if args else self.args
        return self.fn(*args, **{**self.kwargs, **kwargs})

    def reference(self, *args):
        args = list(args) if args else self.args
        x = np.asarray(args[0], dtype=np.float64)
        if self.layout == "channels_last":
            x = np.moveaxis(x, -1, 1)
        out = self._ref_cf(x, *[None if a is None else np.asarray(a, dtype=np.float64)
                                for a in args[1:]])
        if self.layout == "channels_last":
            out = np.moveaxis(out, 1, -1)
        return out

    def result_dtype(self):
        return expected_dtype(*self.args)

    def __repr__(self):
        return f"Case({self.name}, shapes={[None if a is None else a.shape for a in self.args]})"


def make_case(name, rng, dtype=np.float32, integer=True, layout="channels_first", n_batch=2,
              c_in=3, bias=True):
    """A representative, non-trivial call of the public function ``name``."""
    nd = family_nd(name)
    spatial = {1: (13,), 2: (7, 9), 3: (5, 6, 4)}[nd]
    kernel = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}[nd]
    x = make(rng, (n_batch, c_in) + spatial, dtype, integer)
    if name.startswith("conv_transpose"):
        c_out = 4
        w = make(rng, (c_in, c_out) + kernel, dtype, integer)
        kwargs = dict(stride=2, padding=1, output_padding=1, dilation=1)
        names = ["input", "weight", "bias"]
        weights = [w]

        def ref(x, w, b):
            return ref_conv_transpose(x, w, b, 2, 1, 1, 1, 1)
    elif name.startswith("conv"):
        c_out = 4
        w = make(rng, (c_out, c_in) + kernel, dtype, integer)
        kwargs = dict(stride=2, padding=1, dilation=1)
        if nd == 1:
            kwargs = dict(stride=1, padding="same", dilation=2, padding_mode="reflect")
        names = ["input", "weight", "bias"]
        weights = [w]

        def ref(x, w, b):
            pads = resolve_padding(kwargs["padding"], x.shape[2:], w.shape[2:], kwargs["stride"],
                                   kwargs["dilation"])
            return ref_conv(x, w, b, kwargs["stride"], pads, kwargs["dilation"], 1,
                            kwargs.get("padding_mode", "zeros"))
    elif name.startswith("depthwise"):
        c_out = 2 * c_in
        w = make(rng, (c_out, 1) + kernel, dtype, integer)
        kwargs = dict(stride=1, padding=1, dilation=2, padding_mode="replicate")
        names = ["input", "weight", "bias"]
        weights = [w]

        def ref(x, w, b):
            return ref_conv(x, w, b, 1, 1, 2, x.shape[1], "replicate")
    elif name.startswith("separable"):
        c_out = 5
        dw = make(rng, (2 * c_in, 1) + kernel, dtype, integer)
        pw = make(rng, (c_out, 2 * c_in) + (1,) * nd, dtype, integer)
        kwargs = dict(stride=2, padding="same", dilation=1)
        names = ["input", "depthwise_weight", "pointwise_weight", "bias"]
        weights = [dw, pw]

        def ref(x, dw, pw, b):
            pads = resolve_padding("same", x.shape[2:], dw.shape[2:], 2, 1)
            return ref_separable(x, dw, pw, b, 2, pads, 1, "zeros")
    elif name == "pointwise_conv":
        c_out = 4
        w = make(rng, (c_out, c_in), dtype, integer)
        kwargs = {}
        names = ["input", "weight", "bias"]
        weights = [w]

        def ref(x, w, b):
            return ref_pointwise(x, w, b)
    else:
        raise AssertionError(name)
    b = make(rng, (c_out,), dtype, integer) if bias else None
    if layout != "channels_first":
        kwargs["layout"] = layout
    return Case(name, [to_layout(x, layout)] + weights + [b], names, kwargs, ref, layout)
