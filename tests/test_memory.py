"""A call's extra memory stays bounded: no im2col-sized buffer, no full intermediate.

The C core counts the bytes it holds (convx._ext.memory_held/memory_peak). Layer objects keep
their packed weights after the first call, so from the second call on the peak during a call
minus what was held before it is the call's own scratch. The bound is the one the kernels are designed to: max(8 MiB, 5% of
input + output)."""

import numpy as np
import pytest

import convx
from convx import _ext

MIB = 2**20


def extra_bytes(layer, x, **kwargs):
    layer(x, **kwargs)  # packs the weights
    _ext.reset_memory_peak()
    before = _ext.memory_held()
    y = layer(x, **kwargs)
    assert _ext.memory_held() == before, "a call left memory held"
    return _ext.memory_peak() - before, y


def cases(rng):
    """(name, layer, channels-first input) with inputs of 16 MiB, so that a full im2col buffer or
    intermediate would exceed the bound several times over."""
    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    x2 = r(1, 64, 256, 256)
    return [
        ("conv 3x3", lambda layout: convx.Conv2d(r(64, 64, 3, 3), padding=1, layout=layout), x2),
        ("conv 3x3 s2 d2", lambda layout: convx.Conv2d(r(32, 64, 3, 3), stride=2, dilation=2, padding="same",
                                                       layout=layout), x2),
        ("grouped", lambda layout: convx.Conv2d(r(64, 4, 3, 3), groups=16, padding=1, layout=layout), x2),
        ("depthwise", lambda layout: convx.DepthwiseConv2d(r(128, 1, 5, 5), padding="same", layout=layout), x2),
        ("separable", lambda layout: convx.SeparableConv2d(r(64, 1, 3, 3), r(64, 64, 1, 1), padding="same",
                                                           layout=layout), x2),
        ("separable x2", lambda layout: convx.SeparableConv2d(r(128, 1, 3, 3), r(32, 128, 1, 1), padding="same",
                                                              layout=layout), x2),
        ("pointwise", lambda layout: convx.PointwiseConv(r(64, 64), layout=layout), x2),
        ("transposed", lambda layout: convx.ConvTranspose2d(r(64, 16, 4, 4), stride=2, padding=1,
                                                            layout=layout), x2[:, :, :128, :128]),
        ("wavenet 1-D", lambda layout: convx.Conv1d(r(64, 64, 2), dilation=512, padding="causal", layout=layout),
         r(1, 64, 2**16)),
        ("3-D", lambda layout: convx.Conv3d(r(16, 16, 3, 3, 3), padding=1, layout=layout), r(1, 16, 32, 64, 64)),
    ]


@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
@pytest.mark.parametrize("threads", [1, 2])
def test_extra_memory_is_bounded(rng, layout, threads):
    for name, make_layer, x in cases(rng):
        if layout == "channels_last":
            x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        extra, y = extra_bytes(make_layer(layout), x, num_threads=threads)
        bound = max(8 * MIB, 0.05 * (x.nbytes + y.nbytes))
        assert extra <= bound, f"{name}: {extra / MIB:.1f} MiB extra, bound {bound / MIB:.1f} MiB"


def test_the_measurement_sees_scratch(rng):
    """The counter is not blind: packing weights in a call (the functional API) shows up."""
    w = rng.standard_normal((256, 256, 3, 3)).astype(np.float32)
    x = rng.standard_normal((1, 256, 4, 4)).astype(np.float32)
    _ext.reset_memory_peak()
    before = _ext.memory_held()
    convx.conv2d(x, w, padding=1)
    assert _ext.memory_peak() - before >= w.nbytes
    assert _ext.memory_held() == before
