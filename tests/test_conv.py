"""Correctness of convx.conv1d / conv2d / conv3d against the float64 reference.

Integer-valued inputs (``exact=True``) must match bit for bit; normal random inputs must be within
the accumulation-length-scaled bound of helpers.assert_conv_close.
"""

import numpy as np
import pytest

import convx
from helpers import (
    FLOAT_DTYPES,
    LAYOUTS,
    ODD_CHANNELS,
    PADDING_MODES,
    SMALL_SIZES,
    TILE_WIDTHS,
    check_conv,
    layout_shape,
    make,
    random_conv_config,
)

SPATIAL = {1: (23,), 2: (11, 10), 3: (7, 8, 6)}
KERNEL = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", [False, True])
def test_dtype_layout_bias(rng, nd, dtype, layout, bias):
    x = make(rng, (2, 5) + SPATIAL[nd], dtype)
    w = make(rng, (7, 5) + KERNEL[nd], dtype)
    b = make(rng, (7,), dtype) if bias else None
    got = check_conv(x, w, b, stride=2, padding=1, layout=layout)
    expected_shape = convx.conv_output_shape(layout_shape(x.shape, layout), w.shape, 2, 1,
                                             layout=layout)
    assert got.shape == tuple(expected_shape)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_stride_dilation_exact_float32(rng, nd, stride, dilation, layout):
    x = make(rng, (2, 3) + SPATIAL[nd], np.float32, integer=True)
    w = make(rng, (4, 3) + KERNEL[nd], np.float32, integer=True)
    b = make(rng, (4,), np.float32, integer=True)
    check_conv(x, w, b, stride=stride, padding=1, dilation=dilation, layout=layout, exact=True)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 3])
def test_stride_dilation_float64(rng, nd, stride, dilation):
    x = make(rng, (2, 3) + SPATIAL[nd], np.float64)
    w = make(rng, (5, 3) + KERNEL[nd], np.float64)
    b = make(rng, (5,), np.float64)
    check_conv(x, w, b, stride=stride, padding=2, dilation=dilation)


