"""depthwise_conv1d/2d, separable_conv1d/2d and pointwise_conv against the float64 reference."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import convx
from helpers import (
    FLOAT_DTYPES,
    LAYOUTS,
    PADDING_MODES,
    TILE_WIDTHS,
    check_conv,
    check_depthwise,
    check_pointwise,
    check_separable,
    make,
)

SPATIAL = {1: (19,), 2: (9, 11)}
KERNEL = {1: (3,), 2: (3, 3)}

# =============================================================================================
# depthwise


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("multiplier", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_depthwise_exact(rng, nd, multiplier, stride, dilation, layout):
    c = 5
    x = make(rng, (2, c) + SPATIAL[nd], np.float32, integer=True)
    w = make(rng, (c * multiplier, 1) + KERNEL[nd], np.float32, integer=True)
    b = make(rng, (c * multiplier,), np.float32, integer=True)
    check_depthwise(x, w, b, stride=stride, padding=1, dilation=dilation, layout=layout, exact=True)


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("multiplier", [1, 2, 3])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", [False, True])
def test_depthwise_random(rng, nd, multiplier, dtype, layout, bias):
    c = 7
    x = make(rng, (3, c) + SPATIAL[nd], dtype)
    w = make(rng, (c * multiplier, 1) + (5, 4)[:nd], dtype)
    b = make(rng, (c * multiplier,), dtype) if bias else None
    check_depthwise(x, w, b, stride=2, padding="same", dilation=2, layout=layout)


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("padding", [1, 6, "same", "pairs"])
def test_depthwise_padding_modes(rng, nd, mode, padding):
    if padding == "pairs":
        padding = [(0, 5), (4, 1)][:nd]
    x = make(rng, (2, 4) + (5, 4)[:nd], np.float32, integer=True)
    w = make(rng, (8, 1) + (3, 2)[:nd], np.float32, integer=True)
    check_depthwise(x, w, None, padding=padding, padding_mode=mode, exact=True)
    check_depthwise(x, w, None, padding=padding, padding_mode=mode, exact=True,
                    layout="channels_last")


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("multiplier", [1, 2])
def test_depthwise_causal_1d(rng, mode, multiplier):
    x = make(rng, (2, 3, 17), np.float32, integer=True)
    w = make(rng, (3 * multiplier, 1, 2), np.float32, integer=True)
    got = check_depthwise(x, w, None, padding="causal", dilation=4, padding_mode=mode, exact=True)
    assert got.shape == (2, 3 * multiplier, 17)


@pytest.mark.parametrize("channels", [1, 3, 8, 16, 17, 23, 33])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_depthwise_channel_and_width_edges_2d(rng, channels, layout):
    """Widths around vector tile edges (contiguous axis: W in NCHW, C in NHWC)."""
    for width in TILE_WIDTHS:
        x = make(rng, (1, channels, 4, width), np.float32, integer=True)
        w = make(rng, (channels, 1, 3, 3), np.float32, integer=True)
        b = make(rng, (channels,), np.float32, integer=True)
        check_depthwise(x, w, b, padding=1, layout=layout, exact=True)


@pytest.mark.parametrize("kernel, stride, dilation", [(3, 1, 1), (3, 1, 2), (3, 1, 4), (5, 1, 1), (3, 2, 1),
                                                      (5, 2, 1), (3, 1, 3), (7, 1, 1)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_depthwise_row_kernels_and_pixel_blocks_exact(rng, kernel, stride, dilation, dtype):
    """The row kernels compiled per (kernel width, stride, dilation) and the generic one, on
    rows cut into pixel blocks of 8 and 16 every way (a block of 16 then one of 8 or fewer,
    partial blocks), both layouts: exact on integer data."""
    for width in [1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 33, 40, 41, 56]:
        x = make(rng, (1, 16, 3, width * stride), dtype, integer=True)
        w = make(rng, (16, 1, kernel, kernel), dtype, integer=True)
        b = make(rng, (16,), dtype, integer=True)
        for layout in LAYOUTS:
            check_depthwise(x, w, b, stride=stride, dilation=dilation, padding="same", layout=layout, exact=True)


@pytest.mark.parametrize("width", TILE_WIDTHS + [67, 130])
@pytest.mark.parametrize("stride", [1, 2])
def test_depthwise_width_edges_1d(rng, width, stride):
    x = make(rng, (2, 17, width), np.float32, integer=True)
    w = make(rng, (34, 1, 3), np.float32, integer=True)
    check_depthwise(x, w, None, stride=stride, padding=1, exact=True)
    check_depthwise(x, w, None, stride=stride, padding=1, exact=True, layout="channels_last")


@pytest.mark.parametrize("kernel", [1, 2, 4, 5, 7, 11])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_depthwise_kernel_sizes_2d(rng, kernel, dtype):
    x = make(rng, (1, 6, 13, 14), dtype)
    w = make(rng, (6, 1, kernel, kernel), dtype)
    check_depthwise(x, w, None, padding="same")
    check_depthwise(x, w, None, padding="same", layout="channels_last")


@pytest.mark.parametrize("height", [1, 3, 4, 5, 6, 8, 11, 18])
@pytest.mark.parametrize("dilation", [(1, 1), (2, 1), (1, 3), (3, 2), (5, 5)])
@pytest.mark.parametrize("stride", [1, 2, (2, 1), 3])
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_depthwise_3x3_row_blocks(rng, height, dilation, stride, mode, dtype):
    """3x3 with stride 1 or 2 and dilation 1 or 2 along the row has its own register kernel
    (dw_pixels_rows): heights and strides around the bands' rows, every dilation pairing,
    padding mode, dtype, multiplier and bias."""
    x = make(rng, (2, 3, height, 13), dtype, integer=True)
    w = make(rng, (6, 1, 3, 3), dtype, integer=True)
    b = make(rng, (6,), dtype, integer=True)
    check_depthwise(x, w, b, stride=stride, padding="same", dilation=dilation, padding_mode=mode, exact=True)
    check_depthwise(x, w[::2], None, stride=stride, padding=(dilation[0], 0), dilation=dilation, padding_mode=mode,
                    exact=True)


@pytest.mark.parametrize("channels, multiplier", [(5, 1), (8, 2), (13, 1), (16, 1), (3, 3)])
@pytest.mark.parametrize("kernel, stride, dilation", [
    ((3, 3), 1, 1), ((3, 3), 1, (1, 2)), ((3, 3), 2, 1), ((5, 5), 1, 1), ((5, 5), 2, 1),  # register kernels
    ((3, 5), 1, 3), ((7, 1), (1, 2), 1), ((2, 2), 3, 2),                                  # generic taps
])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_depthwise_channel_blocks(rng, channels, multiplier, kernel, stride, dilation, dtype):
    """Channels-first depthwise runs on blocks of a vector's worth of channels (8 float32, 4
    float64 with AVX2): partial last blocks, multipliers, every register-kernel shape and the
    generic one, rows of 8-pixel blocks, a 4-pixel block and single pixels (width 29), both
    thread counts; exact."""
    x = make(rng, (2, channels, 10, 29), dtype, integer=True)
    w = make(rng, (channels * multiplier, 1, *kernel), dtype, integer=True)
    b = make(rng, (channels * multiplier,), dtype, integer=True)
    for threads in (1, 2):
        check_depthwise(x, w, b, stride=stride, padding="same", dilation=dilation, exact=True, num_threads=threads)


@pytest.mark.parametrize("kernel, dilation", [((7, 7), 1), ((7, 9), 1), ((7, 7), (1, 2))])
@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_depthwise_rows(rng, kernel, dilation, multiplier, mode, dtype):
    """Channels-first depthwise with 7-row filters runs along rows: heights around the blocks of
    16, 8, 4, 2 and 1 rows, widths around one and two vectors (chunks whose last one overlaps the
    one before), every padding mode, multipliers, bias; exact."""
    for height, width in [(1, 14), (3, 15), (9, 16), (37, 16), (12, 17), (15, 31), (5, 32), (8, 33), (19, 47),
                          (2, 64), (4, 70)]:
        x = make(rng, (2, 3, height, width), dtype, integer=True)
        w = make(rng, (3 * multiplier, 1, *kernel), dtype, integer=True)
        b = make(rng, (3 * multiplier,), dtype, integer=True)
        check_depthwise(x, w, b, padding="same", dilation=dilation, padding_mode=mode, exact=True)


@pytest.mark.parametrize("shape, multiplier", [((3, 11, 112, 112), 1), ((2, 19, 60, 70), 2)])
@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_depthwise_rows_tiles(rng, shape, multiplier, mode):
    """The row path over several tiles, a short last block of channels and images that share a
    thread's band (whose zero padding is written once per tile), on 1 and 2 threads; exact."""
    x = make(rng, shape, np.float32, integer=True)
    w = make(rng, (shape[1] * multiplier, 1, 7, 7), np.float32, integer=True)
    b = make(rng, (shape[1] * multiplier,), np.float32, integer=True)
    for threads in (1, 2):
        check_depthwise(x, w, b, padding="same", padding_mode=mode, exact=True, num_threads=threads)


