"""Shapes of a convolution problem: checked once, used both to run it and to report its shape."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ._validation import (LAYOUTS, MAX_SIZE, check_output_size, check_size, choice, fail, int_tuple, is_sequence,
                          pad_pairs, positive_int, resolve_padding)

AXIS_NAMES = {1: "L", 2: "H, W", 3: "D, H, W"}
KERNEL_AXES = {1: "kL", 2: "kH, kW", 3: "kD, kH, kW"}


@dataclass(frozen=True)
class Geometry:
    """A checked problem. Spatial tuples have one entry per spatial axis."""

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    in_size: tuple[int, ...]
    out_size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    channels_last: bool
    transposed: bool

    @property
    def out_shape(self) -> tuple[int, ...]:
        if self.channels_last:
            return (self.batch, *self.out_size, self.out_channels)
        return (self.batch, self.out_channels, *self.out_size)


def _array_axes(nd: int, channels_last: bool, channels: str) -> str:
    spatial = AXIS_NAMES[nd]
    return f"(N, {spatial}, {channels})" if channels_last else f"(N, {channels}, {spatial})"


def _split_input(fname: str, nd: int, x_shape: Sequence[int], channels_last: bool) -> tuple[int, int, tuple[int, ...]]:
    if len(x_shape) != nd + 2:
        fail(ValueError, fname, "input", f"a {nd + 2}-D array {_array_axes(nd, channels_last, 'C_in')}",
             f"a {len(x_shape)}-D array of shape {tuple(x_shape)}")
    batch, channels = x_shape[0], x_shape[-1] if channels_last else x_shape[1]
    spatial = tuple(x_shape[1:-1] if channels_last else x_shape[2:])
    if any(n < 1 for n in spatial):
        fail(ValueError, fname, "input", "an array with every spatial size >= 1", f"shape {tuple(x_shape)}")
    check_size(math.prod(x_shape), fname, "input", "the input")
    return batch, channels, spatial


def _check_weight(fname: str, nd: int, w_shape: Sequence[int], param: str, layout_hint: str) -> tuple[int, ...]:
    if len(w_shape) != nd + 2:
        fail(ValueError, fname, param, f"a {nd + 2}-D array {layout_hint}", f"a {len(w_shape)}-D array of shape {tuple(w_shape)}")
    kernel = tuple(w_shape[2:])
    if any(k < 1 for k in kernel):
        fail(ValueError, fname, param, "a kernel with every size >= 1", f"shape {tuple(w_shape)}")
    check_size(math.prod(w_shape), fname, param, "the weight")
    return kernel


def _finish(fname: str, geometry: Geometry) -> Geometry:
    for n, (pb, pa) in zip(geometry.in_size, geometry.pads):
        check_size(n + pb + pa, fname, "padding", "the padded input")
    check_output_size(geometry.out_shape, fname)
    return geometry


_EXACT_TYPES = frozenset((int, str, bool, type(None)))
_F = TypeVar("_F", bound=Callable[..., Geometry])


def _typed_key(value: object) -> object:
    """value as a cache key that keeps apart what Python calls equal (2, 2.0, True, np.int64(2)),
    which argument checking treats differently; None if value is not made of ints, strings,
    bools, None and tuples of them."""
    kind = type(value)
    if kind is tuple and isinstance(value, tuple):  # not a subclass (named tuples)
        kinds = tuple(map(type, value))
        if _EXACT_TYPES.issuperset(kinds):  # a flat tuple, such as a shape
            return value, kinds
        parts = []
        for v, k in zip(value, kinds):
            part = (k, v) if k in _EXACT_TYPES else _typed_key(v)
            if part is None:
                return None
            parts.append(part)
        return tuple(parts)
    return (kind, value) if kind in _EXACT_TYPES else None


def _memoized(compute: _F) -> _F:
    """Remembers a checked geometry by its arguments: a layer called again on the same shapes,
    or the same call repeated, skips the checks that took most of a small call's time.
    Failing arguments are never remembered, so they raise every time. The first four arguments
    (function name, rank, input and weight shapes: tuples of ints, as ndarray.shape and
    shape_of give them) are keys as they are; only the user's options need typed keys."""
    cache: dict[object, Geometry] = {}

    @functools.wraps(compute)
    def cached(fname: str, nd: int, x_shape: tuple[int, ...], w_shape: tuple[int, ...], *options: object) -> Geometry:
        options_key = _typed_key(options)
        if options_key is None:
            return compute(fname, nd, x_shape, w_shape, *options)
        key = (fname, nd, x_shape, w_shape, options_key)
        geometry = cache.get(key)
        if geometry is None:
            geometry = compute(fname, nd, x_shape, w_shape, *options)
            if len(cache) >= 1024:
                cache.clear()
            cache[key] = geometry
        return geometry

    return cached  # type: ignore[return-value]


