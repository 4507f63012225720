"""Layer objects: weights checked, copied and packed once, then applied to any number of inputs.

A layer checks what it can at construction (weights, bias, stride, padding, ...), then a call
runs the functional API's code path, with a packer that keeps the packed weights (one set per
result dtype) instead of packing them on every call. That path hands back a Replay of the checked
problem; later calls with an input of the same shape and dtype (a plain ndarray, no ``out``) run
it directly: everything the checks depend on is the same, only the thread count is resolved again.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _conv, _ext
from ._geometry import KERNEL_AXES, Geometry
from ._validation import (LAYOUTS, PADDING_MODES, as_array, check_bias, choice, fail, int_tuple, pad_pairs,
                          positive_int, resolve_threads)

__all__ = [
    "Conv1d", "Conv2d", "Conv3d",
    "DepthwiseConv1d", "DepthwiseConv2d",
    "SeparableConv1d", "SeparableConv2d",
    "PointwiseConv",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
]


def _frozen_copy(value: ArrayLike, fname: str, param: str) -> np.ndarray:
    """A private read-only copy, so later changes to the caller's array cannot reach the layer."""
    arr = np.array(as_array(value, fname, param), copy=True)
    arr.flags.writeable = False
    return arr


class _Layer:
    """Shared machinery: the packed-weight cache and the call. Subclasses say how to check and call."""

    _nd = 2
    _weights: tuple[str, ...] = ("weight",)
    bias: np.ndarray | None

    def __init__(self, weights: dict[str, ArrayLike], bias: ArrayLike | None, options: dict[str, Any]) -> None:
        name = type(self).__name__
        for param, value in weights.items():  # the attributes each subclass declares
            setattr(self, param, _frozen_copy(value, name, param))
        self.bias = None if bias is None else _frozen_copy(bias, name, "bias")
        self._options = options
        self._packed: dict[tuple[int, str, int], _ext.PackedWeights] = {}
        self._replays: dict[tuple[tuple[int, ...], np.dtype], _conv.Replay] = {}
        self._lock = threading.Lock()
        self._check(name)

    def _packer(self, step: int, geometry: Geometry, w: np.ndarray, b: np.ndarray | None,
                dtype: np.dtype) -> _ext.PackedWeights:
        # Packed weights depend on the channel count too: a depthwise layer serves any input channels
        # its weight divides, each with its own grouping.
        key = (step, dtype.str, geometry.in_channels)
        with self._lock:
            packed = self._packed.get(key)
            if packed is None:
                packed = self._packed[key] = _conv.pack(geometry, w, b, dtype)
        return packed

    def __call__(self, input: ArrayLike, *, out: NDArray | None = None,
                 num_threads: int | None = None) -> NDArray[np.floating]:
        """Apply the layer to ``input``; ``out`` and ``num_threads`` as in the functional API."""
        if out is not None or type(input) is not np.ndarray:
            return self._call(input, out, num_threads, None)
        key = (input.shape, input.dtype)
        replay = self._replays.get(key)
        if replay is not None:
            return replay(input, resolve_threads(num_threads, type(self).__name__))
        return self._call(input, out, num_threads, functools.partial(self._keep, key))

    #: Replays kept per layer (distinct input shapes and dtypes); more start the collection over.
    _MAX_REPLAYS = 32

    def _keep(self, key: tuple[tuple[int, ...], np.dtype], replay: _conv.Replay) -> None:
        with self._lock:
            if len(self._replays) >= self._MAX_REPLAYS:
                self._replays.clear()
            self._replays[key] = replay

    def __repr__(self) -> str:
        shapes = ", ".join(f"{p}={getattr(self, p).shape}" for p in self._weights)
        options = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return f"{type(self).__name__}({shapes}, bias={self.bias is not None}, {options})"

    def _check_kernel(self, name: str, param: str, second: str) -> np.ndarray:
        """The weight array ``param``: nd + 2 dimensions, every kernel size >= 1."""
        w: np.ndarray = getattr(self, param)
        if w.ndim != self._nd + 2 or any(k < 1 for k in w.shape[2:]):
            fail(ValueError, name, param, f"a {self._nd + 2}-D array ({second}, {KERNEL_AXES[self._nd]}) with every "
                 "kernel size >= 1", f"shape {w.shape}")
        return w

    def _check_geometry(self, name: str, *, strings: bool) -> None:
        o, nd = self._options, self._nd
        int_tuple(o["stride"], nd, name, "stride", 1)
        int_tuple(o["dilation"], nd, name, "dilation", 1)
        pad_pairs(o["padding"], nd, name, allow_strings=strings)
        choice(o["layout"], LAYOUTS, name, "layout")
        if "padding_mode" in o:
            choice(o["padding_mode"], PADDING_MODES, name, "padding_mode")

    def _check(self, name: str) -> None:
        raise NotImplementedError

    def _call(self, input: ArrayLike, out: NDArray[Any] | None, num_threads: int | None,
              record: _conv.Recorder | None) -> NDArray[np.floating]:
        raise NotImplementedError


