"""The convolution functions: validate and normalise in Python, compute in the C core."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypedDict, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _ext
from ._geometry import Geometry, depthwise_geometry, forward_geometry, transpose_geometry
from ._validation import (PADDING_MODES, as_array, check_bias, check_out, choice, fail, prepare,
                          resolve_threads, result_dtype)

IntOrTuple = Union[int, Sequence[int]]
Padding = Union[str, int, Sequence[int], Sequence[Sequence[int]]]
FloatArray = NDArray[np.floating]

__all__ = [
    "conv1d", "conv2d", "conv3d",
    "depthwise_conv1d", "depthwise_conv2d",
    "separable_conv1d", "separable_conv2d",
    "pointwise_conv",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
]


def output(fname: str, geometry: Geometry, dtype: np.dtype, out: object,
            inputs: Sequence[np.ndarray | None]) -> np.ndarray:
    if out is None:
        return np.empty(geometry.out_shape, dtype)
    return check_out(out, geometry.out_shape, dtype, inputs, fname)


def _ones(geometry: Geometry) -> tuple[int, ...]:
    return (1,) * (3 - len(geometry.in_size))


def pack(geometry: Geometry, w: np.ndarray, b: np.ndarray | None, dtype: np.dtype) -> _ext.PackedWeights:
    """Weights and bias of a checked problem packed for the C kernels."""
    return _ext.PackedWeights(prepare(w, dtype), None if b is None else prepare(b, dtype),
                              channels_last=geometry.channels_last, transposed=geometry.transposed,
                              groups=geometry.groups, in_channels=geometry.in_channels,
                              out_channels=geometry.out_channels, kernel=_ones(geometry) + geometry.kernel)


class _Problem(TypedDict):
    """Keyword arguments of PackedWeights.run and run_separable that describe the problem
    (all but num_threads, which each run gives)."""

    padding_mode: str
    batch: int
    groups: int
    in_channels: int
    out_channels: int
    in_size: tuple[int, ...]
    out_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_before: tuple[int, ...]


def _problem(geometry: Geometry, padding_mode: str) -> _Problem:
    """The size arguments of a checked problem as the binding takes them (3-D, size-1 axes first)."""
    ones = _ones(geometry)
    return _Problem(padding_mode=padding_mode, batch=geometry.batch, groups=geometry.groups,
                    in_channels=geometry.in_channels, out_channels=geometry.out_channels,
                    in_size=ones + geometry.in_size, out_size=ones + geometry.out_size, stride=ones + geometry.stride,
                    dilation=ones + geometry.dilation,
                    pad_before=(0,) * len(ones) + tuple(before for before, _ in geometry.pads))


#: Supplies packed weights for step ``step`` of a call (separable calls have two steps).
Packer = Callable[[int, Geometry, np.ndarray, "np.ndarray | None", np.dtype], _ext.PackedWeights]

#: Runs a checked problem in the C core: (input, result, threads) -> None, the result contiguous
#: and of the packed dtype.
Run = Callable[[np.ndarray, np.ndarray, int], None]


class Replay:
    """A checked problem ready to run again on inputs of the same shape and dtype (a layer's
    calls after the first): only the result is allocated and the thread count resolved."""

    __slots__ = ("shape", "dtype", "run")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, run: Run) -> None:
        self.shape, self.dtype, self.run = shape, dtype, run

    def __call__(self, x: np.ndarray, threads: int) -> FloatArray:
        y = np.empty(self.shape, self.dtype)
        self.run(x, y, threads)
        return y


#: Keeps the Replay of a call (layer objects, for inputs that are plain ndarrays and no ``out``).
Recorder = Callable[[Replay], None]


def pack_fresh(step: int, geometry: Geometry, w: np.ndarray, b: np.ndarray | None,
               dtype: np.dtype) -> _ext.PackedWeights:
    """The functional API's packer: pack for this call only (layer objects keep theirs)."""
    return pack(geometry, w, b, dtype)


def _single(geometry: Geometry, w: np.ndarray, b: np.ndarray | None, padding_mode: str, dtype: np.dtype,
            packer: Packer) -> Run:
    """How to run a one-step problem (every family but separable)."""
    packed = packer(0, geometry, w, b, dtype)
    problem = _problem(geometry, padding_mode)

    def run(x: np.ndarray, y: np.ndarray, threads: int) -> None:
        packed.run(prepare(x, dtype), y, num_threads=threads, **problem)
    return run