@pytest.mark.parametrize("stride, dilation", [
    ((1, 2), (3, 1)),
    ((3, 1), (1, 2)),
    ((2, 2), (2, 3)),
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_per_axis_stride_dilation_2d(rng, stride, dilation, layout):
    x = make(rng, (2, 3, 13, 12), np.float32, integer=True)
    w = make(rng, (5, 3, 3, 2), np.float32, integer=True)
    check_conv(x, w, None, stride=stride, padding=(1, 2), dilation=dilation, layout=layout,
               exact=True)


def test_per_axis_stride_dilation_3d(rng):
    x = make(rng, (1, 2, 9, 7, 8), np.float32, integer=True)
    w = make(rng, (3, 2, 2, 3, 2), np.float32, integer=True)
    check_conv(x, w, None, stride=(1, 2, 3), padding=(0, 1, 2), dilation=(2, 1, 3), exact=True)


# --- big 1-D dilations (WaveNet) -------------------------------------------------------------


@pytest.mark.parametrize("dilation, length", [(64, 700), (512, 2100), (512, 300)])
@pytest.mark.parametrize("padding", [0, "causal", "same", ((1000, 3),)])
@pytest.mark.parametrize("c_in, c_out", [(1, 4), (16, 16)])
def test_big_dilation_1d_exact(rng, dilation, length, padding, c_in, c_out):
    if padding == 0 and length < 2 * dilation + 1:
        padding = ((2 * dilation, 1),)  # kernel span exceeds the input: pad so it fits
    x = make(rng, (2, c_in, length), np.float32, integer=True)
    w = make(rng, (c_out, c_in, 3), np.float32, integer=True)
    b = make(rng, (c_out,), np.float32, integer=True)
    got = check_conv(x, w, b, padding=padding, dilation=dilation, exact=True)
    if padding in ("causal", "same"):
        assert got.shape[-1] == length


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("stride", [1, 2])
def test_big_dilation_1d_random(rng, dtype, layout, stride):
    x = make(rng, (1, 8, 2500), dtype)
    w = make(rng, (8, 8, 2), dtype)
    b = make(rng, (8,), dtype)
    check_conv(x, w, b, stride=stride, padding="causal", dilation=512, layout=layout)


def test_big_dilation_2d(rng):
    x = make(rng, (1, 3, 9, 300), np.float32, integer=True)
    w = make(rng, (4, 3, 2, 3), np.float32, integer=True)
    check_conv(x, w, None, padding=((0, 0), (64, 64)), dilation=(2, 64), exact=True)


# --- padding forms ---------------------------------------------------------------------------

PADDING_FORMS_2D = [
    0,
    2,
    (1, 3),
    (0, 2),
    ((0, 2), (3, 1)),
    ((2, 0), (0, 0)),
    ((5, 4), (1, 6)),
    "valid",
    "same",
]


@pytest.mark.parametrize("padding", PADDING_FORMS_2D, ids=repr)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_padding_forms_2d(rng, padding, layout):
    x = make(rng, (2, 3, 7, 9), np.float32, integer=True)
    w = make(rng, (4, 3, 3, 4), np.float32, integer=True)
    b = make(rng, (4,), np.float32, integer=True)
    check_conv(x, w, b, padding=padding, layout=layout, exact=True)


@pytest.mark.parametrize("padding", [0, 3, (2,), ((0, 4),), ((3, 0),), "valid", "same", "causal"],
                         ids=repr)
def test_padding_forms_1d(rng, padding):
    x = make(rng, (2, 3, 10), np.float64)
    w = make(rng, (4, 3, 4), np.float64)
    check_conv(x, w, None, padding=padding, dilation=2)


@pytest.mark.parametrize("padding", [1, (0, 1, 2), ((1, 0), (0, 2), (2, 1)), "valid", "same"],
                         ids=repr)
def test_padding_forms_3d(rng, padding):
    x = make(rng, (1, 2, 5, 6, 4), np.float32, integer=True)
    w = make(rng, (3, 2, 2, 3, 2), np.float32, integer=True)
    check_conv(x, w, None, padding=padding, exact=True)


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("dilation", [1, 2])
def test_same_padding_1d(rng, stride, kernel, dilation):
    """'same' gives ceil(n / stride) for every size, even kernels put the extra pad at the end."""
    for n in (1, 2, 5, 7, 8, 13):
        x = make(rng, (1, 2, n), np.float32, integer=True)
        w = make(rng, (3, 2, kernel), np.float32, integer=True)
        got = check_conv(x, w, None, stride=stride, padding="same", dilation=dilation, exact=True)
        assert got.shape == (1, 3, -(-n // stride))


@pytest.mark.parametrize("stride", [1, 2, 3, (1, 2), (3, 2)])
@pytest.mark.parametrize("kernel", [(2, 2), (3, 4), (1, 5)])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_padding_2d(rng, stride, kernel, layout):
    x = make(rng, (2, 3, 7, 10), np.float32, integer=True)
    w = make(rng, (4, 3) + kernel, np.float32, integer=True)
    got = check_conv(x, w, None, stride=stride, padding="same", dilation=(1, 2), layout=layout,
                     exact=True)
    s = (stride, stride) if isinstance(stride, int) else stride
    sp = got.shape[2:] if layout == "channels_first" else got.shape[1:3]
    assert sp == (-(-7 // s[0]), -(-10 // s[1]))


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2, 4])
@pytest.mark.parametrize("kernel", [1, 2, 3])
def test_causal_padding_1d(rng, stride, dilation, kernel):
    x = make(rng, (2, 3, 11), np.float32, integer=True)
    w = make(rng, (2, 3, kernel), np.float32, integer=True)
    got = check_conv(x, w, None, stride=stride, padding="causal", dilation=dilation, exact=True)
    assert got.shape == (2, 2, -(-11 // stride))


def test_causal_output_depends_only_on_past(rng):
    x = make(rng, (1, 2, 20), np.float64)
    w = make(rng, (3, 2, 3), np.float64)
    y1 = convx.conv1d(x, w, padding="causal", dilation=2)
    x2 = x.copy()
    x2[..., 12:] = rng.standard_normal((1, 2, 8))
    y2 = convx.conv1d(x2, w, padding="causal", dilation=2)
    np.testing.assert_array_equal(y1[..., :12], y2[..., :12])
    assert not np.array_equal(y1[..., 12:], y2[..., 12:])


# --- padding modes ---------------------------------------------------------------------------

MODE_CASES = {
    # name: (spatial, kernel, padding)
    1: [((9,), (3,), 1), ((4,), (3,), ((3, 5),)), ((3,), (2,), 7), ((1,), (2,), ((2, 1),))],
    2: [((5, 6), (3, 3), 1), ((3, 4), (2, 3), ((4, 1), (0, 6))), ((2, 2), (3, 2), 5),
        ((1, 3), (2, 2), ((1, 2), (2, 2)))],
    3: [((3, 4, 5), (2, 2, 3), (1, 0, 2)), ((2, 3, 2), (2, 2, 2), ((3, 1), (0, 4), (2, 2)))],
}
MODE_PARAMS = [(nd, i) for nd in (1, 2, 3) for i in range(len(MODE_CASES[nd]))]


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("nd, case", MODE_PARAMS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_padding_modes_exact(rng, mode, nd, case, layout):
    """Includes pads larger than the input and size-1 axes: np.pad semantics."""
    spatial, kernel, padding = MODE_CASES[nd][case]
    x = make(rng, (2, 3) + spatial, np.float32, integer=True)
    w = make(rng, (4, 3) + kernel, np.float32, integer=True)
    b = make(rng, (4,), np.float32, integer=True)
    check_conv(x, w, b, padding=padding, padding_mode=mode, layout=layout, exact=True)


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_padding_modes_with_stride_dilation_groups_float64(rng, mode, nd):
    x = make(rng, (2, 4) + SPATIAL[nd], np.float64)
    w = make(rng, (6, 2) + KERNEL[nd], np.float64)
    b = make(rng, (6,), np.float64)
    check_conv(x, w, b, stride=2, padding=4, dilation=2, groups=2, padding_mode=mode)


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_padding_modes_same(rng, mode, stride):
    x = make(rng, (1, 2, 6, 5), np.float32, integer=True)
    w = make(rng, (3, 2, 4, 3), np.float32, integer=True)
    check_conv(x, w, None, stride=stride, padding="same", padding_mode=mode, exact=True)


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_padding_modes_causal(rng, mode):
    x = make(rng, (2, 3, 6), np.float32, integer=True)
    w = make(rng, (2, 3, 4), np.float32, integer=True)
    check_conv(x, w, None, padding="causal", dilation=3, padding_mode=mode, exact=True)


def test_padding_mode_changes_result(rng):
    """Sanity: non-zero modes really differ from zero padding on a non-trivial input."""
    x = make(rng, (1, 1, 6, 6), np.float64) + 5.0
    w = np.ones((1, 1, 3, 3))
    outs = {m: convx.conv2d(x, w, padding=2, padding_mode=m) for m in PADDING_MODES}
    for a in PADDING_MODES:
        for b in PADDING_MODES:
            if a < b:
                assert not np.allclose(outs[a], outs[b]), (a, b)


# --- groups ----------------------------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("groups", [1, 2, 3, 6])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_groups_exact(rng, nd, groups, layout):
    x = make(rng, (2, 6) + SPATIAL[nd], np.float32, integer=True)
    w = make(rng, (12, 6 // groups) + KERNEL[nd], np.float32, integer=True)
    b = make(rng, (12,), np.float32, integer=True)
    check_conv(x, w, b, stride=(1,) * (nd - 1) + (2,), padding=1, groups=groups, layout=layout,
               exact=True)


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("multiplier", [1, 2])
@pytest.mark.parametrize("channels", [1, 5, 17])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_depthwise_through_conv_groups(rng, nd, multiplier, channels, layout):
    x = make(rng, (2, channels) + SPATIAL[nd], np.float32, integer=True)
    w = make(rng, (channels * multiplier, 1) + KERNEL[nd], np.float32, integer=True)
    b = make(rng, (channels * multiplier,), np.float32, integer=True)
    check_conv(x, w, b, padding="same", dilation=2, groups=channels, layout=layout, exact=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("groups, c_in, c_out", [(2, 6, 4), (3, 9, 6), (4, 8, 8), (8, 8, 16)])
def test_groups_random(rng, dtype, groups, c_in, c_out):
    x = make(rng, (2, c_in, 9, 8), dtype)
    w = make(rng, (c_out, c_in // groups, 3, 3), dtype)
    b = make(rng, (c_out,), dtype)
    check_conv(x, w, b, stride=(2, 1), padding=((1, 0), (2, 1)), dilation=(1, 2), groups=groups,
               padding_mode="reflect")


@pytest.mark.parametrize("group_width, groups", [(2, 5), (4, 3), (4, 32), (8, 2)])
@pytest.mark.parametrize("nd, stride, dilation", [(1, 1, 3), (2, 1, 1), (2, 2, (1, 2)), (3, (1, 2, 1), 1)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_small_groups(rng, group_width, groups, nd, stride, dilation, dtype, layout):
    """Groups of 2, 4 or 8 input = output channels (ResNeXt's 32 x 4) run on vector channel
    blocks, each input pixel spread into one vector per channel of its group: partial last
    blocks (5 x 2, 3 x 4 channels), groups as wide as a vector, strides, dilations, 1-3 axes,
    both layouts and thread counts; exact."""
    c = group_width * groups
    x = make(rng, (2, c) + {1: (37,), 2: (9, 21), 3: (5, 6, 11)}[nd], dtype, integer=True)
    w = make(rng, (c, group_width) + KERNEL[nd], dtype, integer=True)
    b = make(rng, (c,), dtype, integer=True)
    for threads in (1, 2):
        check_conv(x, w, b, stride=stride, padding="same", dilation=dilation, groups=groups, layout=layout,
                   exact=True, num_threads=threads)


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_small_groups_padding_modes(rng, mode):
    x = make(rng, (1, 12, 13, 17), np.float32, integer=True)
    w = make(rng, (12, 4, 3, 3), np.float32, integer=True)
    for layout in LAYOUTS:
        check_conv(x, w, None, padding=2, dilation=2, groups=3, padding_mode=mode, layout=layout, exact=True)


def test_groups_are_independent(rng):
    """Changing group 1's input must not change group 0's outputs."""
    x = make(rng, (1, 4, 8), np.float64)
    w = make(rng, (6, 2, 3), np.float64)
    y1 = convx.conv1d(x, w, groups=2)
    x[:, 2:] += 1.0
    y2 = convx.conv1d(x, w, groups=2)
    np.testing.assert_array_equal(y1[:, :3], y2[:, :3])
    assert not np.allclose(y1[:, 3:], y2[:, 3:])


# --- odd channel counts and tile-edge widths --------------------------------------------------

CHANNEL_PAIRS = [(1, 1), (1, 17), (3, 23), (17, 3), (23, 17)]


@pytest.mark.parametrize("c_in, c_out", CHANNEL_PAIRS)
@pytest.mark.parametrize("width", TILE_WIDTHS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tile_edges_2d_exact(rng, c_in, c_out, width, layout):
    x = make(rng, (2, c_in, 3, width), np.float32, integer=True)
    w = make(rng, (c_out, c_in, 3, 3), np.float32, integer=True)
    b = make(rng, (c_out,), np.float32, integer=True)
    check_conv(x, w, b, padding=1, layout=layout, exact=True)


@pytest.mark.parametrize("c_in", ODD_CHANNELS)
@pytest.mark.parametrize("c_out", ODD_CHANNELS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_odd_channels_1d_random(rng, c_in, c_out, dtype):
    for width in TILE_WIDTHS:
        x = make(rng, (1, c_in, width), dtype)
        w = make(rng, (c_out, c_in, 3), dtype)
        b = make(rng, (c_out,), dtype)
        check_conv(x, w, b, padding=1)
        check_conv(x, w, b, padding=1, layout="channels_last")


@pytest.mark.parametrize("width", TILE_WIDTHS + [2 * 16 + 3, 2 * 8 + 3, 6 * 2 + 1, 67])
@pytest.mark.parametrize("stride", [1, 2])
def test_tile_edges_widths_1d_exact(rng, width, stride):
    x = make(rng, (3, 17, width), np.float32, integer=True)
    w = make(rng, (23, 17, 2), np.float32, integer=True)
    check_conv(x, w, None, stride=stride, padding=((1, 0),), exact=True)
    check_conv(x, w, None, stride=stride, padding=((1, 0),), exact=True, layout="channels_last")


@pytest.mark.parametrize("c_out", [1, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 67])
def test_output_channel_tile_edges(rng, c_out):
    """Output channels around micro-kernel row/column counts (AVX2 6 x 16 f32, 6 x 8 f64;
    AVX-512 8 x 32 f32, 8 x 16 f64; the narrow direct kernel's half as many channels, NR / 2
    and below, on twice the pixels)."""
    for dtype in FLOAT_DTYPES:
        x = make(rng, (1, 9, 6, 19), dtype, integer=True)
        w = make(rng, (c_out, 9, 3, 3), dtype, integer=True)
        b = make(rng, (c_out,), dtype, integer=True)
        check_conv(x, w, b, padding=1, exact=True)
        check_conv(x, w, b, padding=1, exact=True, layout="channels_last")


# --- small and odd spatial sizes --------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("size", SMALL_SIZES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_small_spatial_sizes(rng, nd, size, layout):
    spatial = (size,) * nd
    for kernel, padding in [(1, 0), (2, "same"), (3, 1), (size, 0)]:
        x = make(rng, (2, 3) + spatial, np.float32, integer=True)
        w = make(rng, (5, 3) + (kernel,) * nd, np.float32, integer=True)
        check_conv(x, w, None, padding=padding, layout=layout, exact=True)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_kernel_larger_than_input_with_padding(rng, nd):
    x = make(rng, (1, 2) + (2,) * nd, np.float32, integer=True)
    w = make(rng, (3, 2) + (5,) * nd, np.float32, integer=True)
    check_conv(x, w, None, padding=2, exact=True)
    check_conv(x, w, None, padding=3, padding_mode="circular", exact=True)


def test_kernel_covers_whole_input(rng):
    x = make(rng, (3, 4, 7, 5), np.float32)
    w = make(rng, (6, 4, 7, 5), np.float32)
    got = check_conv(x, w, None)
    assert got.shape == (3, 6, 1, 1)


# --- accumulation accuracy, larger problems ----------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_long_accumulation_2d(rng, dtype, layout):
    x = make(rng, (1, 64, 17, 18), dtype)
    w = make(rng, (48, 64, 3, 3), dtype)
    b = make(rng, (48,), dtype)
    check_conv(x, w, b, padding=1, layout=layout)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_long_accumulation_3d(rng, dtype):
    x = make(rng, (2, 16, 6, 7, 9), dtype)
    w = make(rng, (20, 16, 3, 3, 3), dtype)
    check_conv(x, w, None, padding=1, stride=(1, 2, 1))


def test_integer_exact_large_channel_count(rng):
    x = make(rng, (1, 128, 9, 9), np.float32, integer=True)
    w = make(rng, (40, 128, 3, 3), np.float32, integer=True)
    check_conv(x, w, None, padding=1, exact=True)
    check_conv(x, w, None, padding=1, exact=True, layout="channels_last")


def test_batch_elements_independent(rng):
    x = make(rng, (4, 3, 10, 10), np.float32)
    w = make(rng, (5, 3, 3, 3), np.float32)
    full = convx.conv2d(x, w, padding=1)
    for n in range(4):
        np.testing.assert_array_equal(full[n:n + 1], convx.conv2d(x[n:n + 1], w, padding=1))


# --- seeded random configurations -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(48))
def test_random_configurations(seed):
    rng = np.random.default_rng(1000 + seed)
    nd = int(rng.integers(1, 4))
    cfg = random_conv_config(rng, nd)
    integer = bool(rng.integers(0, 2))
    dtype = FLOAT_DTYPES[int(rng.integers(0, 2))]
    layout = LAYOUTS[int(rng.integers(0, 2))]
    x = make(rng, cfg["x_shape"], dtype, integer)
    w = make(rng, cfg["w_shape"], dtype, integer)
    b = make(rng, (cfg["w_shape"][0],), dtype, integer) if rng.integers(0, 2) else None
    # sometimes pass symmetric pads as per-axis ints
    padding = cfg["padding"]
    if all(p[0] == p[1] for p in padding):
        padding = tuple(p[0] for p in padding)
    got = check_conv(x, w, b, stride=cfg["stride"], padding=padding, dilation=cfg["dilation"],
                     groups=cfg["groups"], padding_mode=cfg["padding_mode"], layout=layout,
                     exact=integer)
    expected_shape = convx.conv_output_shape(layout_shape(x.shape, layout), w.shape, cfg["stride"],
                                             padding, cfg["dilation"], cfg["groups"], layout=layout)
    assert tuple(expected_shape) == got.shape


# --- blocking boundaries and multi-threaded sizes ----------------------------------------------
# Sizes chosen around common blocking parameters (K blocks of 256, pixel tiles of ~192, 4/6-row
# panels) and problems big enough (> ~1M multiply-adds) that the library runs them threaded.


@pytest.mark.parametrize("c_in, kernel", [(85, 3), (256, 1), (257, 1), (64, 4), (57, 9),
                                          (171, 3), (512, 1), (513, 1)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_accumulation_length_block_edges_1d(rng, c_in, kernel, dtype):
    """K = C_in * k around 255/256/257/512/513."""
    x = make(rng, (2, c_in, 29), dtype, integer=True)
    w = make(rng, (7, c_in, kernel), dtype, integer=True)
    b = make(rng, (7,), dtype, integer=True)
    check_conv(x, w, b, padding="same", exact=True)
    check_conv(x, w, b, padding="same", exact=True, layout="channels_last")


@pytest.mark.parametrize("pixels", [(191,), (192,), (193,), (383,), (385,), (8, 24), (7, 55),
                                    (13, 15), (17, 23), (3, 8, 16)])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_output_pixel_tile_edges(rng, pixels, layout):
    """Output pixel counts around tile multiples, tiles ending mid-row."""
    nd = len(pixels)
    x = make(rng, (2, 5) + pixels, np.float32, integer=True)
    w = make(rng, (13, 5) + (3,) * nd, np.float32, integer=True)
    b = make(rng, (13,), np.float32, integer=True)
    check_conv(x, w, b, padding=1, layout=layout, exact=True)
    check_conv(x, w, b, padding=1, stride=2, layout=layout, exact=True)


THREADED_CASES = {
    # name: (x shape, w shape, kwargs) with > 1M multiply-adds
    "dense_2d": ((2, 24, 31, 37), (29, 24, 3, 3), dict(padding=1)),
    "dense_2d_strided": ((1, 32, 45, 41), (40, 32, 3, 3), dict(stride=2, padding="same",
                                                               padding_mode="reflect")),
    "dense_batch1_few_pixels": ((1, 256, 7, 7), (70, 256, 3, 3), dict(padding=1)),
    "dense_1d_long": ((1, 16, 5000), (16, 16, 3), dict(padding="causal", dilation=64)),
    "dense_3d": ((1, 8, 12, 13, 14), (10, 8, 3, 3, 3), dict(padding=1,
                                                            padding_mode="circular")),
    "grouped": ((2, 24, 30, 30), (36, 8, 3, 3), dict(groups=3, padding=1)),
    "depthwise_m1": ((2, 40, 50, 47), (40, 1, 3, 3), dict(groups=40, padding=1)),
    "depthwise_m2_stride2": ((1, 33, 70, 69), (66, 1, 5, 5), dict(groups=33, stride=2,
                                                                 padding=2,
                                                                 padding_mode="replicate")),
    "depthwise_3d": ((1, 16, 20, 21, 22), (16, 1, 3, 3, 3), dict(groups=16, padding=1)),
}


@pytest.mark.parametrize("case", list(THREADED_CASES))
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("num_threads", [2, 3])
def test_threaded_problems_exact(rng, case, layout, num_threads):
    x_shape, w_shape, kwargs = THREADED_CASES[case]
    x = make(rng, x_shape, np.float32, integer=True)
    w = make(rng, w_shape, np.float32, integer=True)
    b = make(rng, (w_shape[0],), np.float32, integer=True)
    check_conv(x, w, b, layout=layout, exact=True, num_threads=num_threads, **kwargs)


@pytest.mark.parametrize("case", ["dense_2d", "dense_batch1_few_pixels", "depthwise_m2_stride2"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_threaded_problems_float64_random(rng, case, layout):
    x_shape, w_shape, kwargs = THREADED_CASES[case]
    x = make(rng, x_shape, np.float64)
    w = make(rng, w_shape, np.float64)
    check_conv(x, w, None, layout=layout, num_threads=2, **kwargs)


@pytest.mark.slow
def test_more_than_2_to_31_elements():
    """64-bit indexing: an input of 2**31 + 192 float32 elements (8 GiB; run with -m slow)."""
    n = 2 ** 31 + 192
    x = np.zeros((1, 1, n), np.float32)
    x[0, 0, -192:] = np.arange(1, 193, dtype=np.float32)
    w = np.array([[[1.0, 2.0]]], np.float32)
    y = convx.conv1d(x, w, stride=64)
    assert y.shape == (1, 1, (n - 2) // 64 + 1)
    tail = x[0, 0, -192:]
    expected = np.array([tail[j] + 2 * tail[j + 1] for j in range(0, 190, 64)], np.float32)
    np.testing.assert_array_equal(y[0, 0, -3:], expected)
    assert not y[0, 0, :-3].any()
    del x, y
    # and an output that large: a transposed convolution from a small input
    xt = np.ones((1, 1, 3), np.float32)
    wt = np.ones((1, 1, 1), np.float32)
    yt = convx.conv_transpose1d(xt, wt, stride=2 ** 30 + 7)
    assert yt.shape == (1, 1, 2 * (2 ** 30 + 7) + 1)
    assert yt[0, 0, 0] == yt[0, 0, 2 ** 30 + 7] == yt[0, 0, -1] == 1.0
    assert yt.sum(dtype=np.float64) == 3.0


@pytest.mark.parametrize("cin, cout, size, stride, dilation, padding_mode", [
    (520, 5, (9, 11), 1, 1, "zeros"),      # K = 4680: the reduction in two chunks
    (1100, 4, (16, 16), 1, 1, "zeros"),    # a whole-plane band would pass 1 MiB: smaller tiles
    (6, 5, (20, 20), 1, 15, "reflect"),    # taps further apart than a tile: a band group per tap
    (6, 5, (20, 23), 2, (15, 1), "circular"),
    (7, 9, (3, 600), 2, 1, "replicate"),   # rows longer than a tile: tiles are pieces of a row
    (7, 9, (4, 700), 1, (1, 300), "zeros"),
    (20, 17, (30, 30), 1, 1, "zeros"),     # tiles inside the input (read in place) and on its border
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_direct_tiles_and_bands(rng, cin, cout, size, stride, dilation, padding_mode, layout):
    """The direct path: tiles read in place or from a band (shared rows, a group per tap, pieces
    of long rows, every padding mode), bands that force smaller tiles and K in chunks; exact on
    both thread counts."""
    x = make(rng, (1, cin, *size), np.float32, integer=True)
    w = make(rng, (cout, cin, 3, 3), np.float32, integer=True)
    b = make(rng, (cout,), np.float32, integer=True)
    for threads in (1, 2):
        check_conv(x, w, b, stride=stride, padding="same", dilation=dilation, padding_mode=padding_mode,
                   layout=layout, exact=True, num_threads=threads)


@pytest.mark.parametrize("cin, cout, k, groups, stride, dilation", [
    (70, 9, 3, 1, 1, 1),    # K = 630: two chunks, the second starting mid-way through a tap's channels
    (100, 20, 3, 2, 2, 2),  # grouped, K = 450 per group
    (129, 7, 5, 1, 1, 1),   # K = 3225: many chunks, odd channel count
    (3, 64, 7, 1, 2, 1),    # RGB first layer: three channels per tap
    (35, 35, 3, 35, 1, 1),  # one channel per group (odd: the packing's scratch alignment)
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_reduction_split_into_chunks(rng, cin, cout, k, groups, stride, dilation, layout):
    """The reduction (input channels x taps) is split into cache-sized chunks that need not start
    at a tap boundary; every chunking gives the exact result on both layouts and thread counts."""
    x = make(rng, (2, cin, 11, 13), np.float32, integer=True)
    w = make(rng, (cout, cin // groups, k, k), np.float32, integer=True)
    b = make(rng, (cout,), np.float32, integer=True)
    for threads in (1, 2):
        check_conv(x, w, b, stride=stride, padding="same", dilation=dilation, groups=groups, layout=layout,
                   exact=True, num_threads=threads)
