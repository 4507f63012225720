"""Argument checking and normalisation shared by every public function.

Every failure raises ValueError (bad value) or TypeError (bad type) with a message that names the
function, the parameter, what it must be and what was given.
"""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Sequence
from typing import Any, Literal, NoReturn, SupportsIndex, TypeGuard, overload

import numpy as np

from . import _ext

#: Largest element count or coordinate convx accepts: keeps all index arithmetic in int64.
MAX_SIZE = 2**62

LAYOUTS = ("channels_first", "channels_last")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def fail(exc: type[Exception], fname: str, param: str, must: str, got: object) -> NoReturn:
    raise exc(f"The {param!r} parameter of {fname} must be {must}. Got {got} instead.")


def describe(value: object) -> str:
    """Short description of a given value for error messages (arrays by shape and dtype)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return repr(value)


def as_index(value: object) -> int | None:
    """The value as a Python int if it is an integer (bools excluded), else None."""
    if type(value) is int:  # the common case, without the slow protocol check below
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, SupportsIndex):
        return None
    try:
        return operator.index(value)
    except TypeError:  # an __index__ that fails (e.g. a non-scalar integer array)
        return None


def is_sequence(value: object) -> TypeGuard[Sequence[Any] | np.ndarray]:
    """A list, tuple or array of values; strings and bytes are not (b"\\x02" is no stride of 2)."""
    return isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes, bytearray))


def int_tuple(value: object, nd: int, fname: str, param: str, minimum: int) -> tuple[int, ...]:
    """An int or one int per spatial axis, each >= minimum, as an nd-tuple."""
    must = f"{'positive' if minimum == 1 else 'non-negative'} integers (an int or one per spatial axis: {nd})"
    single = as_index(value)
    if single is not None:
        items: list[int | None] = [single] * nd
    elif is_sequence(value):
        items = [as_index(v) for v in value]
        if len(items) != nd:
            fail(ValueError, fname, param, must, describe(value))
    else:
        fail(TypeError, fname, param, must, describe(value))
    values = tuple(v for v in items if v is not None)
    if len(values) != len(items):
        fail(TypeError, fname, param, must, describe(value))
    if any(v < minimum for v in values):
        fail(ValueError, fname, param, must, describe(value))
    if any(v > MAX_SIZE for v in values):
        fail(ValueError, fname, param, "at most 2**62", describe(value))
    return values


def positive_int(value: object, fname: str, param: str) -> int:
    v = as_index(value)
    if v is None:
        fail(TypeError, fname, param, "a positive integer", describe(value))
    if v < 1 or v > MAX_SIZE:
        fail(ValueError, fname, param, "a positive integer", describe(value))
    return v


def choice(value: object, options: tuple[str, ...], fname: str, param: str) -> str:
    if type(value) is str and value in options:
        return value
    must = "one of " + ", ".join(repr(o) for o in options)
    if not isinstance(value, str):
        fail(TypeError, fname, param, must, describe(value))
    if value not in options:
        fail(ValueError, fname, param, must, describe(value))
    return value


def as_array(value: object, fname: str, param: str) -> np.ndarray:
    """The value as an ndarray of real numbers (no copy when it already is one)."""
    must = "an array of real numbers (float16/32/64, integer or bool)"
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"The {param!r} parameter of {fname} must be {must}. Got {describe(value)}, "
                        f"which NumPy cannot turn into an array ({exc}).") from None
    kind = arr.dtype.kind
    if kind not in "biuf" or (kind == "f" and arr.dtype.itemsize > 8):
        fail(TypeError, fname, param, must, f"an array of dtype {arr.dtype}")
    return arr


def result_dtype(*arrays: np.ndarray | None) -> np.dtype:
    """NumPy promotion, with integers and bool computed in float64 and float16 in float32."""
    dtype = np.result_type(*(a.dtype for a in arrays if a is not None))
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype.itemsize < 4:
        return np.dtype(np.float32)
    return dtype


def prepare(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """C-contiguous, aligned, native-order array of dtype; the caller's array is never written."""
    if arr.dtype == dtype and arr.flags.c_contiguous and arr.flags.aligned:  # the usual case, without np.require's cost
        return arr
    return np.require(arr, dtype=dtype, requirements=["C", "A"])


def check_bias(bias: np.ndarray | None, channels: int, fname: str) -> None:
    if bias is not None and bias.shape != (channels,):
        fail(ValueError, fname, "bias", f"None or a 1-D array of shape ({channels},) (one value per output channel)",
             f"shape {bias.shape}")


#: Largest result convx allocates, in elements. NumPy refuses arrays of 2**63 bytes or more,
#: multiplying the non-zero sizes only, so an empty batch cannot carry absurd sizes either.
MAX_OUTPUT = 2**59


def check_output_size(shape: tuple[int, ...], fname: str) -> None:
    """Rejects results NumPy could not allocate (float64 at 2**59 elements is 2**62 bytes)."""
    count = math.prod(max(1, n) for n in shape)
    if count > MAX_OUTPUT:
        fail(ValueError, fname, "input", "small enough that the result has at most 2**59 elements (sizes of 0 "
             "counting as 1, as NumPy counts them)", f"a result of shape {shape}")


def check_size(count: int, fname: str, param: str, what: str) -> None:
    """Rejects sizes whose index arithmetic would leave int64."""
    if count > MAX_SIZE:
        fail(ValueError, fname, param, f"small enough that {what} has at most 2**62 elements", f"{count} elements")