def _finish(run_maker: Callable[[], Run], x: np.ndarray, y: np.ndarray, threads: int,
            record: Recorder | None) -> FloatArray:
    """Runs the checked call (nothing to compute for an empty result) and records its Replay."""
    if y.size:
        run = run_maker()
        run(x, y, threads)
        if record is not None:
            record(Replay(y.shape, y.dtype, run))
    return y


def _arrays(fname: str, input: ArrayLike, weight: ArrayLike,
            bias: ArrayLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.dtype]:
    """Input, weight and bias as arrays, and the dtype the result has."""
    x = as_array(input, fname, "input")
    w = as_array(weight, fname, "weight")
    b = None if bias is None else as_array(bias, fname, "bias")
    return x, w, b, result_dtype(x, w, b)


def _forward(fname: str, nd: int, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None, stride: object,
             padding: object, dilation: object, groups: object, padding_mode: object, layout: object, out: object,
             num_threads: object, depthwise: bool = False, packer: Packer = pack_fresh,
             record: Recorder | None = None) -> FloatArray:
    x, w, b, dtype = _arrays(fname, input, weight, bias)
    mode = choice(padding_mode, PADDING_MODES, fname, "padding_mode")
    if depthwise:
        geometry = depthwise_geometry(fname, nd, x.shape, w.shape, stride, padding, dilation, layout, "weight")
    else:
        geometry = forward_geometry(fname, nd, x.shape, w.shape, stride, padding, dilation, groups, layout)
    check_bias(b, geometry.out_channels, fname)
    threads = resolve_threads(num_threads, fname)
    y = output(fname, geometry, dtype, out, (x, w, b))
    return _finish(lambda: _single(geometry, w, b, mode, dtype, packer), x, y, threads, record)


def _transpose(fname: str, nd: int, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None, stride: object,
               padding: object, output_padding: object, groups: object, dilation: object, layout: object,
               out: object, num_threads: object, packer: Packer = pack_fresh,
               record: Recorder | None = None) -> FloatArray:
    x, w, b, dtype = _arrays(fname, input, weight, bias)
    geometry = transpose_geometry(fname, nd, x.shape, w.shape, stride, padding, output_padding, groups, dilation,
                                  layout)
    check_bias(b, geometry.out_channels, fname)
    threads = resolve_threads(num_threads, fname)
    y = output(fname, geometry, dtype, out, (x, w, b))
    return _finish(lambda: _single(geometry, w, b, "zeros", dtype, packer), x, y, threads, record)


def _pointwise_weight(w: np.ndarray, nd: int, in_channels: int, fname: str, param: str) -> np.ndarray:
    """A 1x1 weight given as (C_out, C_in) or (C_out, C_in, 1, ...) as (C_out, C_in, 1 * nd)."""
    if w.ndim == 2 or (w.ndim == nd + 2 and all(k == 1 for k in w.shape[2:])):
        if w.shape[1] == in_channels:
            return w.reshape(w.shape[:2] + (1,) * nd)
    ones = ", 1" * nd
    fail(ValueError, fname, param, f"of shape (C_out, {in_channels}) or (C_out, {in_channels}{ones})", f"shape {w.shape}")
    raise AssertionError  # unreachable: fail raises


def _separable(fname: str, nd: int, input: ArrayLike, depthwise_weight: ArrayLike, pointwise_weight: ArrayLike,
               bias: ArrayLike | None, stride: object, padding: object, dilation: object, padding_mode: object,
               layout: object, out: object, num_threads: object, packer: Packer = pack_fresh,
               record: Recorder | None = None) -> FloatArray:
    x = as_array(input, fname, "input")
    dw = as_array(depthwise_weight, fname, "depthwise_weight")
    pw = as_array(pointwise_weight, fname, "pointwise_weight")
    b = None if bias is None else as_array(bias, fname, "bias")
    dtype = result_dtype(x, dw, pw, b)
    mode = choice(padding_mode, PADDING_MODES, fname, "padding_mode")
    spatial = depthwise_geometry(fname, nd, x.shape, dw.shape, stride, padding, dilation, layout, "depthwise_weight")
    pw = _pointwise_weight(pw, nd, spatial.out_channels, fname, "pointwise_weight")
    merge = forward_geometry(fname, nd, spatial.out_shape, pw.shape, 1, 0, 1, 1, layout, "pointwise_weight")
    check_bias(b, merge.out_channels, fname)
    threads = resolve_threads(num_threads, fname)
    y = output(fname, merge, dtype, out, (x, dw, pw, b))

    def run_maker() -> Run:
        depthwise, pointwise = packer(0, spatial, dw, None, dtype), packer(1, merge, pw, b, dtype)
        problem = _problem(spatial, mode)

        def run(x: np.ndarray, y: np.ndarray, threads: int) -> None:
            depthwise.run_separable(pointwise, prepare(x, dtype), y, merged_channels=merge.out_channels,
                                    num_threads=threads, **problem)
        return run
    return _finish(run_maker, x, y, threads, record)