@pytest.mark.parametrize("shape, kernel, dilation", [
    ((1, 9, 200, 190), (3, 3), 1),  # band over 128 KiB: tiles of fewer rows
    ((1, 9, 9000), (5,), 1),        # a row longer than a tile: pieces of one row
    ((1, 4, 5000), (2,), 700),      # dilation wider than the tile: a band group per tap
])
@pytest.mark.parametrize("mode", PADDING_MODES)
def test_depthwise_band_tiles(rng, shape, kernel, dilation, mode):
    """Bands of channels-first depthwise: row tiles, pieces of long rows and per-tap groups, in
    every padding mode, on both thread counts; exact."""
    x = make(rng, shape, np.float32, integer=True)
    w = make(rng, (shape[1], 1, *kernel), np.float32, integer=True)
    for threads in (1, 2):
        check_depthwise(x, w, None, padding="same", dilation=dilation, padding_mode=mode, exact=True,
                        num_threads=threads)


def test_depthwise_3d_channel_blocks(rng):
    """A 3-D depthwise (conv3d with groups = C) on the same blocks: taps along depth too."""
    x = make(rng, (1, 11, 5, 6, 13), np.float32, integer=True)
    w = make(rng, (22, 1, 3, 2, 3), np.float32, integer=True)
    for threads in (1, 2):
        check_conv(x, w, None, stride=(1, 2, 1), padding="same", dilation=(2, 1, 1), groups=11, exact=True,
                   num_threads=threads)


