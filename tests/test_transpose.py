"""conv_transpose1d/2d/3d against the independent scatter-add reference."""

import numpy as np
import pytest

import convx
from helpers import (
    FLOAT_DTYPES,
    LAYOUTS,
    TILE_WIDTHS,
    check_transpose,
    from_layout,
    layout_shape,
    make,
    to_layout,
)
from reference import ref_conv, ref_conv_transpose

SPATIAL = {1: (9,), 2: (5, 6), 3: (3, 4, 3)}
KERNEL = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}


def _out_shape_via_helper(x, w, layout, **kw):
    return tuple(convx.conv_output_shape(layout_shape(x.shape, layout), w.shape, kw.get("stride", 1),
                                         kw.get("padding", 0), kw.get("dilation", 1),
                                         kw.get("groups", 1), layout=layout, transposed=True,
                                         output_padding=kw.get("output_padding", 0)))


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_transpose_stride_dilation_exact(rng, nd, stride, dilation, layout):
    x = make(rng, (2, 4) + SPATIAL[nd], np.float32, integer=True)
    w = make(rng, (4, 3) + KERNEL[nd], np.float32, integer=True)
    b = make(rng, (3,), np.float32, integer=True)
    kw = dict(stride=stride, padding=1, dilation=dilation)
    got = check_transpose(x, w, b, layout=layout, exact=True, **kw)
    assert got.shape == _out_shape_via_helper(x, w, layout, **kw)


@pytest.mark.parametrize("stride", [2, 3])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_transpose_phase_reductions_longer_than_a_chunk(rng, stride, groups, layout):
    """Transposed layers run output phase by phase; channels-first, a phase's reduction (input
    channels x its taps: 200 x 4 and more here) spans several K chunks, which accumulate, and
    images of 12-40 pixels per phase row make tiles of whole rows and pieces of rows, some
    reading padding (channels-last: from a band) and some only the input."""
    for size in ((5, 6), (3, 130)):
        x = make(rng, (1, 200 * groups) + size, np.float32, integer=True)
        w = make(rng, (200 * groups, 9) + (4, 5), np.float32, integer=True)
        b = make(rng, (9 * groups,), np.float32, integer=True)
        check_transpose(x, w, b, exact=True, stride=stride, padding=1, groups=groups, layout=layout)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_transpose_dilation_far_above_stride(rng, layout):
    """Dilations far above the stride spread each phase's taps apart: their band then holds
    only the rows and columns the taps read, one band per phase combination (1-D to 3-D)."""
    for size, kernel, stride, dilation, padding in (((9, 10), (3, 3), (2, 3), (16, 9), (5, 7)),
                                                   ((4, 3, 5), (3, 2, 3), (1, 2, 2), (8, 5, 7), (2, 1, 3)),
                                                   ((40,), (4,), (3,), (32,), (20,))):
        x = make(rng, (2, 6) + size, np.float32, integer=True)
        w = make(rng, (6, 5) + kernel, np.float32, integer=True)
        b = make(rng, (5,), np.float32, integer=True)
        check_transpose(x, w, b, exact=True, stride=stride, dilation=dilation, padding=padding, layout=layout)