def _pointwise(fname: str, input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None, layout: object, out: object,
               num_threads: object, packer: Packer = pack_fresh, record: Recorder | None = None) -> FloatArray:
    x, w, b, dtype = _arrays(fname, input, weight, bias)
    if x.ndim < 2:
        fail(ValueError, fname, "input", "an array of at least 2 dimensions (N, C_in, *spatial)", f"shape {x.shape}")
    channels_last = choice(layout, ("channels_first", "channels_last"), fname, "layout") == "channels_last"
    spatial = x.shape[1:-1] if channels_last else x.shape[2:]
    pixels = math.prod(spatial)
    # Every 1x1 problem is a 1-D one over the flattened pixels.
    flat = (x.shape[0], pixels, x.shape[-1]) if channels_last else (x.shape[0], x.shape[1], pixels)
    in_channels = flat[2] if channels_last else flat[1]
    # explicit sizes: a weight with no output channels has no -1 to infer
    w3 = _pointwise_weight(w, x.ndim - 2, in_channels, fname, "weight").reshape(w.shape[0], in_channels, 1)
    geometry = forward_geometry(fname, 1, flat, w3.shape, 1, 0, 1, 1, layout)
    check_bias(b, geometry.out_channels, fname)
    threads = resolve_threads(num_threads, fname)
    shape = (x.shape[0], *spatial, w.shape[0]) if channels_last else (x.shape[0], w.shape[0], *spatial)
    if out is None:
        y = np.empty(shape, dtype)
    else:
        y = check_out(out, shape, dtype, (x, w, b), fname)

    def run_maker() -> Run:
        flat_run = _single(geometry, w3, b, "zeros", dtype, packer)

        def run(x: np.ndarray, y: np.ndarray, threads: int) -> None:  # as the 1-D problem
            flat_run(x.reshape(flat), y.reshape(geometry.out_shape), threads)
        return run
    return _finish(run_maker, x, y, threads, record)


_COMMON_DOC = """
    Cross-correlation, as in PyTorch, TensorFlow and ONNX (the kernel is not flipped, unlike
    ``scipy.signal.convolve``).

    Parameters
    ----------
    input : array_like
        {input_shape}, or {input_shape_last} with ``layout="channels_last"``.
{weights}
    bias : array_like, optional
        ``(C_out,)``, added to every output pixel.
{geometry}
    layout : {{"channels_first", "channels_last"}}, keyword-only
        Memory order of ``input`` and of the result; the weight layout does not change.
    out : ndarray, optional, keyword-only
        Where to write the result: exactly the result's shape and dtype, writeable, C-contiguous
        and sharing no memory with the inputs. It is returned.
    num_threads : int, optional, keyword-only
        ``None`` uses every available thread (``OMP_NUM_THREADS`` and ``CONVX_NUM_THREADS`` are
        respected); a negative number counts back from that maximum (-1 = all, -2 = all but one).
        At most 4 threads per CPU are used, whatever is asked.

    Returns
    -------
    ndarray
        {output_shape} (channels-last if ``layout="channels_last"``). float32 and float64 are
        computed natively; the dtype follows NumPy promotion of the arrays given, with integers
        and bool promoted to float64 and float16 to float32.

    Raises
    ------
    TypeError
        For an argument of the wrong type (complex or object arrays, a float stride...).
    ValueError
        For an invalid value; the message names the parameter.
"""

_GEOMETRY_DOC = """    stride : int or tuple of ints, default 1
        Step between output positions, per spatial axis.
    padding : int, tuple, or str, default 0
        An int; one int per spatial axis; one ``(before, after)`` pair per axis; ``"valid"``
        (none); ``"same"`` (output size ``ceil(input / stride)`` for any stride and dilation, an
        odd total padding putting the extra element at the end, as TensorFlow and ONNX
        SAME_UPPER){causal}.
    dilation : int or tuple of ints, default 1
        Spacing between kernel taps (the atrous rate).{groups}
    padding_mode : {{"zeros", "reflect", "replicate", "circular"}}, keyword-only
        What the padding holds (PyTorch's meanings; pads wider than the input repeat the rule as
        ``numpy.pad`` does). The input is never copied to pad it."""