@pytest.mark.parametrize("size", [1, 2, 5, 7, 13])
def test_depthwise_small_sizes_2d(rng, size):
    x = make(rng, (2, 3, size, size), np.float32, integer=True)
    w = make(rng, (6, 1, 3, 3), np.float32, integer=True)
    check_depthwise(x, w, None, padding=1, exact=True)
    check_depthwise(x, w, None, padding=1, exact=True, layout="channels_last")


@pytest.mark.parametrize("dilation", [64, 512])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_depthwise_wavenet_dilation(rng, dilation, layout):
    x = make(rng, (1, 16, 2 * dilation + 300), np.float32, integer=True)
    w = make(rng, (16, 1, 2), np.float32, integer=True)
    b = make(rng, (16,), np.float32, integer=True)
    check_depthwise(x, w, b, padding="causal", dilation=dilation, layout=layout, exact=True)


def test_depthwise_equals_conv_with_groups(rng):
    x = make(rng, (2, 5, 12, 9), np.float64)
    w = make(rng, (10, 1, 3, 2), np.float64)
    b = make(rng, (10,), np.float64)
    a = convx.depthwise_conv2d(x, w, b, stride=(2, 1), padding=((1, 2), (0, 1)), dilation=(1, 3))
    c = convx.conv2d(x, w, b, stride=(2, 1), padding=((1, 2), (0, 1)), dilation=(1, 3), groups=5)
    np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-13)


def test_depthwise_output_channel_mapping(rng):
    """Output channel j uses input channel j // M."""
    c, m = 3, 2
    x = np.zeros((1, c, 5))
    x[0, 1] = 1.0
    w = np.ones((c * m, 1, 1))
    y = convx.depthwise_conv1d(x, w)
    assert_array_equal(y[0, :, 0], [0, 0, 1, 1, 0, 0])