class _Forward(_Layer):
    _depthwise = False
    weight: np.ndarray

    def __init__(self, weight: ArrayLike, bias: ArrayLike | None = None, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, *, padding_mode: str = "zeros",
                 layout: str = "channels_first") -> None:
        options = dict(stride=stride, padding=padding, dilation=dilation, padding_mode=padding_mode, layout=layout)
        if not self._depthwise:
            options["groups"] = groups
        super().__init__({"weight": weight}, bias, options)

    def _check(self, name: str) -> None:
        w = self._check_kernel(name, "weight", "C*M, 1" if self._depthwise else "C_out, C_in/groups")
        if self._depthwise and w.shape[1] != 1:
            fail(ValueError, name, "weight", "of shape (C*M, 1, ...)", f"shape {w.shape}")
        if not self._depthwise:
            groups = positive_int(self._options["groups"], name, "groups")
            if w.shape[0] % groups:
                fail(ValueError, name, "groups", f"a divisor of the output channels ({w.shape[0]})", repr(groups))
        self._check_geometry(name, strings=True)
        check_bias(self.bias, w.shape[0], name)

    def _call(self, input: ArrayLike, out: NDArray[Any] | None, num_threads: int | None,
              record: _conv.Recorder | None) -> NDArray[np.floating]:
        o = self._options
        return _conv._forward(type(self).__name__, self._nd, input, self.weight, self.bias, o["stride"], o["padding"],
                              o["dilation"], o.get("groups"), o["padding_mode"], o["layout"], out, num_threads,
                              depthwise=self._depthwise, packer=self._packer, record=record)


class _Separable(_Layer):
    _weights = ("depthwise_weight", "pointwise_weight")
    depthwise_weight: np.ndarray
    pointwise_weight: np.ndarray

    def __init__(self, depthwise_weight: ArrayLike, pointwise_weight: ArrayLike, bias: ArrayLike | None = None,
                 stride: Any = 1, padding: Any = 0, dilation: Any = 1, *, padding_mode: str = "zeros",
                 layout: str = "channels_first") -> None:
        super().__init__({"depthwise_weight": depthwise_weight, "pointwise_weight": pointwise_weight}, bias,
                         dict(stride=stride, padding=padding, dilation=dilation, padding_mode=padding_mode,
                              layout=layout))

    def _check(self, name: str) -> None:
        dw = self._check_kernel(name, "depthwise_weight", "C*M, 1")
        if dw.shape[1] != 1:
            fail(ValueError, name, "depthwise_weight", "of shape (C*M, 1, ...)", f"shape {dw.shape}")
        pw = _conv._pointwise_weight(self.pointwise_weight, self._nd, dw.shape[0], name, "pointwise_weight")
        self._check_geometry(name, strings=True)
        check_bias(self.bias, pw.shape[0], name)

    def _call(self, input: ArrayLike, out: NDArray[Any] | None, num_threads: int | None,
              record: _conv.Recorder | None) -> NDArray[np.floating]:
        o = self._options
        return _conv._separable(type(self).__name__, self._nd, input, self.depthwise_weight, self.pointwise_weight,
                                self.bias, o["stride"], o["padding"], o["dilation"], o["padding_mode"], o["layout"],
                                out, num_threads, packer=self._packer, record=record)


