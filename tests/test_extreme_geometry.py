"""Valid but extreme geometries (strides, dilations and paddings near the 2**62 limit) give the
right answer: found by an AddressSanitizer sweep, where scratch sizes used to wrap around."""

import numpy as np
import pytest

import convx


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_stride_depthwise_and_separable(layout, dtype):
    x = np.arange(1, 6, dtype=dtype).reshape(1, 1, 5)
    x_in = np.moveaxis(x, 1, -1).copy() if layout == "channels_last" else x
    y = convx.depthwise_conv1d(x_in, np.full((1, 1, 1), 2, dtype), stride=2**61, layout=layout)
    assert y.shape == (1, 1, 1) and y.ravel()[0] == 2
    y = convx.separable_conv1d(x_in, np.full((1, 1, 1), 2, dtype), np.full((3, 1), 3, dtype), stride=2**61,
                               layout=layout)
    assert y.shape in ((1, 3, 1), (1, 1, 3)) and np.all(y == 6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_dilation_with_matching_padding_1d(dtype):
    d = 2**61 - 33
    y = convx.depthwise_conv1d(np.ones((1, 1, 1), dtype), np.array([[[5, 7]]], dtype), dilation=d, padding=[(d, 0)])
    np.testing.assert_array_equal(y, [[[7]]])  # the first tap reads padding, the second the input
    y = convx.conv1d(np.ones((1, 3, 3), dtype), np.ones((5, 3, 2), dtype), dilation=2**60, padding=[(2**60, 0)])
    np.testing.assert_array_equal(y, np.full((1, 5, 3), 3, dtype))


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_huge_row_dilation_2d_depthwise(layout, rng):
    d = 2**40
    x = rng.integers(-3, 4, (1, 2, 3, 4)).astype(np.float64)
    w = rng.integers(-3, 4, (2, 1, 2, 3)).astype(np.float64)
    # kernel row 0 always lands in the padding; row 1 reads output row oh: a 1x3 depthwise conv.
    expected = convx.depthwise_conv2d(x, w[:, :, 1:], padding=((0, 0), (1, 1)))
    x_in = np.moveaxis(x, 1, -1).copy() if layout == "channels_last" else x
    y = convx.depthwise_conv2d(x_in, w, dilation=(d, 1), padding=((d, 0), (1, 1)), layout=layout)
    if layout == "channels_last":
        y = np.moveaxis(y, -1, 1)
    np.testing.assert_array_equal(y, expected)


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_huge_band_of_dense_and_transposed_tiles(layout):
    """A tile's band (the input it reads, padding included) sized past 2**64 elements used to
    wrap to a small buffer and be written past: a strided 1x1 with 1024 channels, and
    transposed layers dilated 2**20 and 2**32 - 1 whose taps' shifts span that far."""
    s = 2**27 - 1
    x = np.ones((1, 1024, 1, 1), np.float32)
    w = np.ones((1, 1024, 1, 1), np.float32)
    to = (lambda a: np.moveaxis(a, 1, -1).copy()) if layout == "channels_last" else (lambda a: a)
    y = convx.conv2d(to(x), w, stride=s, padding=((0, s), (0, s)), layout=layout)
    np.testing.assert_array_equal(y.ravel(), [1024, 0, 0, 0])
    for d, nd in ((2**20, 2), (2**32 - 1, 3)):
        # only the last tap of each dilated axis reaches the one output left after cropping
        kernel, dilation = (2, 2, 1)[-nd:], (d, d, 1)[-nd:]
        pads = (((d, 0),) * 2 + ((0, 0),))[-nd:]
        y = getattr(convx, f"conv_transpose{nd}d")(to(np.ones((1, 1) + (1,) * nd, np.float32)),
                                                   np.ones((1, 1) + kernel, np.float32), dilation=dilation,
                                                   padding=pads, layout=layout)
        np.testing.assert_array_equal(y.ravel(), [1])