# =============================================================================================
# separable


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("multiplier", [1, 2, 3])
@pytest.mark.parametrize("pw_form", ["full", "2d"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_separable_exact(rng, nd, multiplier, pw_form, layout):
    c, c_out = 4, 6
    x = make(rng, (2, c) + SPATIAL[nd], np.float32, integer=True)
    dw = make(rng, (c * multiplier, 1) + KERNEL[nd], np.float32, integer=True)
    pw_shape = (c_out, c * multiplier) + ((1,) * nd if pw_form == "full" else ())
    pw = make(rng, pw_shape, np.float32, integer=True)
    b = make(rng, (c_out,), np.float32, integer=True)
    check_separable(x, dw, pw, b, stride=2, padding="same", dilation=2, layout=layout, exact=True)


@pytest.mark.parametrize("channels, kernel, stride", [
    (300, (3, 3), 1),   # wide tiles of many channels: pieces of rows (channels-last: read in place)
    (300, (5, 5), 1),   # the same on channel blocks in both layouts
    (80, (3, 3), 2),    # channels-last in place at stride 2
    (20, (3, 3), 1),    # few channels: channel blocks in both layouts
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_separable_tiles_and_paths(rng, channels, kernel, stride, layout):
    """The fused tiles (whole rows, or pieces of rows too wide for the depthwise output to stay
    in L2) and both depthwise paths of channels-last, on both thread counts; exact."""
    x = make(rng, (1, channels, 4, 700), np.float32, integer=True)
    dw = make(rng, (channels, 1, *kernel), np.float32, integer=True)
    pw = make(rng, (5, channels), np.float32, integer=True)
    b = make(rng, (5,), np.float32, integer=True)
    for threads in (1, 2):
        check_separable(x, dw, pw, b, stride=stride, padding="same", layout=layout, exact=True, num_threads=threads)


@pytest.mark.parametrize("nd", [1, 2])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("bias", [False, True])
def test_separable_random(rng, nd, dtype, mode, bias):
    c, m, c_out = 5, 2, 9
    x = make(rng, (2, c) + SPATIAL[nd], dtype)
    dw = make(rng, (c * m, 1) + KERNEL[nd], dtype)
    pw = make(rng, (c_out, c * m) + (1,) * nd, dtype)
    b = make(rng, (c_out,), dtype) if bias else None
    check_separable(x, dw, pw, b, padding=2, padding_mode=mode)
    check_separable(x, dw, pw, b, stride=(1,) * (nd - 1) + (3,), padding=1, padding_mode=mode,
                    layout="channels_last")


@pytest.mark.parametrize("c, c_out", [(1, 1), (3, 17), (17, 3), (23, 23), (32, 64)])
@pytest.mark.parametrize("width", [1, 8, 9, 17, 35])
def test_separable_channel_width_edges_2d(rng, c, c_out, width):
    x = make(rng, (1, c, 5, width), np.float32, integer=True)
    dw = make(rng, (c, 1, 3, 3), np.float32, integer=True)
    pw = make(rng, (c_out, c), np.float32, integer=True)
    b = make(rng, (c_out,), np.float32, integer=True)
    check_separable(x, dw, pw, b, padding=1, exact=True)
    check_separable(x, dw, pw, b, padding=1, exact=True, layout="channels_last")


@pytest.mark.parametrize("padding", ["causal", "valid", "same", 3, ((2, 0),)], ids=repr)
def test_separable_1d_paddings(rng, padding):
    x = make(rng, (2, 3, 20), np.float32, integer=True)
    dw = make(rng, (6, 1, 3), np.float32, integer=True)
    pw = make(rng, (4, 6, 1), np.float32, integer=True)
    check_separable(x, dw, pw, None, padding=padding, dilation=3, exact=True)


def test_separable_equals_depthwise_then_pointwise(rng):
    x = make(rng, (2, 4, 10, 12), np.float64)
    dw = make(rng, (8, 1, 3, 3), np.float64)
    pw = make(rng, (5, 8), np.float64)
    b = make(rng, (5,), np.float64)
    sep = convx.separable_conv2d(x, dw, pw, b, stride=2, padding=1, padding_mode="reflect")
    two = convx.pointwise_conv(convx.depthwise_conv2d(x, dw, None, stride=2, padding=1,
                                                      padding_mode="reflect"), pw, b)
    np.testing.assert_allclose(sep, two, rtol=1e-12, atol=1e-12)


# =============================================================================================
# pointwise


@pytest.mark.parametrize("ndim", [2, 3, 4, 5])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("w_form", ["2d", "ones"])
@pytest.mark.parametrize("bias", [False, True])
def test_pointwise_exact(rng, ndim, layout, w_form, bias):
    spatial = (5, 3, 4)[: ndim - 2]
    x = make(rng, (2, 7) + spatial, np.float32, integer=True)
    w_shape = (9, 7) + ((1,) * len(spatial) if w_form == "ones" else ())
    w = make(rng, w_shape, np.float32, integer=True)
    b = make(rng, (9,), np.float32, integer=True) if bias else None
    check_pointwise(x, w, b, layout=layout, exact=True)


@pytest.mark.parametrize("ndim", [2, 3, 4, 5])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_pointwise_random(rng, ndim, dtype, layout):
    spatial = (6, 5, 3)[: ndim - 2]
    x = make(rng, (3, 40) + spatial, dtype)
    w = make(rng, (24, 40), dtype)
    b = make(rng, (24,), dtype)
    check_pointwise(x, w, b, layout=layout)


@pytest.mark.parametrize("c_in, c_out", [(1, 1), (1, 23), (3, 17), (17, 3), (23, 23), (64, 48)])
@pytest.mark.parametrize("width", TILE_WIDTHS)
def test_pointwise_channel_width_edges(rng, c_in, c_out, width):
    x = make(rng, (2, c_in, 3, width), np.float32, integer=True)
    w = make(rng, (c_out, c_in), np.float32, integer=True)
    b = make(rng, (c_out,), np.float32, integer=True)
    check_pointwise(x, w, b, exact=True)
    check_pointwise(x, w, b, exact=True, layout="channels_last")


def test_pointwise_equals_conv_1x1(rng):
    x = make(rng, (2, 6, 7, 8), np.float64)
    w = make(rng, (4, 6, 1, 1), np.float64)
    b = make(rng, (4,), np.float64)
    np.testing.assert_allclose(convx.pointwise_conv(x, w, b), convx.conv2d(x, w, b),
                               rtol=1e-13, atol=1e-13)
    check_conv(x, w, b)


def test_pointwise_2d_input_is_a_matmul(rng):
    """ndim 2: (N, C_in) -> (N, C_out), the plain x @ w.T + b."""
    x = make(rng, (11, 5), np.float64)
    w = make(rng, (3, 5), np.float64)
    b = make(rng, (3,), np.float64)
    got = convx.pointwise_conv(x, w, b)
    assert got.shape == (11, 3)
    np.testing.assert_allclose(got, x @ w.T + b, rtol=1e-13, atol=1e-13)
    got_cl = convx.pointwise_conv(x, w, b, layout="channels_last")
    np.testing.assert_allclose(got_cl, x @ w.T + b, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("num_threads", [2, 3])
def test_threaded_sizes_exact(rng, layout, num_threads):
    """Problems big enough (> 1M multiply-adds) to run threaded, for all three families."""
    x = make(rng, (2, 24, 41, 43), np.float32, integer=True)
    dw = make(rng, (48, 1, 3, 3), np.float32, integer=True)
    pw = make(rng, (40, 48), np.float32, integer=True)
    b = make(rng, (40,), np.float32, integer=True)
    check_depthwise(x, dw, None, stride=1, padding=1, layout=layout,
                    exact=True, num_threads=num_threads)
    check_separable(x, dw, pw, b, padding="same", layout=layout, exact=True,
                    num_threads=num_threads)
    check_pointwise(x, pw[:, :24], b, layout=layout, exact=True, num_threads=num_threads)
    x1 = make(rng, (1, 64, 4000), np.float32, integer=True)
    w1 = make(rng, (64, 1, 2), np.float32, integer=True)
    check_depthwise(x1, w1, None, padding="causal", dilation=256, layout=layout, exact=True,
                    num_threads=num_threads)
