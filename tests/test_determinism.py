"""Determinism with real thread teams: problems big enough that the core runs them on 2 threads
(it keeps problems under about a million multiply-adds on one thread, so the small cases of
test_threads.py never leave it). Repeated calls give the same bits; 1 and 2 threads both match
the reference within the documented bound (helpers.assert_conv_close) and, on integer-valued
data, exactly."""

import math

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from helpers import check_conv, check_depthwise, check_pointwise, check_separable, check_transpose, make

SINGLE_THREAD_BELOW = 1 << 20  # multiply-adds; csrc/plan.c choose_threads


def _problems(rng, integer):
    def data(*shape):
        return make(rng, shape, np.float32, integer)

    return {
        "conv1d": (check_conv, (data(2, 32, 1024), data(32, 32, 5)), dict(dilation=4, padding="same")),
        "conv2d": (check_conv, (data(2, 16, 24, 24), data(32, 16, 3, 3)), dict(padding=1, stride=(1, 2))),
        "conv3d": (check_conv, (data(1, 8, 10, 12, 12), data(16, 4, 3, 3, 3)), dict(groups=2)),
        "depthwise_conv1d": (check_depthwise, (data(2, 64, 4096), data(128, 1, 3)), dict(padding="causal")),
        "depthwise_conv2d": (check_depthwise, (data(2, 32, 96, 96), data(32, 1, 3, 3)), dict(padding=1)),
        "separable_conv2d": (check_separable, (data(2, 32, 96, 96), data(32, 1, 3, 3), data(48, 32)),
                             dict(padding="same", stride=2)),
        "pointwise_conv": (check_pointwise, (data(2, 64, 40, 40), data(48, 64)), {}),
        "conv_transpose1d": (check_transpose, (data(2, 32, 512), data(32, 16, 4)), dict(stride=2, padding=1)),
        "conv_transpose2d": (check_transpose, (data(2, 16, 20, 20), data(16, 16, 3, 3)), dict(stride=2)),
        "conv_transpose3d": (check_transpose, (data(1, 8, 8, 8, 8), data(8, 8, 2, 2, 2)), dict(stride=2)),
    }


def _multiply_adds(result, weights):
    """A lower bound of the core's own estimate: outputs times taps of one output channel."""
    return result.size * math.prod(weights[0].shape[2:]) * max(1, weights[0].shape[1])


@pytest.mark.parametrize("name", list(_problems(np.random.default_rng(0), True)))
@pytest.mark.parametrize("layout", ["channels_first", "channels_last"])
def test_one_and_two_threads_on_a_real_team(rng, name, layout):
    check, args, kwargs = _problems(rng, integer=False)[name]
    one = check(*args, layout=layout, num_threads=1, **kwargs)
    two = check(*args, layout=layout, num_threads=2, **kwargs)
    assert _multiply_adds(two, args[1:]) >= SINGLE_THREAD_BELOW  # else the core would use one thread
    for _ in range(2):
        assert_array_equal(check(*args, layout=layout, num_threads=2, **kwargs), two)
    check_exact, args, kwargs = _problems(rng, integer=True)[name]
    exact_one = check_exact(*args, layout=layout, exact=True, num_threads=1, **kwargs)
    assert_array_equal(check_exact(*args, layout=layout, exact=True, num_threads=2, **kwargs), exact_one)
    assert one.shape == two.shape