_SPATIAL = {1: ("(N, C_in, L)", "(N, L, C_in)", "(N, C_out, L_out)"),
            2: ("(N, C_in, H, W)", "(N, H, W, C_in)", "(N, C_out, H_out, W_out)"),
            3: ("(N, C_in, D, H, W)", "(N, D, H, W, C_in)", "(N, C_out, D_out, H_out, W_out)")}
_KERNEL = {1: "kL", 2: "kH, kW", 3: "kD, kH, kW"}


def _doc(summary: str, nd: int, weights: str, geometry: str) -> str:
    shapes = _SPATIAL[nd]
    return summary + "\n" + _COMMON_DOC.format(input_shape=f"``{shapes[0]}``", input_shape_last=f"``{shapes[1]}``",
                                               weights=weights, geometry=geometry, output_shape=f"``{shapes[2]}``")


def _geometry_doc(nd: int, groups: bool) -> str:
    causal = ("; ``\"causal\"`` (all padding before: output ``t`` sees only inputs up to ``t``, as Keras)"
              if nd == 1 else "")
    groups_doc = ("\n    groups : int, default 1\n        Input and output channels split into this many "
                  "independent groups." if groups else "")
    return _GEOMETRY_DOC.format(causal=causal, groups=groups_doc)


def conv1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *, padding_mode: str = "zeros",
           layout: str = "channels_first", out: NDArray | None = None, num_threads: int | None = None) -> FloatArray:
    return _forward("conv1d", 1, input, weight, bias, stride, padding, dilation, groups, padding_mode, layout, out,
                    num_threads)


def conv2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *, padding_mode: str = "zeros",
           layout: str = "channels_first", out: NDArray | None = None, num_threads: int | None = None) -> FloatArray:
    return _forward("conv2d", 2, input, weight, bias, stride, padding, dilation, groups, padding_mode, layout, out,
                    num_threads)


def conv3d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
           padding: Padding = 0, dilation: IntOrTuple = 1, groups: int = 1, *, padding_mode: str = "zeros",
           layout: str = "channels_first", out: NDArray | None = None, num_threads: int | None = None) -> FloatArray:
    return _forward("conv3d", 3, input, weight, bias, stride, padding, dilation, groups, padding_mode, layout, out,
                    num_threads)


def depthwise_conv1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                     padding: Padding = 0, dilation: IntOrTuple = 1, *, padding_mode: str = "zeros",
                     layout: str = "channels_first", out: NDArray | None = None,
                     num_threads: int | None = None) -> FloatArray:
    return _forward("depthwise_conv1d", 1, input, weight, bias, stride, padding, dilation, None, padding_mode,
                    layout, out, num_threads, depthwise=True)


def depthwise_conv2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                     padding: Padding = 0, dilation: IntOrTuple = 1, *, padding_mode: str = "zeros",
                     layout: str = "channels_first", out: NDArray | None = None,
                     num_threads: int | None = None) -> FloatArray:
    return _forward("depthwise_conv2d", 2, input, weight, bias, stride, padding, dilation, None, padding_mode,
                    layout, out, num_threads, depthwise=True)


def separable_conv1d(input: ArrayLike, depthwise_weight: ArrayLike, pointwise_weight: ArrayLike,
                     bias: ArrayLike | None = None, stride: IntOrTuple = 1, padding: Padding = 0,
                     dilation: IntOrTuple = 1, *, padding_mode: str = "zeros", layout: str = "channels_first",
                     out: NDArray | None = None, num_threads: int | None = None) -> FloatArray:
    return _separable("separable_conv1d", 1, input, depthwise_weight, pointwise_weight, bias, stride, padding,
                      dilation, padding_mode, layout, out, num_threads)


def separable_conv2d(input: ArrayLike, depthwise_weight: ArrayLike, pointwise_weight: ArrayLike,
                     bias: ArrayLike | None = None, stride: IntOrTuple = 1, padding: Padding = 0,
                     dilation: IntOrTuple = 1, *, padding_mode: str = "zeros", layout: str = "channels_first",
                     out: NDArray | None = None, num_threads: int | None = None) -> FloatArray:
    return _separable("separable_conv2d", 2, input, depthwise_weight, pointwise_weight, bias, stride, padding,
                      dilation, padding_mode, layout, out, num_threads)