class _Transpose(_Layer):
    weight: np.ndarray

    def __init__(self, weight: ArrayLike, bias: ArrayLike | None = None, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, dilation: Any = 1, *,
                 layout: str = "channels_first") -> None:
        super().__init__({"weight": weight}, bias,
                         dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                              dilation=dilation, layout=layout))

    def _check(self, name: str) -> None:
        w = self._check_kernel(name, "weight", "C_in, C_out/groups")
        groups = positive_int(self._options["groups"], name, "groups")
        if w.shape[0] % groups:
            fail(ValueError, name, "groups", f"a divisor of the input channels ({w.shape[0]})", repr(groups))
        self._check_geometry(name, strings=False)
        stride = int_tuple(self._options["stride"], self._nd, name, "stride", 1)
        dilation = int_tuple(self._options["dilation"], self._nd, name, "dilation", 1)
        output_padding = int_tuple(self._options["output_padding"], self._nd, name, "output_padding", 0)
        if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
            fail(ValueError, name, "output_padding", "smaller than max(stride, dilation) on every axis",
                 repr(self._options["output_padding"]))
        check_bias(self.bias, groups * w.shape[1], name)

    def _call(self, input: ArrayLike, out: NDArray[Any] | None, num_threads: int | None,
              record: _conv.Recorder | None) -> NDArray[np.floating]:
        o = self._options
        return _conv._transpose(type(self).__name__, self._nd, input, self.weight, self.bias, o["stride"], o["padding"],
                                o["output_padding"], o["groups"], o["dilation"], o["layout"], out, num_threads,
                                packer=self._packer, record=record)


class PointwiseConv(_Layer):
    """1x1 convolution layer over any number of spatial axes: checks and copies its weights once,
    packs them once per dtype, and is callable on inputs: ``layer(input, *, out=None,
    num_threads=None)``. Arguments as in :func:`convx.pointwise_conv`."""

    weight: np.ndarray

    def __init__(self, weight: ArrayLike, bias: ArrayLike | None = None, *, layout: str = "channels_first") -> None:
        super().__init__({"weight": weight}, bias, dict(layout=layout))

    def _check(self, name: str) -> None:
        w = self.weight
        if w.ndim < 2 or any(k != 1 for k in w.shape[2:]):
            fail(ValueError, name, "weight", "of shape (C_out, C_in) or (C_out, C_in, 1, ..., 1)", f"shape {w.shape}")
        choice(self._options["layout"], LAYOUTS, name, "layout")
        check_bias(self.bias, w.shape[0], name)

    def _call(self, input: ArrayLike, out: NDArray[Any] | None, num_threads: int | None,
              record: _conv.Recorder | None) -> NDArray[np.floating]:
        return _conv._pointwise(type(self).__name__, input, self.weight, self.bias, self._options["layout"], out,
                                num_threads, packer=self._packer, record=record)


_L = TypeVar("_L", bound=_Layer)


def _layer(nd: int, func: str, what: str) -> Callable[[type[_L]], type[_L]]:
    """Class decorator: the public layer's spatial rank, docstring and module."""
    def finish(cls: type[_L]) -> type[_L]:
        cls._nd = nd
        cls.__doc__ = (f"{what} layer: checks and copies its weights once, packs them once per dtype, and is callable "
                       f"on inputs: ``layer(input, *, out=None, num_threads=None)``. Arguments as in "
                       f":func:`convx.{func}`.")
        cls.__module__ = "convx"
        return cls
    return finish


@_layer(1, "conv1d", "1-D convolution")
class Conv1d(_Forward):
    pass


@_layer(2, "conv2d", "2-D convolution")
class Conv2d(_Forward):
    pass


@_layer(3, "conv3d", "3-D convolution")
class Conv3d(_Forward):
    pass


@_layer(1, "depthwise_conv1d", "1-D depthwise convolution")
class DepthwiseConv1d(_Forward):
    _depthwise = True


@_layer(2, "depthwise_conv2d", "2-D depthwise convolution")
class DepthwiseConv2d(_Forward):
    _depthwise = True


@_layer(1, "separable_conv1d", "1-D depthwise-separable convolution")
class SeparableConv1d(_Separable):
    pass


@_layer(2, "separable_conv2d", "2-D depthwise-separable convolution")
class SeparableConv2d(_Separable):
    pass


@_layer(1, "conv_transpose1d", "1-D transposed convolution")
class ConvTranspose1d(_Transpose):
    pass


@_layer(2, "conv_transpose2d", "2-D transposed convolution")
class ConvTranspose2d(_Transpose):
    pass


@_layer(3, "conv_transpose3d", "3-D transposed convolution")
class ConvTranspose3d(_Transpose):
    pass