@overload
def pad_pairs(padding: object, nd: int, fname: str, *, allow_strings: Literal[False]) -> list[tuple[int, int]]: ...
@overload
def pad_pairs(padding: object, nd: int, fname: str, *, allow_strings: bool) -> str | list[tuple[int, int]]: ...
def pad_pairs(padding: object, nd: int, fname: str, *, allow_strings: bool) -> str | list[tuple[int, int]]:
    """Explicit padding as nd (before, after) pairs, or the string itself ('valid', 'same', 'causal')."""
    strings = ("valid", "same", "causal") if nd == 1 else ("valid", "same")
    must = (f"a non-negative int, {nd} such ints, or {nd} (before, after) pairs"
            + (", or one of " + ", ".join(repr(s) for s in strings) if allow_strings else ""))
    if isinstance(padding, str):
        if not allow_strings or padding not in strings:
            fail(ValueError, fname, "padding", must, repr(padding))
        return padding
    single = as_index(padding)
    if single is not None:
        items: list[object] = [single] * nd
    elif is_sequence(padding):
        items = list(padding)
        if nd == 1 and len(items) == 2 and all(as_index(v) is not None for v in items):
            items = [tuple(items)]  # 1-D: a flat (before, after) pair
        if len(items) != nd:
            fail(ValueError, fname, "padding", must, describe(padding))
    else:
        fail(TypeError, fname, "padding", must, describe(padding))
    pairs = []
    for item in items:
        v = as_index(item)
        before: int | None
        after: int | None
        if v is not None:
            before = after = v
        elif is_sequence(item) and len(item) == 2:
            before, after = as_index(item[0]), as_index(item[1])
        else:
            before = after = None
        if is_sequence(item) and len(item) != 2:
            fail(ValueError, fname, "padding", must, describe(padding))
        if before is None or after is None:
            fail(TypeError, fname, "padding", must, describe(padding))
        if before < 0 or after < 0 or before > MAX_SIZE or after > MAX_SIZE:
            fail(ValueError, fname, "padding", must, describe(padding))
        pairs.append((before, after))
    return pairs


def resolve_padding(padding: object, in_size: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                    dilation: Sequence[int], fname: str) -> list[tuple[int, int]]:
    """(before, after) per axis for a forward convolution, strings included."""
    spec = pad_pairs(padding, len(in_size), fname, allow_strings=True)
    if not isinstance(spec, str):
        return spec
    if spec == "valid":
        return [(0, 0)] * len(in_size)
    if spec == "causal":
        return [((kernel[0] - 1) * dilation[0], 0)]
    pairs = []  # "same"
    for n, k, s, d in zip(in_size, kernel, stride, dilation):
        out = -(-n // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - n)
        pairs.append((total // 2, total - total // 2))
    return pairs


#: Threads per CPU a call may use at most. More only slow a compute-bound call down, and an
#: absurd count (65536) crashed GNU OpenMP while it started the team.
THREADS_PER_CPU_LIMIT = 4


def thread_limit() -> int:
    """The most threads one call runs: THREADS_PER_CPU_LIMIT per CPU this process may use."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return THREADS_PER_CPU_LIMIT * max(1, cpus or 1)


def max_threads() -> int:
    """All the threads convx may use: CONVX_NUM_THREADS, else OpenMP's default (OMP_NUM_THREADS),
    at most thread_limit(); 1 without OpenMP and in a forked child (the core runs one thread there)."""
    if not _ext.openmp_enabled() or _ext.in_forked_child():
        return 1
    env = os.environ.get("CONVX_NUM_THREADS", "").strip()
    if env:
        value = int(env) if env.lstrip("-").isdigit() else None
        if value is None or value < 1:
            raise ValueError(f"The CONVX_NUM_THREADS environment variable must be a positive integer. "
                             f"Got {env!r} instead.")
        return min(value, thread_limit())
    return min(max(1, _ext.max_threads()), thread_limit())


def resolve_threads(num_threads: object, fname: str) -> int:
    """Thread count for one call: None = all, negative counts back from the maximum, as scikit-learn."""
    if num_threads is None:
        return max_threads()
    n = as_index(num_threads)
    must = "None or a non-zero integer (negative counts back from the maximum)"
    if n is None:
        fail(TypeError, fname, "num_threads", must, describe(num_threads))
    if n == 0:
        fail(ValueError, fname, "num_threads", must, describe(num_threads))
    if not _ext.openmp_enabled():
        return 1
    if n < 0:
        return max(1, max_threads() + n + 1)
    return min(n, thread_limit())


def check_out(out: object, shape: tuple[int, ...], dtype: np.dtype, inputs: Sequence[np.ndarray | None],
              fname: str) -> np.ndarray:
    must = f"None or a writeable C-contiguous array of shape {shape} and dtype {dtype} that shares no memory with the inputs"
    if not isinstance(out, np.ndarray):
        fail(TypeError, fname, "out", must, describe(out))
    assert isinstance(out, np.ndarray)
    if out.shape != shape or out.dtype != dtype:
        fail(ValueError, fname, "out", must, describe(out))
    if not out.flags.c_contiguous or not out.flags.aligned or not out.dtype.isnative:
        fail(ValueError, fname, "out", must, "a non-contiguous, misaligned or byte-swapped array")
    if not out.flags.writeable:
        fail(ValueError, fname, "out", must, "a read-only array")
    if any(a is not None and np.shares_memory(out, a) for a in inputs):
        fail(ValueError, fname, "out", must, "an array that overlaps an input")
    return out