@pytest.mark.parametrize("channels", [1, 5, 32, 70])
def test_transpose_depthwise_channels_last(rng, channels):
    """Channels-last depthwise transposed layers (groups = C_in = C_out) run pixel by pixel on
    the depthwise kernel, each pixel over its phase's taps: interior runs, border pixels, phases
    no tap reaches (stride above the kernel), output padding, dilation, 1-D to 3-D; a NaN weight
    reaches only the outputs its channel's input pixels scatter to."""
    for size, kernel, stride, dilation, padding, output_padding in (
            ((9, 10), (4, 4), (2, 2), (1, 1), (1, 1), (0, 1)), ((7, 6), (3, 2), (2, 3), (2, 1), (2, 0), (1, 2)),
            ((13,), (2,), (4,), (1,), (0,), (3,)), ((3, 4, 5), (2, 3, 3), (2, 1, 2), (1, 2, 1), (0, 1, 1), (1, 0, 1))):
        x = make(rng, (2, channels) + size, np.float32, integer=True)
        w = make(rng, (channels, 1) + kernel, np.float32, integer=True)
        b = make(rng, (channels,), np.float32, integer=True)
        kw = dict(stride=stride, dilation=dilation, padding=padding, output_padding=output_padding, groups=channels)
        check_transpose(x, w, b, exact=True, layout="channels_last", **kw)
        w[channels // 2, 0, (0,) * len(kernel)] = np.nan  # a NaN weight: exact NaN positions too
        expected = ref_conv_transpose(x, w, b, stride, padding, output_padding, channels, dilation)
        with np.errstate(invalid="ignore"):
            got = getattr(convx, f"conv_transpose{len(size)}d")(to_layout(x, "channels_last"), w, b,
                                                                 layout="channels_last", **kw)
        np.testing.assert_array_equal(from_layout(got, "channels_last"), expected.astype(np.float32))


def test_transpose_channels_last_reduction_in_chunks(rng):
    """Channels-last, a phase's 2100 input channels x 4 taps exceed one K chunk of the direct
    kernel on every ISA (its weight panel stays within 256 KiB), so chunks accumulate."""
    x = make(rng, (1, 2100, 3, 4), np.float64, integer=True)
    w = make(rng, (2100, 5, 4, 4), np.float64, integer=True)
    b = make(rng, (5,), np.float64, integer=True)
    check_transpose(x, w, b, exact=True, stride=2, padding=1, layout="channels_last")


def test_transpose_many_output_channels(rng):
    """1100 output channels: the scratch bounds shrink the phase path's tiles and K chunks
    (300 input channels x 1 tap per phase runs as two chunks), results still exact."""
    x = make(rng, (1, 300, 3, 4), np.float64, integer=True)
    w = make(rng, (300, 1100, 2, 2), np.float64, integer=True)
    b = make(rng, (1100,), np.float64, integer=True)
    check_transpose(x, w, b, exact=True, stride=2)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", [False, True])
def test_transpose_random(rng, nd, dtype, layout, bias):
    x = make(rng, (2, 6) + SPATIAL[nd], dtype)
    w = make(rng, (6, 5) + KERNEL[nd], dtype)
    b = make(rng, (5,), dtype) if bias else None
    kw = dict(stride=2, padding=1, output_padding=1, dilation=1)
    got = check_transpose(x, w, b, layout=layout, **kw)
    assert got.shape == _out_shape_via_helper(x, w, layout, **kw)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("padding", ["int", "per_axis", "pairs", "big"])
@pytest.mark.parametrize("output_padding", [0, 1, 2])
def test_transpose_padding_output_padding(rng, nd, padding, output_padding):
    stride = 3
    padding = {
        "int": 1,
        "per_axis": (0, 2, 1)[:nd],
        "pairs": [(0, 2), (3, 1), (1, 0)][:nd],
        "big": 3,
    }[padding]
    x = make(rng, (2, 3) + SPATIAL[nd], np.float32, integer=True)
    w = make(rng, (3, 2) + (3,) * nd, np.float32, integer=True)
    b = make(rng, (2,), np.float32, integer=True)
    kw = dict(stride=stride, padding=padding, output_padding=output_padding)
    got = check_transpose(x, w, b, exact=True, **kw)
    assert got.shape == _out_shape_via_helper(x, w, "channels_first", **kw)
    check_transpose(x, w, b, exact=True, layout="channels_last", **kw)


@pytest.mark.parametrize("output_padding", [0, 1, 2])
def test_transpose_output_padding_below_dilation(rng, output_padding):
    """output_padding < max(stride, dilation): with stride 1 it may go up to dilation - 1."""
    x = make(rng, (1, 2, 7), np.float32, integer=True)
    w = make(rng, (2, 3, 3), np.float32, integer=True)
    check_transpose(x, w, None, stride=1, dilation=3, output_padding=output_padding, exact=True)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("groups", [1, 2, 4])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_transpose_groups_exact(rng, nd, groups, layout):
    x = make(rng, (2, 8) + SPATIAL[nd], np.float32, integer=True)
    w = make(rng, (8, 3) + KERNEL[nd], np.float32, integer=True)  # C_out = 3 * groups
    b = make(rng, (3 * groups,), np.float32, integer=True)
    got = check_transpose(x, w, b, stride=2, padding=1, output_padding=1, groups=groups,
                          layout=layout, exact=True)
    assert from_cf_channels(got, layout) == 3 * groups


def from_cf_channels(a, layout):
    return a.shape[1] if layout == "channels_first" else a.shape[-1]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("groups", [2, 3])
def test_transpose_groups_dilation_random(rng, dtype, groups):
    x = make(rng, (2, 3 * groups, 7, 6), dtype)
    w = make(rng, (3 * groups, 2, 3, 3), dtype)
    b = make(rng, (2 * groups,), dtype)
    check_transpose(x, w, b, stride=(2, 3), padding=((1, 2), (2, 0)), output_padding=(1, 2),
                    groups=groups, dilation=(2, 1))


@pytest.mark.parametrize("c_in, c_out", [(1, 1), (3, 17), (17, 3), (23, 23)])
@pytest.mark.parametrize("width", TILE_WIDTHS)
def test_transpose_channel_width_edges_2d(rng, c_in, c_out, width):
    x = make(rng, (1, c_in, 3, width), np.float32, integer=True)
    w = make(rng, (c_in, c_out, 4, 4), np.float32, integer=True)
    b = make(rng, (c_out,), np.float32, integer=True)
    check_transpose(x, w, b, stride=2, padding=1, exact=True)
    check_transpose(x, w, b, stride=2, padding=1, exact=True, layout="channels_last")


@pytest.mark.parametrize("size", [1, 2, 5, 7, 13])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_transpose_small_sizes(rng, size, nd):
    x = make(rng, (2, 3) + (size,) * nd, np.float32, integer=True)
    for kernel, stride in [(1, 1), (2, 2), (3, 1), (3, 2), (5, 3)]:
        w = make(rng, (3, 4) + (kernel,) * nd, np.float32, integer=True)
        check_transpose(x, w, None, stride=stride, exact=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_transpose_long_accumulation(rng, dtype):
    x = make(rng, (1, 96, 8, 9), dtype)
    w = make(rng, (96, 32, 3, 3), dtype)
    check_transpose(x, w, None, stride=1, padding=1)
    check_transpose(x, w, None, stride=2, padding=1, output_padding=1, layout="channels_last")


@pytest.mark.parametrize("seed", range(24))
def test_transpose_random_configurations(seed):
    rng = np.random.default_rng(2000 + seed)
    nd = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 1, 2, 3]))
    c_in = groups * int(rng.integers(1, 4))
    cog = int(rng.integers(1, 4))
    kernel = tuple(int(k) for k in rng.integers(1, 5, nd))
    stride = tuple(int(s) for s in rng.integers(1, 4, nd))
    dilation = tuple(int(d) for d in rng.integers(1, 4, nd))
    in_sp = tuple(int(n) for n in rng.integers(1, 7, nd))
    output_padding = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    pads = []
    for n, k, s, d, op in zip(in_sp, kernel, stride, dilation, output_padding):
        full = (n - 1) * s + d * (k - 1) + op + 1
        before = int(rng.integers(0, full))
        after = int(rng.integers(0, full - before))
        pads.append((before, after))
    integer = bool(rng.integers(0, 2))
    dtype = FLOAT_DTYPES[int(rng.integers(0, 2))]
    layout = LAYOUTS[int(rng.integers(0, 2))]
    x = make(rng, (int(rng.integers(1, 3)), c_in) + in_sp, dtype, integer)
    w = make(rng, (c_in, cog) + kernel, dtype, integer)
    b = make(rng, (cog * groups,), dtype, integer) if rng.integers(0, 2) else None
    kw = dict(stride=stride, padding=pads, output_padding=output_padding, groups=groups,
              dilation=dilation)
    got = check_transpose(x, w, b, layout=layout, exact=integer, **kw)
    assert got.shape == _out_shape_via_helper(x, w, layout, **kw)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_transpose_is_adjoint_of_conv(rng, nd):
    """<conv(x, w), y> == <x, conv_transpose(y, w)> with the same weight array."""
    stride, padding, dilation, groups = 2, 1, 2, 2
    x = make(rng, (2, 4) + (9, 8, 7)[:nd], np.float64)
    w = make(rng, (6, 2) + (3, 2, 2)[:nd], np.float64)
    y_shape = ref_conv(x, w, None, stride, padding, dilation, groups).shape
    y = make(rng, y_shape, np.float64)
    op = tuple((n + 2 * padding - dilation * (k - 1) - 1) % stride
               for n, k in zip(x.shape[2:], w.shape[2:]))
    fwd = getattr(convx, f"conv{nd}d")(x, w, None, stride, padding, dilation, groups)
    bwd = getattr(convx, f"conv_transpose{nd}d")(y, w, None, stride, padding, op, groups, dilation)
    assert bwd.shape == x.shape
    np.testing.assert_allclose(np.vdot(fwd, y), np.vdot(x, bwd), rtol=1e-10)


def test_transpose_stride_upsamples_impulse():
    """A single 1 at input position i with stride s writes the kernel at output i*s."""
    x = np.zeros((1, 1, 4))
    x[0, 0, 2] = 1.0
    w = np.array([[[1.0, 2.0, 3.0]]])
    y = convx.conv_transpose1d(x, w, stride=3)
    expected = np.zeros((1, 1, 12))
    expected[0, 0, 6:9] = [1, 2, 3]
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("num_threads", [1, 2, 3])
def test_transpose_threaded_sizes_exact(rng, layout, num_threads):
    """Big enough (> 1M multiply-adds) to run threaded."""
    x = make(rng, (2, 32, 20, 19), np.float32, integer=True)
    w = make(rng, (32, 12, 4, 4), np.float32, integer=True)
    b = make(rng, (12,), np.float32, integer=True)
    check_transpose(x, w, b, stride=2, padding=1, layout=layout, exact=True,
                    num_threads=num_threads)
    x = make(rng, (1, 16, 900), np.float32, integer=True)
    w = make(rng, (16, 24, 5), np.float32, integer=True)
    check_transpose(x, w, None, stride=3, padding=((2, 1),), output_padding=2, dilation=2,
                    layout=layout, exact=True, num_threads=num_threads)
