"""Time convx against NumPy's best vectorised equivalent.

``python -m convx`` runs the built-in cases and prints a table. The same machinery is
reusable from Python::

    from convx._benchmark import run, format_table
    print(format_table(run(cases="depthwise", repeat=3)))

The NumPy baseline is the fastest honest vectorised formulation we found for each
family (no Python loop over pixels or channels):

* dense / grouped: ``np.pad`` + ``sliding_window_view`` (stride and dilation by slicing the
  window view), copied once into an im2col matrix and multiplied with one ``np.matmul``
  (one BLAS GEMM per group); or, when faster, a loop over the kernel taps with one GEMM per
  tap accumulated into the output.
* depthwise: a loop over the kernel taps with a broadcast multiply-add per tap; or, when
  faster, ``np.einsum(..., optimize=True)`` over the window view.
* pointwise (1x1): one ``np.matmul``.
* separable: the depthwise baseline followed by the pointwise baseline.
* transposed: col2im, one ``np.matmul`` of the weights' transpose with the input, then each
  tap's product added into every stride-th output (what PyTorch's CPU fallback does); or one
  GEMM per tap, added the same way.

Where a family has two formulations, both are checked against each other and timed during
the warm-up, and the faster one is used as the baseline (its name is reported).
Each case checks convx's result against the baseline before timing anything, then times
both interleaved and reports the best of ``repeat`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import convx

__all__ = ["Case", "DEFAULT_CASES", "BenchmarkMismatch", "run", "format_table", "list_cases", "positive_int", "main"]


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------

FAMILIES = ("conv", "depthwise", "separable", "pointwise", "transposed")

#: In quick mode every spatial size is divided by this factor (but not below QUICK_MIN_SIZE).
QUICK_DIVISOR = 4
QUICK_MIN_SIZE = 8


@dataclass(frozen=True)
class Case:
    """One benchmark case: a single layer, or a stack of layers (one per dilation).

    ``family`` is ``"conv"`` (dense or grouped), ``"depthwise"`` (``out_channels`` is a
    multiple of ``in_channels``: the depth multiplier), ``"separable"`` (depthwise with
    multiplier 1, then a 1x1 to ``out_channels``), ``"pointwise"`` (1x1, ``kernel=()``) or
    ``"transposed"`` (ConvTranspose: ``padding`` an int, cropped from each side).
    ``size`` is the spatial input size; its length sets the dimensionality.
    A stack feeds each layer's output to the next, so it needs ``in == out`` channels.
    """

    name: str
    family: str
    in_channels: int
    out_channels: int
    size: tuple[int, ...]
    kernel: tuple[int, ...] = ()
    stride: int = 1
    dilations: tuple[int, ...] = (1,)
    padding: int | str = "same"
    groups: int = 1
    batch: int = 1

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r} in case {self.name!r}")
        if self.family == "pointwise":
            if self.kernel or self.stride != 1 or self.dilations != (1,):
                raise ValueError(f"pointwise case {self.name!r} takes no kernel/stride/dilation")
        elif len(self.kernel) != len(self.size):
            raise ValueError(f"case {self.name!r}: kernel and size differ in dimensionality")
        if self.family == "transposed" and (not isinstance(self.padding, int) or len(self.dilations) > 1):
            raise ValueError(f"transposed case {self.name!r} takes an int padding and one dilation")
        if self.family == "depthwise" and self.out_channels % self.in_channels:
            raise ValueError(f"depthwise case {self.name!r}: out_channels must be a multiple of in_channels")
        if len(self.dilations) > 1 and self.in_channels != self.out_channels:
            raise ValueError(f"stacked case {self.name!r} needs in_channels == out_channels")

    @property
    def ndim(self) -> int:
        return len(self.size)

    def input_shape(self, quick: bool = False) -> tuple[int, ...]:
        size = self.size
        if quick:
            size = tuple(min(s, max(QUICK_MIN_SIZE, s // QUICK_DIVISOR)) for s in size)
        return (self.batch, self.in_channels, *size)

    def describe(self, quick: bool = False) -> str:
        """Shapes and hyper-parameters in one short line."""
        shape = "x".join(map(str, self.input_shape(quick)))
        parts = [shape, f"{self.in_channels}->{self.out_channels}"]
        if self.kernel:
            parts.append("k" + "x".join(map(str, self.kernel)))
        if self.stride != 1:
            parts.append(f"s{self.stride}")
        if len(self.dilations) > 1:
            parts.append(f"d{self.dilations[0]}..{self.dilations[-1]} ({len(self.dilations)} layers)")
        elif self.dilations[0] != 1:
            parts.append(f"d{self.dilations[0]}")
        if self.groups != 1:
            parts.append(f"g{self.groups}")
        if self.family != "pointwise":
            parts.append(f"pad {self.padding}")
        return " ".join(parts)


def _powers_of_two(n: int) -> tuple[int, ...]:
    return tuple(2**i for i in range(n))


DEFAULT_CASES: tuple[Case, ...] = (
    # ResNet-style dense 3x3 (stride 1 and the stride-2 down-sampling block).
    Case("conv 3x3", "conv", 64, 64, (56, 56), (3, 3), padding=1),
    Case("conv 3x3 s2", "conv", 64, 128, (56, 56), (3, 3), stride=2, padding=1),
    # Segmentation-style atrous 3x3, 'same' padding.
    Case("dilated 3x3 d2", "conv", 128, 128, (32, 32), (3, 3), dilations=(2,)),
    Case("dilated 3x3 d4", "conv", 128, 128, (32, 32), (3, 3), dilations=(4,)),
    Case("dilated 3x3 d8", "conv", 128, 128, (32, 32), (3, 3), dilations=(8,)),
    # First layers on RGB images: 3 input channels.
    Case("rgb 7x7 s2", "conv", 3, 64, (224, 224), (7, 7), stride=2, padding=3),
    Case("rgb 3x3 s2", "conv", 3, 32, (224, 224), (3, 3), stride=2),
    # ResNeXt-style grouped 3x3 (32 groups of 4 channels).
    Case("grouped 3x3 g32", "conv", 128, 128, (28, 28), (3, 3), padding=1, groups=32),
    # MobileNet / EfficientNet depthwise.
    Case("depthwise 3x3", "depthwise", 128, 128, (56, 56), (3, 3)),
    Case("depthwise 3x3 s2", "depthwise", 128, 128, (56, 56), (3, 3), stride=2),
    Case("depthwise 5x5", "depthwise", 240, 240, (28, 28), (5, 5)),
    Case("depthwise 3x3 x2", "depthwise", 64, 128, (56, 56), (3, 3)),
    # Xception-style separable, and a 1x1 bottleneck projection.
    Case("separable 3x3", "separable", 64, 128, (56, 56), (3, 3)),
    Case("pointwise 1x1", "pointwise", 256, 64, (28, 28)),
    # 1-D sequence models: WaveNet (kernel 2, causal, dilations 1..512, 64 residual
    # channels, 1 s of 16 kHz audio) and a ByteNet-style dilated kernel-3 stack.
    Case("wavenet stack", "conv", 64, 64, (16000,), (2,), dilations=_powers_of_two(10), padding="causal"),
    Case("bytenet stack", "conv", 256, 256, (1024,), (3,), dilations=_powers_of_two(5)),
)


def select_cases(cases: str | Sequence[str] | Sequence[Case] | None) -> list[Case]:
    """``None`` -> all defaults; a string -> defaults whose name contains any of its
    comma-separated substrings (case-insensitive); a sequence of :class:`Case` -> as given."""
    if cases is None:
        return list(DEFAULT_CASES)
    items: list[str | Case] = ([part for part in cases.split(",") if part.strip()] if isinstance(cases, str)
                               else list(cases))
    given = [c for c in items if isinstance(c, Case)]
    if len(given) == len(items):
        return given
    return cases_matching(DEFAULT_CASES, [str(c) for c in items])


def cases_matching(pool: Sequence[Case], filters: Sequence[str]) -> list[Case]:
    """The cases of ``pool`` whose name contains any of ``filters`` (case-insensitive)."""
    wanted = [f.strip().lower() for f in filters if f.strip()]
    chosen = [c for c in pool if any(w in c.name.lower() for w in wanted)]
    if not chosen:
        names = ", ".join(c.name for c in pool)
        raise ValueError(f"no case matches {list(filters)!r}; known cases: {names}")
    return chosen


# --------------------------------------------------------------------------------------
# Layers: per-layer geometry, operands and FLOP counts
# --------------------------------------------------------------------------------------


def _pad_pairs(size: Sequence[int], kernel: Sequence[int], stride: int, dilation: int,
               padding: int | str) -> list[tuple[int, int]]:
    """(before, after) padding per spatial axis, with convx's meaning of ``padding``."""
    pairs = []
    for n, k in zip(size, kernel):
        span = dilation * (k - 1)
        if padding == "valid":
            pairs.append((0, 0))
        elif padding == "causal":
            pairs.append((span, 0))
        elif padding == "same":
            out = -(-n // stride)
            total = max(0, (out - 1) * stride + span + 1 - n)
            pairs.append((total // 2, total - total // 2))
        else:
            pairs.append((int(padding), int(padding)))
    return pairs


def _out_size(size: Sequence[int], kernel: Sequence[int], stride: int, dilation: int,
              pads: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    return tuple((n + b + a - dilation * (k - 1) - 1) // stride + 1
                 for n, k, (b, a) in zip(size, kernel, pads))


def _transposed_out_size(size: Sequence[int], kernel: Sequence[int], stride: int, dilation: int,
                         pads: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    return tuple((n - 1) * stride + dilation * (k - 1) + 1 - b - a for n, k, (b, a) in zip(size, kernel, pads))


@dataclass(frozen=True)
class Layer:
    """One convolution of a case, with its weights and resolved geometry."""

    weights: tuple[np.ndarray, ...]
    stride: int
    dilation: int
    pads: list[tuple[int, int]]
    out_size: tuple[int, ...]
    flops: int            # multiply-adds count as 2
    accumulation: int     # terms summed per output element


def _make_layers(case: Case, input_shape: tuple[int, ...], dtype: np.dtype,
                 rng: np.random.Generator) -> list[Layer]:
    """Random weights scaled by 1/sqrt(fan-in), so activations stay O(1) through a stack."""

    def weight(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        return (rng.standard_normal(shape) / math.sqrt(fan_in)).astype(dtype)

    n, c_in, *size = input_shape
    kernel = case.kernel or (1,) * case.ndim   # pointwise: a 1x1 kernel
    c_out, taps = case.out_channels, math.prod(kernel)
    layers = []
    weights: tuple[np.ndarray, ...]
    for dilation in case.dilations:
        pads = _pad_pairs(size, kernel, case.stride, dilation, case.padding)
        out_size = _out_size(size, kernel, case.stride, dilation, pads)
        points = n * math.prod(out_size)
        if case.family == "transposed":
            out_size = _transposed_out_size(size, kernel, case.stride, dilation, pads)
            fan_in = c_in // case.groups * taps
            weights = (weight((c_in, c_out // case.groups, *case.kernel), fan_in),)
            flops = 2 * n * math.prod(size) * c_out * fan_in  # every input pixel times every tap
        elif case.family == "conv":
            fan_in = c_in // case.groups * taps
            weights = (weight((c_out, c_in // case.groups, *case.kernel), fan_in),)
            flops = 2 * points * c_out * fan_in
        elif case.family == "depthwise":
            weights = (weight((c_out, 1, *case.kernel), taps),)
            fan_in, flops = taps, 2 * points * c_out * taps
        elif case.family == "separable":
            weights = (weight((c_in, 1, *case.kernel), taps), weight((c_out, c_in), c_in))
            fan_in, flops = taps + c_in, 2 * points * c_in * (taps + c_out)
        else:  # pointwise
            weights = (weight((c_out, c_in), c_in),)
            fan_in, flops = c_in, 2 * points * c_out * c_in
        layers.append(Layer(weights, case.stride, dilation, pads, out_size, flops, fan_in))
        size = list(out_size)
    return layers


# --------------------------------------------------------------------------------------
# NumPy baselines: one function per family
# --------------------------------------------------------------------------------------


def _padded(x: np.ndarray, pads: Sequence[tuple[int, int]]) -> np.ndarray:
    if not any(b or a for b, a in pads):
        return x
    return np.pad(x, [(0, 0), (0, 0), *pads])


def _windows(xp: np.ndarray, kernel: Sequence[int], stride: int, dilation: int) -> np.ndarray:
    """View (N, C, *out, *kernel) of the padded input: every receptive field, no copy."""
    nd = len(kernel)
    extent = tuple(dilation * (k - 1) + 1 for k in kernel)
    view = sliding_window_view(xp, extent, axis=tuple(range(2, 2 + nd)))
    return view[(slice(None),) * 2 + (slice(None, None, stride),) * nd + (slice(None, None, dilation),) * nd]


def _tap_slices(tap: Sequence[int], out_size: Sequence[int], stride: int, dilation: int) -> tuple[slice, ...]:
    """Spatial slices of the padded input that line up with the output for one kernel tap."""
    return tuple(slice(t * dilation, t * dilation + (o - 1) * stride + 1, stride)
                 for t, o in zip(tap, out_size))


def numpy_conv(x: np.ndarray, weight: np.ndarray, stride: int, pads: Sequence[tuple[int, int]],
               dilation: int, groups: int = 1, method: str = "im2col") -> np.ndarray:
    """Dense / grouped N-d cross-correlation, (N, C, *S) -> (N, O, *S_out).

    ``"im2col"``: copy the strided window view into a (G, C/G*K, N*P) matrix, one batched
    GEMM (one BLAS call per group). ``"taps"``: one GEMM per kernel tap, accumulated.
    """
    n, c = x.shape[:2]
    o, cg, *kernel = weight.shape
    nd, og, k = len(kernel), o // groups, math.prod(kernel)
    xp = _padded(x, pads)
    out_size = _out_size(x.shape[2:], kernel, stride, dilation, pads)
    points = math.prod(out_size)
    if method == "im2col":
        win = _windows(xp, kernel, stride, dilation).reshape(n, groups, cg, *out_size, *kernel)
        order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))   # (G, Cg, *k, N, *out)
        cols = win.transpose(order).reshape(groups, cg * k, n * points)
        res: np.ndarray = np.matmul(weight.reshape(groups, og, cg * k), cols)          # (G, Og, N*P)
        return res.reshape(o, n, *out_size).swapaxes(0, 1)
    if method == "taps":
        xg = xp.reshape(n, groups, cg, *xp.shape[2:])
        wg = weight.reshape(groups, og, cg, *kernel)
        out: np.ndarray | None = None
        for tap in np.ndindex(*kernel):
            shifted = xg[(slice(None),) * 3 + _tap_slices(tap, out_size, stride, dilation)]
            term: np.ndarray = np.matmul(wg[(slice(None),) * 3 + tap], shifted.reshape(n, groups, cg, points))
            out = term if out is None else np.add(out, term, out=out)
        assert out is not None  # a kernel has at least one tap
        return out.reshape(n, o, *out_size)
    raise ValueError(f"unknown method {method!r}")


def numpy_depthwise(x: np.ndarray, weight: np.ndarray, stride: int, pads: Sequence[tuple[int, int]],
                    dilation: int, method: str = "taps") -> np.ndarray:
    """Depthwise N-d cross-correlation, weight (C*M, 1, *k); output channel j reads input j // M.

    ``"taps"``: one broadcast multiply-add over the whole tensor per kernel tap.
    ``"einsum"``: ``np.einsum(optimize=True)`` contracting the window view with the kernel.
    """
    n, c = x.shape[:2]
    kernel = weight.shape[2:]
    nd, m = len(kernel), weight.shape[0] // c
    wm = weight.reshape(c, m, *kernel)
    xp = _padded(x, pads)
    out_size = _out_size(x.shape[2:], kernel, stride, dilation, pads)
    if method == "taps":
        out = np.empty((n, c, m, *out_size), dtype=np.result_type(x, weight))
        term = np.empty_like(out)
        expand = (None,) * nd
        for i, tap in enumerate(np.ndindex(*kernel)):
            shifted = xp[(slice(None), slice(None), None) + _tap_slices(tap, out_size, stride, dilation)]
            np.multiply(shifted, wm[(slice(None), slice(None)) + tap + expand], out=out if i == 0 else term)
            if i:
                out += term
        return out.reshape(n, c * m, *out_size)
    if method == "einsum":
        sp, ks = "hwdxyz"[:nd], "ijklmo"[:nd]
        res: np.ndarray = np.einsum(f"nc{sp}{ks},cm{ks}->ncm{sp}", _windows(xp, kernel, stride, dilation), wm,
                                    optimize=True)
        return res.reshape(n, c * m, *out_size)
    raise ValueError(f"unknown method {method!r}")


def numpy_pointwise(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """1x1 convolution: (N, C, *S) -> (N, O, *S), one ``np.matmul`` (a GEMM per image)."""
    n, c, *size = x.shape
    o = weight.shape[0]
    res: np.ndarray = np.matmul(weight.reshape(o, c), x.reshape(n, c, -1))
    return res.reshape(n, o, *size)


def numpy_separable(x: np.ndarray, depthwise_weight: np.ndarray, pointwise_weight: np.ndarray,
                    stride: int, pads: Sequence[tuple[int, int]], dilation: int,
                    method: str = "taps") -> np.ndarray:
    """Separable convolution: the depthwise baseline, then the pointwise baseline."""
    mid = numpy_depthwise(x, depthwise_weight, stride, pads, dilation, method)
    return numpy_pointwise(mid, pointwise_weight)


def numpy_transposed(x: np.ndarray, weight: np.ndarray, stride: int, pads: Sequence[tuple[int, int]],
                     dilation: int, groups: int = 1, method: str = "col2im") -> np.ndarray:
    """Transposed N-d convolution (PyTorch's meaning), (N, C, *S) -> (N, O, *S_out), weight
    (C, O/G, *K): each tap's product of the weights with the input lands on every stride-th
    pixel of the uncropped output, then ``pads`` is cropped. ``"col2im"``: the products of
    all taps from one batched GEMM; ``"taps"``: one GEMM per tap."""
    n, c, *size = x.shape
    _, og, *kernel = weight.shape
    nd, cg, k = len(kernel), c // groups, math.prod(kernel)
    full = tuple((s - 1) * stride + dilation * (t - 1) + 1 for s, t in zip(size, kernel))
    y = np.zeros((n, groups, og, *full), x.dtype)
    xg = x.reshape(n, groups, cg, math.prod(size)).transpose(1, 2, 0, 3).reshape(groups, cg, -1)
    wg = weight.reshape(groups, cg, og, k)
    cols = np.matmul(wg.transpose(0, 3, 2, 1), xg[:, None]) if method == "col2im" else None  # (G, K, Og, N*P)
    for t, tap in enumerate(np.ndindex(*kernel)):
        part = cols[:, t] if cols is not None else np.matmul(wg[:, :, :, t].transpose(0, 2, 1), xg)
        spots = tuple(slice(i * dilation, i * dilation + (s - 1) * stride + 1, stride) for i, s in zip(tap, size))
        y[(slice(None),) * 3 + spots] += part.reshape(groups, og, n, *size).transpose(2, 0, 1, *range(3, 3 + nd))
    crop = tuple(slice(b, f - a) for (b, a), f in zip(pads, full))
    return y.reshape(n, groups * og, *full)[(slice(None), slice(None)) + crop]


#: Candidate NumPy formulations per family (first = reference for the cross-check).
BASELINE_METHODS: dict[str, tuple[str, ...]] = {
    "conv": ("im2col", "taps"),
    "depthwise": ("taps", "einsum"),
    "separable": ("taps", "einsum"),
    "pointwise": ("matmul",),
    "transposed": ("col2im", "taps"),
}


def _numpy_layer(case: Case, x: np.ndarray, layer: Layer, method: str) -> np.ndarray:
    s, d, pads, w = layer.stride, layer.dilation, layer.pads, layer.weights
    if case.family == "conv":
        return numpy_conv(x, w[0], s, pads, d, case.groups, method)
    if case.family == "depthwise":
        return numpy_depthwise(x, w[0], s, pads, d, method)
    if case.family == "separable":
        return numpy_separable(x, w[0], w[1], s, pads, d, method)
    if case.family == "transposed":
        return numpy_transposed(x, w[0], s, pads, d, case.groups, method)
    return numpy_pointwise(x, w[0])


def _convx_layer(case: Case, x: np.ndarray, layer: Layer, threads: int | None) -> np.ndarray:
    nd, w = case.ndim, layer.weights
    geometry = dict(stride=layer.stride, padding=case.padding, dilation=layer.dilation)
    if case.family == "conv":
        fn: Callable[..., np.ndarray] = getattr(convx, f"conv{nd}d")
        return fn(x, w[0], None, groups=case.groups, num_threads=threads, **geometry)
    if case.family == "depthwise":
        fn = getattr(convx, f"depthwise_conv{nd}d")
        return fn(x, w[0], None, num_threads=threads, **geometry)
    if case.family == "separable":
        fn = getattr(convx, f"separable_conv{nd}d")
        return fn(x, w[0], w[1], None, num_threads=threads, **geometry)
    if case.family == "transposed":
        fn = getattr(convx, f"conv_transpose{nd}d")
        return fn(x, w[0], None, groups=case.groups, num_threads=threads, **geometry)
    return convx.pointwise_conv(x, w[0], None, num_threads=threads)


_Step = TypeVar("_Step")


def _stack(layer_fn: Callable[[np.ndarray, _Step], np.ndarray], x: np.ndarray,
           layers: Sequence[_Step]) -> np.ndarray:
    """x through each layer in turn (a case's layers, or objects that run them)."""
    for layer in layers:
        x = layer_fn(x, layer)
    return x


# --------------------------------------------------------------------------------------
# Checking and timing
# --------------------------------------------------------------------------------------


class BenchmarkMismatch(AssertionError):
    """convx (or one NumPy formulation) disagrees with the NumPy baseline."""


def _check(case: Case, quick: bool, what: str, got: np.ndarray, ref: np.ndarray,
           layers: Sequence[Layer]) -> float:
    """Raise :class:`BenchmarkMismatch` unless ``got`` matches ``ref``; return max |error|.

    The tolerance grows with the accumulation length (terms summed per output, over all
    layers) in units of the dtype's epsilon, relative to the output's largest magnitude.
    """
    if got.shape != ref.shape:
        raise BenchmarkMismatch(f"{case.name}: {what} has shape {got.shape}, NumPy baseline {ref.shape}")
    eps = np.finfo(ref.dtype).eps
    tol = 8 * eps * sum(layer.accumulation for layer in layers)
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    if not np.allclose(got, ref, rtol=tol, atol=tol * scale):
        diff = np.abs(got.astype(np.float64) - ref)
        worst = np.unravel_index(np.argmax(np.where(np.isnan(diff), np.inf, diff)), diff.shape)
        raise BenchmarkMismatch(
            f"{case.name} ({case.describe(quick)}): {what} differs from the NumPy baseline: "
            f"max |error| {np.nanmax(diff):.3g} (NaN: {int(np.isnan(got).sum())}) > tolerance "
            f"{tol:.3g} (relative) / {tol * scale:.3g} (absolute); worst at index {tuple(map(int, worst))}: "
            f"got {got[worst]!r}, expected {ref[worst]!r}")
    return float(np.max(np.abs(got.astype(np.float64) - ref))) if ref.size else 0.0


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


#: Pause (seconds) before timing a side, so the other library's idle workers stop competing for
#: the cores: OpenBLAS threads spin ~0.1 s after each call, OpenMP threads a few ms, and on a
#: 2-core machine that slows the next multi-threaded call several times.
DEFAULT_SETTLE = 0.15


WARM_UP_SECONDS = 0.02


def _best_times(fns: Sequence[Callable[[], object]], rounds: int, settle: float) -> list[float]:
    """Best time of each function over ``rounds`` interleaved rounds (the order rotates).

    In each round every function gets a pause of ``settle`` seconds, untimed warm-up calls
    and a timed call. After a pause the warm-up lasts at least WARM_UP_SECONDS: on a VM an
    idle core takes milliseconds to come back to speed, and one short call does not bring it.
    """
    best = [math.inf] * len(fns)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(rounds):
            for i in range(len(fns)):
                j = (i + r) % len(fns)
                if settle > 0:
                    time.sleep(settle)
                start = time.perf_counter()
                fns[j]()
                while settle > 0 and time.perf_counter() - start < WARM_UP_SECONDS:
                    fns[j]()
                best[j] = min(best[j], _seconds(fns[j]))
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


# --------------------------------------------------------------------------------------
# BLAS thread control for the NumPy side
# --------------------------------------------------------------------------------------


def _openblas_thread_functions() -> list[tuple[Callable[[], int], Callable[[int], None]]]:
    """(get, set) thread-count functions of every OpenBLAS loaded in this process (Linux)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    found = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("openblas", ""), ("openblas", "64_"), ("scipy_openblas", "64_"),
                               ("scipy_openblas", "")):
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                getter.restype, setter.argtypes = ctypes.c_int, [ctypes.c_int]
                found.append((getter, setter))
                break
    return found


@contextlib.contextmanager
def blas_threads(threads: int | None) -> Iterator[str]:
    """Limit NumPy's BLAS to ``threads`` threads inside the block; yields a description.

    Uses threadpoolctl when installed, else OpenBLAS's own API through ctypes.
    """
    if threads is None:
        functions = _openblas_thread_functions()
        yield str(functions[0][0]()) if functions else "default"
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if threadpool_limits is not None:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield str(threads)
        return
    functions = _openblas_thread_functions()
    if not functions:
        print("warning: cannot limit NumPy's BLAS threads (install threadpoolctl)", file=sys.stderr)
        yield "default"
        return
    saved = [get() for get, _ in functions]
    for _, set_ in functions:
        set_(threads)
    try:
        yield str(threads)
    finally:
        for (_, set_), n in zip(functions, saved):
            set_(n)


# --------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------


def _run_case(case: Case, repeat: int, threads: int | None, dtype: np.dtype, quick: bool,
              settle: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(case.input_shape(quick)).astype(dtype)
    layers = _make_layers(case, x.shape, dtype, rng)

    def numpy_fn(method: str) -> Callable[[], np.ndarray]:
        return lambda: _stack(lambda h, layer: _numpy_layer(case, h, layer, method), x, layers)

    def convx_fn() -> np.ndarray:
        return _stack(lambda h, layer: _convx_layer(case, h, layer, threads), x, layers)

    # Correctness first (these calls double as the warm-up): every NumPy formulation
    # against the first one, then convx against it.
    methods = BASELINE_METHODS[case.family]
    ref = numpy_fn(methods[0])()
    for method in methods[1:]:
        _check(case, quick, f"NumPy formulation {method!r}", numpy_fn(method)(), ref, layers)
    got = convx_fn()
    if not isinstance(got, np.ndarray) or got.dtype != ref.dtype:
        raise BenchmarkMismatch(f"{case.name}: convx returned {type(got).__name__} of dtype "
                                f"{getattr(got, 'dtype', None)}, expected {ref.dtype}")
    max_error = _check(case, quick, "convx", got, ref, layers)
    del got

    # Pick NumPy's fastest formulation for this case, then time it against convx.
    # (No pause between NumPy formulations: they share one BLAS thread pool.)
    if len(methods) > 1:
        time.sleep(settle)
        trial = _best_times([numpy_fn(m) for m in methods], 2, settle=0)
        method = methods[int(np.argmin(trial))]
    else:
        method = methods[0]
    numpy_s, convx_s = _best_times([numpy_fn(method), convx_fn], repeat, settle)

    flops = sum(layer.flops for layer in layers)
    return {
        "name": case.name,
        "family": case.family,
        "shape": case.describe(quick),
        "dtype": np.dtype(dtype).name,
        "threads": threads,
        "repeat": repeat,
        "numpy_method": method,
        "numpy_ms": numpy_s * 1e3,
        "convx_ms": convx_s * 1e3,
        "speedup": numpy_s / convx_s if convx_s > 0 else math.inf,
        "flops": flops,
        "numpy_gflops": flops / numpy_s / 1e9 if numpy_s > 0 else math.inf,
        "convx_gflops": flops / convx_s / 1e9 if convx_s > 0 else math.inf,
        "max_abs_error": max_error,
    }


def run(cases: str | Sequence[str] | Sequence[Case] | None = None, repeat: int = 5,
        threads: int | None = None, dtype: str = "float32", quick: bool = False,
        progress: bool = True, settle: float | None = None) -> list[dict]:
    """Check and time convx against NumPy on ``cases``; one result dict per case.

    Parameters
    ----------
    cases : None, str, sequence of str, or sequence of Case
        ``None`` runs :data:`DEFAULT_CASES`; strings select defaults by substring of the name
        (comma-separated, case-insensitive); :class:`Case` objects run as given.
    repeat : int
        Interleaved rounds; in each, each side gets warm-up calls and a timed call.
        The best (minimum) time is reported.
    threads : int or None
        ``num_threads`` for convx, and the BLAS thread limit for NumPy. None = all cores.
    dtype : {"float32", "float64"}
    quick : bool
        Divide every spatial size by 4 (not below 8): for tests and smoke runs.
    progress : bool
        Write one progress line per case to stderr.
    settle : float or None
        Seconds to pause before each side's warm-up call, so the other library's idle worker
        threads stop competing for the cores. None: :data:`DEFAULT_SETTLE`, or 0 with
        ``quick`` or ``threads=1`` (no worker threads then).

    Raises
    ------
    BenchmarkMismatch
        If convx's result differs from the NumPy baseline (beyond a tolerance scaled to the
        accumulation length) on any case.
    """
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    np_dtype = np.dtype(dtype)
    if np_dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {np_dtype}")
    if settle is None:
        settle = 0.0 if quick or threads == 1 else DEFAULT_SETTLE
    if settle < 0:
        raise ValueError(f"settle must be >= 0, got {settle}")
    selected = select_cases(cases)
    results = []
    with blas_threads(threads) as numpy_threads:
        for i, case in enumerate(selected, 1):
            if progress:
                print(f"[{i}/{len(selected)}] {case.name} ...", end="", file=sys.stderr, flush=True)
            try:
                result = _run_case(case, repeat, threads, np_dtype, quick, settle, seed=i)
            except BaseException:
                if progress:
                    print(" FAILED", file=sys.stderr, flush=True)
                raise
            result.update(numpy_threads=numpy_threads, quick=quick, settle=settle)
            results.append(result)
            if progress:
                print(f" numpy {result['numpy_ms']:.2f} ms, convx {result['convx_ms']:.2f} ms "
                      f"(x{result['speedup']:.1f})", file=sys.stderr, flush=True)
    return results


# --------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------

_COLUMNS = (  # header, result key, format, right-aligned
    ("case", "name", "{}", False),
    ("shape", "shape", "{}", False),
    ("NumPy ms", "numpy_ms", "{:.3f}", True),
    ("convx ms", "convx_ms", "{:.3f}", True),
    ("speed-up", "speedup", "{:.2f}x", True),
    ("convx GFLOP/s", "convx_gflops", "{:.1f}", True),
    ("NumPy via", "numpy_method", "{}", False),
)


def format_table(results: Sequence[dict]) -> str:
    """The results as an aligned Markdown (GitHub) table, readable as plain text too."""
    rows = [[fmt.format(r[key]) for _, key, fmt, _ in _COLUMNS] for r in results]
    headers = [h for h, *_ in _COLUMNS]
    widths = [max([len(h)] + [len(row[j]) for row in rows]) for j, h in enumerate(headers)]
    right = [r for *_, r in _COLUMNS]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w)
                                 for c, w, r in zip(cells, widths, right)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if r else "-" * (w + 2) for w, r in zip(widths, right)) + "|"
    lines = [line(headers), rule] + [line(row) for row in rows]
    if results:
        speedups = [r["speedup"] for r in results]
        geomean = math.exp(sum(math.log(s) for s in speedups) / len(speedups))
        lines.append("")
        lines.append(f"Geometric-mean speed-up over {len(results)} cases: {geomean:.2f}x "
                     f"(min {min(speedups):.2f}x, max {max(speedups):.2f}x).")
    return "\n".join(lines)


def describe_setup(results: Sequence[dict]) -> str:
    """One line saying what was measured, on what (from the first result)."""
    r = results[0]
    threads = r["threads"] if r["threads"] is not None else f"all {os.cpu_count()}"
    return (f"convx {getattr(convx, '__version__', '?')} vs NumPy {np.__version__}, {r['dtype']}, "
            f"best of {r['repeat']} interleaved rounds (warm-up + timed call per side, "
            f"{r['settle']:g} s pause before each), threads: convx {threads}, "
            f"NumPy BLAS {r['numpy_threads']}{', quick shapes' if r['quick'] else ''}.")


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def list_cases(cases: Sequence[Case], quick: bool = False) -> str:
    """One line per case: name, family, shapes (what ``--list`` prints)."""
    width = max(len(c.name) for c in cases)
    return "\n".join(f"{c.name.ljust(width)}  {c.family:<9}  {c.describe(quick)}" for c in cases)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Time convx against NumPy's best vectorised equivalent on typical layers. "
                    "Every case is first checked for agreement with NumPy.")
    parser.add_argument("--repeat", type=positive_int, default=5, metavar="N",
                        help="interleaved rounds of a warm-up and a timed call per side; "
                             "the best time is reported (default 5)")
    parser.add_argument("--threads", type=positive_int, default=None, metavar="N",
                        help="threads for convx and for NumPy's BLAS (default: all)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--cases", default=None, metavar="SUBSTRINGS",
                        help="only cases whose name contains one of these comma-separated substrings")
    parser.add_argument("--quick", action="store_true",
                        help=f"spatial sizes divided by {QUICK_DIVISOR}, for a fast smoke run")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--settle", type=float, default=None, metavar="SECONDS",
                        help=f"pause before timing each side, so the other library's spinning "
                             f"worker threads go idle (default {DEFAULT_SETTLE}; 0 with --quick "
                             f"or --threads 1)")
    return parser


def run_cli(args: argparse.Namespace) -> int:
    """Run what the parsed arguments ask for; print the table; return the exit status."""
    try:
        cases = select_cases(args.cases)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        print(list_cases(cases, args.quick))
        return 0
    start = time.perf_counter()
    try:
        results = run(cases, repeat=args.repeat, threads=args.threads, dtype=args.dtype,
                      quick=args.quick, settle=args.settle)
    except BenchmarkMismatch as exc:
        print(f"\nMISMATCH: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - start
    text = "\n".join([describe_setup(results), "",
                      format_table(results), "", f"Total time {elapsed:.1f} s."])
    print(text)
    markdown = getattr(args, "markdown", None)
    if markdown:
        with open(markdown, "w", encoding="utf-8") as f:
            f.write(f"# convx vs NumPy\n\n{text}\n")
        print(f"wrote {markdown}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    return run_cli(build_parser(prog).parse_args(argv))
