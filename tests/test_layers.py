"""Layer objects: same results as the functional API, weights copied and packed once."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import convx

LAYOUTS = ("channels_first", "channels_last")


def _to_layout(x, layout):
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if layout == "channels_last" else x


def _cases(rng):
    """(layer class, functional, layer args, call args after input, layer kwargs, input shape)."""
    w2 = rng.integers(-3, 4, (6, 2, 3, 3)).astype(np.float32)
    b6 = rng.integers(-3, 4, 6).astype(np.float32)
    dw = rng.integers(-3, 4, (8, 1, 3, 3)).astype(np.float32)
    pw = rng.integers(-3, 4, (5, 8)).astype(np.float32)
    wt = rng.integers(-3, 4, (4, 3, 3, 3)).astype(np.float32)
    w1 = rng.integers(-3, 4, (5, 4, 2)).astype(np.float32)
    w3 = rng.integers(-3, 4, (3, 4, 2, 2, 2)).astype(np.float32)
    return [
        (convx.Conv2d, convx.conv2d, (w2, b6), dict(stride=2, padding="same", groups=2, padding_mode="reflect"),
         (2, 4, 9, 10)),
        (convx.Conv1d, convx.conv1d, (w1, None), dict(padding="causal", dilation=4), (2, 4, 30)),
        (convx.Conv3d, convx.conv3d, (w3, None), dict(padding=1), (1, 4, 5, 6, 5)),
        (convx.DepthwiseConv2d, convx.depthwise_conv2d, (dw, None), dict(padding=1, stride=(1, 2)), (2, 4, 9, 9)),
        (convx.SeparableConv2d, convx.separable_conv2d, (dw, pw, None), dict(padding="same", dilation=2),
         (2, 4, 9, 9)),
        (convx.ConvTranspose2d, convx.conv_transpose2d, (wt, None), dict(stride=2, padding=1, output_padding=1),
         (2, 4, 5, 6)),
        (convx.PointwiseConv, convx.pointwise_conv, (pw[:, :4], None), {}, (2, 4, 7, 3)),
    ]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("index", range(7))
def test_layer_equals_functional(index, layout, rng):
    cls, fn, args, kwargs, shape = _cases(rng)[index]
    layer = cls(*args, **kwargs, layout=layout)
    for dtype in (np.float32, np.float64, np.float32):  # the second float32 call reuses the packed weights
        x = _to_layout(rng.integers(-3, 4, shape).astype(dtype), layout)
        expected = fn(x, *args, **kwargs, layout=layout)
        got = layer(x)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    steps = 2 if cls is convx.SeparableConv2d else 1
    assert len(layer._packed) == 2 * steps  # packed once per dtype (and step), not once per call
    assert {key[1] for key in layer._packed} == {np.dtype(np.float32).str, np.dtype(np.float64).str}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("index", range(7))
def test_layer_replays_checked_calls(index, layout, rng):
    """After a first call, inputs of the same shape and dtype replay the checked problem: new data,
    strided views and other byte orders give the functional API's results, other shapes and
    dtypes get their own replay, a bad num_threads is still refused, and errors are not replayed."""
    cls, fn, args, kwargs, shape = _cases(rng)[index]
    layer = cls(*args, **kwargs, layout=layout)
    wider = shape[:-1] + (shape[-1] + 3,)
    calls = [(shape, np.float32), (wider, np.float32), (shape, np.float64), (shape, np.float32), (wider, np.float32)]
    for call_shape, dtype in calls:
        x = _to_layout(rng.integers(-3, 4, call_shape).astype(dtype), layout)
        np.testing.assert_array_equal(layer(x), fn(x, *args, **kwargs, layout=layout))
    assert len(layer._replays) == 3
    x = _to_layout(rng.integers(-3, 4, shape).astype(np.float32), layout)
    strided = np.repeat(x, 2, axis=-1)[..., ::2]  # same shape and dtype, not contiguous
    swapped = x.astype(x.dtype.newbyteorder())    # same shape, another dtype object
    for y in (strided, swapped):
        np.testing.assert_array_equal(layer(y), fn(y, *args, **kwargs, layout=layout))
    with pytest.raises(ValueError, match="'num_threads'"):
        layer(x, num_threads=0)
    np.testing.assert_array_equal(layer(x, num_threads=-1), fn(x, *args, **kwargs, layout=layout))


def test_layer_replays_are_bounded(rng):
    layer = convx.Conv1d(np.ones((2, 1, 3)), padding=1)
    for width in range(1, 2 * layer._MAX_REPLAYS + 1):
        x = rng.standard_normal((1, 1, width))
        np.testing.assert_array_equal(layer(x), convx.conv1d(x, np.ones((2, 1, 3)), padding=1))
    assert 0 < len(layer._replays) <= layer._MAX_REPLAYS


def test_layer_copies_its_weights(rng):
    w = rng.standard_normal((4, 3, 3, 3))
    layer = convx.Conv2d(w, padding=1)
    x = rng.standard_normal((1, 3, 6, 6))
    before = layer(x)
    w[:] = 0
    np.testing.assert_array_equal(layer(x), before)
    assert not layer.weight.flags.writeable
    with pytest.raises(ValueError):
        layer.weight[0] = 1


def test_layer_out_and_threads(rng):
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    layer = convx.Conv2d(w, padding=1)
    x = rng.standard_normal((2, 3, 20, 20)).astype(np.float32)
    out = np.empty((2, 4, 20, 20), np.float32)
    assert layer(x, out=out, num_threads=1) is out
    np.testing.assert_array_equal(out, convx.conv2d(x, w, padding=1))
    with pytest.raises(ValueError, match="'num_threads'"):
        layer(x, num_threads=0)


def test_layer_shared_by_threads(rng):
    w = rng.standard_normal((16, 8, 3, 3)).astype(np.float32)
    layer = convx.Conv2d(w, padding=1)
    inputs = [rng.standard_normal((1, 8, 24, 24)).astype(np.float32) for _ in range(16)]
    serial = [layer(x) for x in inputs]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(layer, inputs))
    for a, b in zip(serial, parallel):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make, param", [
    (lambda w: convx.Conv2d(w, stride=0), "'stride'"),
    (lambda w: convx.Conv2d(w, groups=4), "'groups'"),
    (lambda w: convx.Conv2d(w, padding="causal"), "'padding'"),
    (lambda w: convx.Conv2d(w[0]), "'weight'"),
    (lambda w: convx.Conv2d(w, bias=np.ones(3)), "'bias'"),
    (lambda w: convx.Conv2d(w, padding_mode="mirror"), "'padding_mode'"),
    (lambda w: convx.Conv2d(w, layout="nhwc"), "'layout'"),
    (lambda w: convx.DepthwiseConv2d(w), "'weight'"),
    (lambda w: convx.ConvTranspose2d(w, output_padding=1), "'output_padding'"),
    (lambda w: convx.ConvTranspose2d(w, padding="same"), "'padding'"),
    (lambda w: convx.SeparableConv2d(w[:, :1], np.ones((3, 5))), "'pointwise_weight'"),
    (lambda w: convx.PointwiseConv(w), "'weight'"),
])
def test_layer_construction_errors_name_the_parameter(make, param):
    w = np.ones((6, 2, 3, 3))
    with pytest.raises(ValueError, match=param):
        make(w)


def test_layer_call_errors_name_the_layer(rng):
    layer = convx.Conv2d(np.ones((6, 2, 3, 3)))
    with pytest.raises(ValueError, match="'input' parameter of Conv2d"):
        layer(np.ones((1, 2, 5)))
    with pytest.raises(ValueError, match="Conv2d"):
        layer(np.ones((1, 3, 5, 5)))
    with pytest.raises(TypeError, match="'input'"):
        layer(np.ones((1, 2, 5, 5), complex))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("make", [
    lambda layout: convx.DepthwiseConv2d(np.arange(18.0).reshape(2, 1, 3, 3), padding=1, layout=layout),
    lambda layout: convx.SeparableConv2d(np.arange(18.0).reshape(2, 1, 3, 3), np.ones((3, 2)), padding=1,
                                         layout=layout),
])
def test_depthwise_layer_serves_any_channel_count_its_weight_divides(make, layout, rng):
    """Weights (2, 1, k): 2 channels with multiplier 1, or 1 channel with multiplier 2, in either order."""
    layer = make(layout)
    for channels in (2, 1, 2):
        x = _to_layout(rng.integers(-3, 4, (1, channels, 8, 8)).astype(np.float32), layout)
        if isinstance(layer, convx.SeparableConv2d):
            expected = convx.separable_conv2d(x, layer.depthwise_weight, layer.pointwise_weight, padding=1,
                                              layout=layout)
        else:
            expected = convx.depthwise_conv2d(x, layer.weight, padding=1, layout=layout)
        np.testing.assert_array_equal(layer(x, num_threads=1), expected)
