"""Shape arithmetic users ask for: output shapes, receptive fields, parameter counts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Union

from ._geometry import forward_geometry, shape_of, transpose_geometry
from ._validation import as_index, describe, fail, int_tuple, positive_int

__all__ = ["conv_output_shape", "receptive_field", "param_count"]

ShapeLike = Union[Sequence[int], object]


def conv_output_shape(input_shape: ShapeLike, weight_shape: ShapeLike, stride: int | Sequence[int] = 1,
                      padding: object = 0, dilation: int | Sequence[int] = 1, groups: int = 1, *,
                      layout: str = "channels_first", transposed: bool = False,
                      output_padding: int | Sequence[int] = 0) -> tuple[int, ...]:
    """Shape of the result of the convolution these arguments describe, with the same checks.

    Parameters
    ----------
    input_shape, weight_shape : tuple of ints or array
        Shapes (or arrays whose shapes are used) as :func:`convx.conv2d` (or, with
        ``transposed=True``, :func:`convx.conv_transpose2d`) would receive them. The number of
        spatial axes is ``len(input_shape) - 2``.
    stride, padding, dilation, groups, layout
        As in :func:`convx.conv2d`.
    transposed : bool, keyword-only
        Size a transposed convolution instead (weight ``(C_in, C_out / groups, *kernel)``).
    output_padding : int or tuple of ints, keyword-only
        Transposed convolution only.

    Returns
    -------
    tuple of ints

    Examples
    --------
    >>> conv_output_shape((1, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3)
    (1, 64, 112, 112)
    >>> conv_output_shape((1, 16, 100), (16, 16, 2), padding="causal", dilation=512)
    (1, 16, 100)
    """
    fname = "conv_output_shape"
    x_shape = shape_of(input_shape, fname, "input_shape")
    w_shape = shape_of(weight_shape, fname, "weight_shape")
    nd = len(x_shape) - 2
    if nd not in (1, 2, 3):
        fail(ValueError, fname, "input_shape", "a shape of 3 to 5 sizes (N, C, 1 to 3 spatial sizes)", repr(input_shape))
    if transposed:
        geometry = transpose_geometry(fname, nd, x_shape, w_shape, stride, padding, output_padding, groups, dilation,
                                      layout)
    else:
        if as_index(output_padding) != 0:
            fail(ValueError, fname, "output_padding", "0 unless transposed=True", repr(output_padding))
        geometry = forward_geometry(fname, nd, x_shape, w_shape, stride, padding, dilation, groups, layout)
    return geometry.out_shape


def _per_layer(values: object, layers: int, fname: str, param: str, default: int) -> list[object]:
    if values is None:
        return [default] * layers
    if not isinstance(values, Sequence) or isinstance(values, str):
        fail(TypeError, fname, param, f"None or a sequence with one entry per layer ({layers})", describe(values))
    if len(values) != layers:
        fail(ValueError, fname, param, f"None or a sequence with one entry per layer ({layers})", describe(values))
    return list(values)


def receptive_field(kernel_sizes: Sequence[int] | Sequence[Sequence[int]], dilations: Sequence[object] | None = None,
                    strides: Sequence[object] | None = None) -> int | tuple[int, ...]:
    """Receptive field of a stack of convolutions: how many input positions one output sees.

    ``1 + sum over layers l of (k_l - 1) * d_l * (product of the strides before l)``.

    Parameters
    ----------
    kernel_sizes : sequence
        One kernel size per layer: ints (one axis), or tuples (one entry per axis).
    dilations, strides : sequence, optional
        One entry per layer (an int, or a tuple like the kernel sizes); default 1.

    Returns
    -------
    int, or a tuple with one int per axis when the kernel sizes are tuples.

    Examples
    --------
    >>> receptive_field([3, 3, 3, 3], dilations=[1, 2, 4, 8])
    31
    >>> receptive_field([(3, 3)] * 4, dilations=[1, 2, 4, 8])
    (31, 31)
    >>> receptive_field([2] * 10, dilations=[2**i for i in range(10)])  # one WaveNet block
    1024
    """
    fname = "receptive_field"
    if not isinstance(kernel_sizes, Sequence) or isinstance(kernel_sizes, str) or len(kernel_sizes) == 0:
        fail(TypeError if not isinstance(kernel_sizes, Sequence) else ValueError, fname, "kernel_sizes",
             "a non-empty sequence of kernel sizes, one per layer", describe(kernel_sizes))
    layers = len(kernel_sizes)
    scalar = as_index(kernel_sizes[0]) is not None
    first = kernel_sizes[0]
    nd = 1 if scalar or not isinstance(first, Sequence) else len(first)
    kernels = [int_tuple(k, nd, fname, "kernel_sizes", 1) for k in kernel_sizes]
    dils = [int_tuple(d, nd, fname, "dilations", 1) for d in _per_layer(dilations, layers, fname, "dilations", 1)]
    steps = [int_tuple(s, nd, fname, "strides", 1) for s in _per_layer(strides, layers, fname, "strides", 1)]
    field = []
    for axis in range(nd):
        total, jump = 1, 1
        for k, d, s in zip(kernels, dils, steps):
            total += (k[axis] - 1) * d[axis] * jump
            jump *= s[axis]
        field.append(total)
    return field[0] if scalar else tuple(field)


def param_count(in_channels: int, out_channels: int, kernel_size: int | Sequence[int], *, kind: str = "conv",
                groups: int = 1, depth_multiplier: int = 1, bias: bool = False) -> int:
    """Number of weights (and biases) of one layer.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or tuple of ints
        An int is a 1-D kernel; ``(3, 3)`` is 3x3.
    kind : {"conv", "depthwise", "separable"}, keyword-only
        ``"conv"``: ``out * in / groups * prod(kernel)``; ``"depthwise"``: ``out * prod(kernel)``
        (``out`` a multiple of ``in``); ``"separable"``: depthwise with ``depth_multiplier`` M,
        then a 1x1 merge: ``in * M * prod(kernel) + in * M * out``.
    groups : int, keyword-only
        For ``"conv"``.
    depth_multiplier : int, keyword-only
        For ``"separable"``.
    bias : bool, keyword-only
        Count one bias per output channel.

    Examples
    --------
    >>> param_count(16, 32, (3, 3)), param_count(16, 32, (3, 3), kind="separable")
    (4608, 656)
    >>> param_count(8, 32, (3, 3)), param_count(8, 32, (3, 3), kind="separable")
    (2304, 328)
    """
    fname = "param_count"
    c_in = positive_int(in_channels, fname, "in_channels")
    c_out = positive_int(out_channels, fname, "out_channels")
    nd = 1 if as_index(kernel_size) is not None else len(kernel_size) if isinstance(kernel_size, Sequence) else 0
    if nd == 0:
        fail(TypeError, fname, "kernel_size", "an int or a tuple of ints", describe(kernel_size))
    taps = math.prod(int_tuple(kernel_size, nd, fname, "kernel_size", 1))
    if not isinstance(bias, (bool, int)):
        fail(TypeError, fname, "bias", "a bool", describe(bias))
    extra = c_out if bias else 0
    if kind == "conv":
        g = positive_int(groups, fname, "groups")
        if c_in % g or c_out % g:
            fail(ValueError, fname, "groups", f"a divisor of in_channels ({c_in}) and out_channels ({c_out})",
                 repr(groups))
        return c_out * (c_in // g) * taps + extra
    if kind == "depthwise":
        if c_out % c_in:
            fail(ValueError, fname, "out_channels", f"a multiple of in_channels ({c_in}) for kind='depthwise'",
                 repr(out_channels))
        return c_out * taps + extra
    if kind == "separable":
        m = positive_int(depth_multiplier, fname, "depth_multiplier")
        return c_in * m * taps + c_in * m * c_out + extra
    fail(ValueError if isinstance(kind, str) else TypeError, fname, "kind", "one of 'conv', 'depthwise', 'separable'",
         describe(kind))
    raise AssertionError  # unreachable: fail raises
