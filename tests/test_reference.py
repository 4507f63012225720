"""Tests of the oracle itself (tests/reference.py), independent of convx.

The reference is checked against scipy.signal.correlate, against naive pure-Python loops that use
explicit index arithmetic instead of np.pad, against the adjoint identity between convolution and
transposed convolution, and against torch when it is installed.
"""

import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from reference import (
    conv_out_size,
    ref_conv,
    ref_conv_transpose,
    ref_pointwise,
    ref_receptive_field,
    ref_separable,
    resolve_padding,
)



@pytest.fixture
def scipy_signal():
    """scipy is optional: only the cross-checks against scipy.signal.correlate need it."""
    return pytest.importorskip("scipy.signal")


# ---------------------------------------------------------------------------------------------
# naive pure-Python versions (index arithmetic, no np.pad, no einsum)


def _src_index(i, n, mode):
    """Index into an axis of length n for padded coordinate i (may be outside [0, n))."""
    if 0 <= i < n:
        return i
    if mode == "zeros":
        return None
    if mode == "replicate":
        return min(max(i, 0), n - 1)
    if mode == "circular":
        return i % n
    if mode == "reflect":
        if n == 1:
            return 0
        period = 2 * (n - 1)
        j = i % period
        return j if j < n else period - j
    raise AssertionError(mode)


def naive_conv(x, w, b, stride, pads, dilation, groups, mode):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    n_batch, c_in = x.shape[:2]
    c_out, cig = w.shape[:2]
    cog = c_out // groups
    in_sp, kernel = x.shape[2:], w.shape[2:]
    out_sp = [conv_out_size(in_sp[a], kernel[a], stride[a], dilation[a], *pads[a]) for a in range(nd)]
    out = np.zeros([n_batch, c_out] + out_sp)
    for n in range(n_batch):
        for co in range(c_out):
            g = co // cog
            for opos in itertools.product(*map(range, out_sp)):
                acc = 0.0 if b is None else float(b[co])
                for ci in range(cig):
                    for tap in itertools.product(*map(range, kernel)):
                        src = []
                        for a in range(nd):
                            p = opos[a] * stride[a] + tap[a] * dilation[a] - pads[a][0]
                            src.append(_src_index(p, in_sp[a], mode))
                        if None in src:
                            continue
                        acc += x[(n, g * cig + ci) + tuple(src)] * w[(co, ci) + tap]
                out[(n, co) + opos] = acc
    return out


def naive_conv_transpose(x, w, b, stride, pads, output_padding, groups, dilation):
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    nd = x.ndim - 2
    n_batch, c_in = x.shape[:2]
    cig = c_in // groups
    cog = w.shape[1]
    in_sp, kernel = x.shape[2:], w.shape[2:]
    out_sp = [
        (in_sp[a] - 1) * stride[a] - pads[a][0] - pads[a][1] + dilation[a] * (kernel[a] - 1)
        + output_padding[a] + 1
        for a in range(nd)
    ]
    out = np.zeros([n_batch, cog * groups] + out_sp)
    for n in range(n_batch):
        for ci in range(c_in):
            g = ci // cig
            for ipos in itertools.product(*map(range, in_sp)):
                for co in range(cog):
                    for tap in itertools.product(*map(range, kernel)):
                        o = tuple(
                            ipos[a] * stride[a] + tap[a] * dilation[a] - pads[a][0] for a in range(nd)
                        )
                        if all(0 <= o[a] < out_sp[a] for a in range(nd)):
                            out[(n, g * cog + co) + o] += x[(n, ci) + ipos] * w[(ci, co) + tap]
    if b is not None:
        out += np.asarray(b, dtype=np.float64).reshape((1, -1) + (1,) * nd)
    return out


def _rand(rng, shape):
    return rng.standard_normal(shape)


# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_ref_conv_matches_scipy_correlate_valid(rng, nd, scipy_signal):
    x = _rand(rng, (1, 1) + (7, 6, 5)[:nd])
    w = _rand(rng, (1, 1) + (3, 2, 3)[:nd])
    expected = scipy_signal.correlate(x[0, 0], w[0, 0], mode="valid")
    assert_allclose(ref_conv(x, w)[0, 0], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("nd", [1, 2])
def test_ref_conv_matches_scipy_with_stride_dilation_padding(rng, nd, scipy_signal):
    x = _rand(rng, (1, 1) + (11, 9)[:nd])
    w = _rand(rng, (1, 1) + (3, 2)[:nd])
    s, d, p = 2, 3, 2
    # dilated kernel by inserting zeros, padded input by np.pad, stride by subsampling
    wd = np.zeros(tuple((k - 1) * d + 1 for k in w.shape[2:]))
    wd[tuple(slice(None, None, d) for _ in range(nd))] = w[0, 0]
    full = scipy_signal.correlate(np.pad(x[0, 0], p), wd, mode="valid")
    expected = full[tuple(slice(None, None, s) for _ in range(nd))]
    assert_allclose(ref_conv(x, w, None, s, p, d)[0, 0], expected, rtol=1e-12, atol=1e-12)


def test_ref_conv_multichannel_matches_scipy_sum(rng, scipy_signal):
    x = _rand(rng, (2, 3, 8))
    w = _rand(rng, (4, 3, 3))
    b = _rand(rng, (4,))
    got = ref_conv(x, w, b)
    for n in range(2):
        for co in range(4):
            exp = sum(scipy_signal.correlate(x[n, ci], w[co, ci], mode="valid") for ci in range(3)) + b[co]
            assert_allclose(got[n, co], exp, rtol=1e-12, atol=1e-12)


CONV_CASES = [
    # nd, in_sp, c_in, c_out, kernel, stride, pads, dilation, groups, mode
    (1, (9,), 2, 3, (3,), (1,), [(1, 1)], (1,), 1, "zeros"),
    (1, (5,), 4, 4, (3,), (2,), [(4, 6)], (2,), 2, "reflect"),
    (1, (3,), 2, 4, (2,), (1,), [(7, 5)], (1,), 2, "reflect"),
    (1, (1,), 1, 1, (2,), (1,), [(2, 3)], (1,), 1, "reflect"),
    (1, (4,), 3, 2, (3,), (3,), [(5, 9)], (2,), 1, "circular"),
    (1, (4,), 3, 3, (3,), (1,), [(6, 2)], (1,), 3, "replicate"),
    (2, (4, 5), 2, 4, (2, 3), (1, 2), [(1, 2), (3, 0)], (2, 1), 2, "reflect"),
    (2, (3, 3), 2, 2, (3, 3), (2, 1), [(4, 4), (2, 5)], (1, 1), 1, "circular"),
    (2, (4, 3), 3, 6, (2, 2), (1, 1), [(0, 3), (3, 0)], (1, 2), 3, "replicate"),
    (3, (3, 4, 3), 2, 2, (2, 2, 2), (1, 2, 1), [(1, 1), (0, 2), (2, 0)], (1, 1, 2), 1, "zeros"),
    (3, (3, 3, 3), 2, 2, (2, 1, 2), (2, 1, 1), [(2, 1), (1, 1), (3, 3)], (1, 1, 1), 2, "reflect"),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_ref_conv_matches_naive_loops(rng, case):
    nd, in_sp, c_in, c_out, kernel, stride, pads, dilation, groups, mode = case
    x = _rand(rng, (2, c_in) + in_sp)
    w = _rand(rng, (c_out, c_in // groups) + kernel)
    b = _rand(rng, (c_out,))
    got = ref_conv(x, w, b, stride, pads, dilation, groups, mode)
    exp = naive_conv(x, w, b, stride, pads, dilation, groups, mode)
    assert_allclose(got, exp, rtol=1e-12, atol=1e-12)


TRANSPOSE_CASES = [
    # nd, in_sp, c_in, c_out, kernel, stride, pads, output_padding, dilation, groups
    (1, (5,), 2, 3, (3,), (1,), [(0, 0)], (0,), (1,), 1),
    (1, (4,), 4, 6, (3,), (2,), [(1, 1)], (1,), (1,), 2),
    (1, (3,), 2, 2, (2,), (3,), [(0, 2)], (2,), (2,), 1),
    (1, (4,), 3, 3, (4,), (2,), [(3, 1)], (0,), (3,), 3),
    (2, (3, 4), 2, 4, (3, 2), (2, 1), [(1, 0), (0, 1)], (1, 0), (1, 2), 2),
    (2, (2, 3), 3, 2, (2, 2), (3, 2), [(2, 2), (1, 0)], (2, 1), (2, 1), 1),
    (3, (2, 3, 2), 2, 2, (2, 2, 3), (2, 1, 2), [(0, 1), (1, 1), (2, 0)], (1, 0, 1), (1, 2, 1), 1),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_ref_conv_transpose_matches_naive_loops(rng, case):
    nd, in_sp, c_in, c_out, kernel, stride, pads, op, dilation, groups = case
    x = _rand(rng, (2, c_in) + in_sp)
    w = _rand(rng, (c_in, c_out // groups) + kernel)
    b = _rand(rng, (c_out,))
    got = ref_conv_transpose(x, w, b, stride, pads, op, groups, dilation)
    exp = naive_conv_transpose(x, w, b, stride, pads, op, groups, dilation)
    assert_allclose(got, exp, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_ref_transpose_is_adjoint_of_conv(seed):
    """<conv(x, w), y> == <x, conv_transpose(y, w)> for zero padding (checks both references)."""
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 2]))
    c_in, c_out = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, nd))
    stride = tuple(int(s) for s in rng.integers(1, 4, nd))
    dilation = tuple(int(d) for d in rng.integers(1, 3, nd))
    pads = [tuple(int(p) for p in rng.integers(0, 3, 2)) for _ in range(nd)]
    in_sp = tuple(
        int(rng.integers((k - 1) * d + 1, (k - 1) * d + 7)) for k, d in zip(kernel, dilation)
    )
    x = rng.standard_normal((2, c_in) + in_sp)
    w = rng.standard_normal((c_out, c_in // groups) + kernel)
    y_shape = ref_conv(x, w, None, stride, pads, dilation, groups).shape
    y = rng.standard_normal(y_shape)
    # output_padding so the transposed output has x's spatial shape
    op = tuple(
        (n + bef + aft - d * (k - 1) - 1) % s
        for n, (bef, aft), d, k, s in zip(in_sp, pads, dilation, kernel, stride)
    )
    xt = ref_conv_transpose(y, w, None, stride, pads, op, groups, dilation)
    assert xt.shape == x.shape
    lhs = np.vdot(ref_conv(x, w, None, stride, pads, dilation, groups), y)
    rhs = np.vdot(x, xt)
    assert_allclose(lhs, rhs, rtol=1e-10)


def test_ref_conv_integer_inputs_are_exact(rng):
    x = rng.integers(-3, 4, (2, 5, 13)).astype(np.float32)
    w = rng.integers(-3, 4, (4, 5, 3)).astype(np.float32)
    got = ref_conv(x, w, None, 2, 1, 2)
    assert np.all(got == np.round(got))
    exp = naive_conv(x, w, None, (2,), [(1, 1)], (2,), 1, "zeros")
    assert_array_equal(got, exp)


def test_ref_pointwise_and_separable(rng):
    x = rng.standard_normal((2, 3, 5, 4))
    dw = rng.standard_normal((6, 1, 3, 3))
    pw = rng.standard_normal((4, 6, 1, 1))
    b = rng.standard_normal(4)
    mid = naive_conv(x, dw, None, (1, 2), [(1, 1), (2, 0)], (1, 1), 3, "replicate")
    exp = naive_conv(mid, pw, b, (1, 1), [(0, 0), (0, 0)], (1, 1), 1, "zeros")
    got = ref_separable(x, dw, pw, b, (1, 2), [(1, 1), (2, 0)], 1, "replicate")
    assert_allclose(got, exp, rtol=1e-12, atol=1e-12)
    assert_allclose(ref_pointwise(x, pw[:, :3, 0, 0] * 1.0, b), naive_conv(
        x, pw[:, :3], b, (1, 1), [(0, 0), (0, 0)], (1, 1), 1, "zeros"), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_resolve_same_and_causal_give_ceil(k, s, d):
    for n in range(1, 12):
        (bef, aft), = resolve_padding("same", (n,), (k,), s, d)
        assert bef >= 0 and aft >= 0 and aft - bef in (0, 1)
        assert n + bef + aft >= (k - 1) * d + 1
        assert conv_out_size(n, k, s, d, bef, aft) == -(-n // s)
        (bef, aft), = resolve_padding("causal", (n,), (k,), s, d)
        assert (bef, aft) == ((k - 1) * d, 0)
        assert conv_out_size(n, k, s, d, bef, aft) == -(-n // s)


def test_resolve_padding_forms():
    assert resolve_padding(2, (5, 5), (3, 3)) == [(2, 2), (2, 2)]
    assert resolve_padding((1, 2), (5, 5), (3, 3)) == [(1, 1), (2, 2)]
    assert resolve_padding(((1, 2), (0, 3)), (5, 5), (3, 3)) == [(1, 2), (0, 3)]
    assert resolve_padding("valid", (5, 5, 5), (3, 3, 3)) == [(0, 0)] * 3
    # TF SAME_UPPER: even kernel, extra element at the end
    assert resolve_padding("same", (6,), (4,), 1, 1) == [(1, 2)]
    assert resolve_padding("same", (7,), (3,), 2, 1) == [(1, 1)]
    assert resolve_padding("same", (6,), (3,), 2, 1) == [(0, 1)]
    assert resolve_padding("same", (5,), (3,), 1, 2) == [(2, 2)]
    assert resolve_padding("causal", (5,), (3,), 1, 4) == [(8, 0)]


def test_receptive_field_reference():
    assert ref_receptive_field([3, 3, 3, 3], [1, 2, 4, 8]) == 31
    assert ref_receptive_field([(3, 3)] * 4, [1, 2, 4, 8]) == (31, 31)
    assert ref_receptive_field([3, 3], None, [2, 2]) == 1 + 2 + 2 * 2
    assert ref_receptive_field([2, 3], [1, 1], [4, 1]) == 1 + 1 + 2 * 4


def test_ref_conv_matches_torch(rng):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for nd, fn in [(1, F.conv1d), (2, F.conv2d), (3, F.conv3d)]:
        x = rng.standard_normal((2, 4) + (7, 6, 5)[:nd])
        w = rng.standard_normal((6, 2) + (3, 2, 2)[:nd])
        b = rng.standard_normal(6)
        exp = fn(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                 stride=2, padding=1, dilation=2, groups=2).numpy()
        assert_allclose(ref_conv(x, w, b, 2, 1, 2, 2), exp, rtol=1e-10, atol=1e-10)
        xt = rng.standard_normal((2, 4) + (4, 3, 3)[:nd])
        wt = rng.standard_normal((4, 3) + (3, 2, 2)[:nd])
        tfn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]
        exp = tfn(torch.from_numpy(xt), torch.from_numpy(wt), torch.from_numpy(b),
                  stride=3, padding=1, output_padding=1, groups=2, dilation=2).numpy()
        assert_allclose(ref_conv_transpose(xt, wt, b, 3, 1, 1, 2, 2), exp, rtol=1e-10, atol=1e-10)