def pointwise_conv(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, *,
                   layout: str = "channels_first", out: NDArray | None = None,
                   num_threads: int | None = None) -> FloatArray:
    """1x1 (pointwise) convolution over any number of spatial axes: mixes channels per pixel.

    Parameters
    ----------
    input : array_like
        ``(N, C_in, *spatial)``, or ``(N, *spatial, C_in)`` with ``layout="channels_last"``; any
        number of spatial axes, none included (``(N, C_in)``).
    weight : array_like
        ``(C_out, C_in)`` or ``(C_out, C_in, 1, ..., 1)`` with one 1 per spatial axis.
    bias : array_like, optional
        ``(C_out,)``.
    layout, out, num_threads
        As in :func:`conv2d`.

    Returns
    -------
    ndarray
        ``(N, C_out, *spatial)`` (channels-last if ``layout="channels_last"``), dtype as in
        :func:`conv2d`.
    """
    return _pointwise("pointwise_conv", input, weight, bias, layout, out, num_threads)


def conv_transpose1d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                     padding: Padding = 0, output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1, *, layout: str = "channels_first", out: NDArray | None = None,
                     num_threads: int | None = None) -> FloatArray:
    return _transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation,
                      layout, out, num_threads)


def conv_transpose2d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                     padding: Padding = 0, output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1, *, layout: str = "channels_first", out: NDArray | None = None,
                     num_threads: int | None = None) -> FloatArray:
    return _transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation,
                      layout, out, num_threads)


def conv_transpose3d(input: ArrayLike, weight: ArrayLike, bias: ArrayLike | None = None, stride: IntOrTuple = 1,
                     padding: Padding = 0, output_padding: IntOrTuple = 0, groups: int = 1,
                     dilation: IntOrTuple = 1, *, layout: str = "channels_first", out: NDArray | None = None,
                     num_threads: int | None = None) -> FloatArray:
    return _transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups, dilation,
                      layout, out, num_threads)


_DENSE_WEIGHT = "    weight : array_like\n        ``(C_out, C_in / groups, {k})``."
_DEPTHWISE_WEIGHT = ("    weight : array_like\n        ``(C * M, 1, {k})``: M filters per input channel (the depth "
                     "multiplier M is\n        inferred); output channel ``j`` reads input channel ``j // M``.")
_SEPARABLE_WEIGHTS = ("    depthwise_weight : array_like\n        ``(C * M, 1, {k})``, as in the depthwise convolution.\n"
                      "    pointwise_weight : array_like\n        ``(C_out, C * M)`` or ``(C_out, C * M, {ones})``: the 1x1 "
                      "merge that follows.")
_TRANSPOSE_GEOMETRY = """    stride : int or tuple of ints, default 1
        Upsampling factor per spatial axis.
    padding : int, tuple of ints, or tuple of (before, after) pairs, default 0
        Removed from each end of the full output (PyTorch's meaning): output size is
        ``(in - 1) * stride - before - after + dilation * (k - 1) + output_padding + 1``.
    output_padding : int or tuple of ints, default 0
        Extra size at the end of each axis, smaller than ``max(stride, dilation)``.
    groups : int, default 1
        Input and output channels split into this many independent groups.
    dilation : int or tuple of ints, default 1
        Spacing between kernel taps."""

_fn: Callable[..., FloatArray]  # the loops below fill in the docstrings of functions of different signatures
for _nd, _fn in ((1, conv1d), (2, conv2d), (3, conv3d)):
    _fn.__doc__ = _doc(f"{_nd}-D convolution (dense, grouped, strided, dilated).", _nd,
                       _DENSE_WEIGHT.format(k=_KERNEL[_nd]), _geometry_doc(_nd, True))
for _nd, _fn in ((1, depthwise_conv1d), (2, depthwise_conv2d)):
    _fn.__doc__ = _doc(f"{_nd}-D depthwise convolution: one spatial filter per input channel (times M).", _nd,
                       _DEPTHWISE_WEIGHT.format(k=_KERNEL[_nd]), _geometry_doc(_nd, False))
for _nd, _fn in ((1, separable_conv1d), (2, separable_conv2d)):
    _fn.__doc__ = _doc(f"{_nd}-D depthwise-separable convolution: depthwise, then a 1x1 merge; ``bias`` is added "
                       "once, after the merge.", _nd,
                       _SEPARABLE_WEIGHTS.format(k=_KERNEL[_nd], ones=", ".join(["1"] * _nd)),
                       _geometry_doc(_nd, False))
for _nd, _fn in ((1, conv_transpose1d), (2, conv_transpose2d), (3, conv_transpose3d)):
    _fn.__doc__ = _doc(f"{_nd}-D transposed convolution (the gradient of :func:`conv{_nd}d` with respect to its "
                       "input), with PyTorch's arguments.", _nd,
                       "    weight : array_like\n        ``(C_in, C_out / groups, " + _KERNEL[_nd] + ")``.",
                       _TRANSPOSE_GEOMETRY)