@_memoized
def forward_geometry(fname: str, nd: int, x_shape: Sequence[int], w_shape: Sequence[int], stride: object,
                     padding: object, dilation: object, groups: object, layout: object,
                     weight_param: str = "weight") -> Geometry:
    """Checks a forward convolution (weight (C_out, C_in/groups, *kernel)) and sizes its output."""
    channels_last = choice(layout, LAYOUTS, fname, "layout") == "channels_last"
    batch, c_in, in_size = _split_input(fname, nd, x_shape, channels_last)
    kernel = _check_weight(fname, nd, w_shape, weight_param, f"(C_out, C_in/groups, {KERNEL_AXES[nd]})")
    g = positive_int(groups, fname, "groups")
    if c_in % g:
        fail(ValueError, fname, "groups", f"a positive integer dividing the input channels ({c_in})", repr(groups))
    c_out = w_shape[0]
    if w_shape[1] * g != c_in or c_out % g:
        fail(ValueError, fname, weight_param,
             f"of shape (C_out, C_in/groups, ...) = (a multiple of {g}, {c_in // g}, ...) for {c_in} input channels "
             f"and groups={g}", f"shape {tuple(w_shape)}")
    stride_t = int_tuple(stride, nd, fname, "stride", 1)
    dilation_t = int_tuple(dilation, nd, fname, "dilation", 1)
    pads = resolve_padding(padding, in_size, kernel, stride_t, dilation_t, fname)
    out_size = []
    for axis, (n, k, s, d, (pb, pa)) in enumerate(zip(in_size, kernel, stride_t, dilation_t, pads)):
        span = (k - 1) * d + 1
        if span > n + pb + pa:
            fail(ValueError, fname, weight_param,
                 f"a kernel that fits the padded input (on spatial axis {axis} the kernel of size {k} with "
                 f"dilation {d} spans {span} positions, the padded input has {n + pb + pa})", f"shape {tuple(w_shape)}")
        out_size.append((n + pb + pa - span) // s + 1)
    return _finish(fname, Geometry(batch, c_in, c_out, g, in_size, tuple(out_size), kernel, stride_t, dilation_t,
                                   tuple(pads), channels_last, False))


@_memoized
def depthwise_geometry(fname: str, nd: int, x_shape: Sequence[int], w_shape: Sequence[int], stride: object,
                       padding: object, dilation: object, layout: object, weight_param: str) -> Geometry:
    """Checks a depthwise convolution (weight (C*M, 1, *kernel), depth multiplier M)."""
    channels_last = choice(layout, LAYOUTS, fname, "layout") == "channels_last"
    _, channels, _ = _split_input(fname, nd, x_shape, channels_last)
    if channels < 1:
        fail(ValueError, fname, "input", "an array with at least one channel", f"shape {tuple(x_shape)}")
    if len(w_shape) != nd + 2 or w_shape[1] != 1 or w_shape[0] < 1 or w_shape[0] % channels:
        fail(ValueError, fname, weight_param,
             f"a {nd + 2}-D array of shape (C*M, 1, {KERNEL_AXES[nd]}) with C={channels} input channels and depth "
             f"multiplier M >= 1", f"shape {tuple(w_shape)}")
    return forward_geometry(fname, nd, x_shape, w_shape, stride, padding, dilation, channels, layout, weight_param)


@_memoized
def transpose_geometry(fname: str, nd: int, x_shape: Sequence[int], w_shape: Sequence[int], stride: object,
                       padding: object, output_padding: object, groups: object, dilation: object,
                       layout: object) -> Geometry:
    """Checks a transposed convolution (weight (C_in, C_out/groups, *kernel)) and sizes its output."""
    channels_last = choice(layout, LAYOUTS, fname, "layout") == "channels_last"
    batch, c_in, in_size = _split_input(fname, nd, x_shape, channels_last)
    kernel = _check_weight(fname, nd, w_shape, "weight", f"(C_in, C_out/groups, {KERNEL_AXES[nd]})")
    g = positive_int(groups, fname, "groups")
    if c_in % g:
        fail(ValueError, fname, "groups", f"a positive integer dividing the input channels ({c_in})", repr(groups))
    if w_shape[0] != c_in:
        fail(ValueError, fname, "weight", f"of shape (C_in, C_out/groups, ...) = ({c_in}, ...)", f"shape {tuple(w_shape)}")
    stride_t = int_tuple(stride, nd, fname, "stride", 1)
    dilation_t = int_tuple(dilation, nd, fname, "dilation", 1)
    out_pad = int_tuple(output_padding, nd, fname, "output_padding", 0)
    pads = pad_pairs(padding, nd, fname, allow_strings=False)
    for op, s, d in zip(out_pad, stride_t, dilation_t):
        if op >= max(s, d):
            fail(ValueError, fname, "output_padding", "smaller than max(stride, dilation) on every axis",
                 repr(output_padding))
    out_size = []
    for n, k, s, d, (pb, pa), op in zip(in_size, kernel, stride_t, dilation_t, pads, out_pad):
        size = (n - 1) * s - pb - pa + d * (k - 1) + op + 1
        if size < 1:
            fail(ValueError, fname, "padding", f"small enough to leave an output (the output size would be {size})",
                 repr(padding))
        out_size.append(size)
    return _finish(fname, Geometry(batch, c_in, g * w_shape[1], g, in_size, tuple(out_size), kernel, stride_t,
                                   dilation_t, tuple(pads), channels_last, True))


def shape_of(value: object, fname: str, param: str) -> tuple[int, ...]:
    """A shape given as a tuple of ints or as anything with a .shape."""
    shape = getattr(value, "shape", value)
    if not is_sequence(shape):
        fail(TypeError, fname, param, "a shape (tuple of ints) or an array", repr(value))
    result = []
    for v in shape:
        n = positive_int(v, fname, param) if v != 0 else 0
        if n > MAX_SIZE:
            fail(ValueError, fname, param, "a shape of sizes below 2**62", repr(value))
        result.append(n)
    return tuple(result)
