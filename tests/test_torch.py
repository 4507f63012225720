"""Cross-check convx against torch.nn.functional on seeded random configurations.

Optional: torch is not a convx dependency; the module is skipped when torch is missing.
Both libraries round differently, so float comparisons use twice the accumulation bound
(K + 4) * eps * sum|x*w| with sum|x*w| computed by torch in float64 on absolute values.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

import convx  # noqa: E402
from helpers import FLOAT_DTYPES, LAYOUTS, from_layout, make, random_conv_config, to_layout  # noqa: E402

TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular"}
TORCH_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TORCH_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _t(a):
    return None if a is None else torch.from_numpy(np.ascontiguousarray(a))


def torch_conv(x, w, b, stride, pads, dilation, groups, mode):
    nd = x.ndim - 2
    flat = []
    for before, after in reversed(pads):  # F.pad wants the last axis first
        flat += [before, after]
    xt = F.pad(_t(x), flat, mode=TORCH_MODE[mode]) if any(flat) else _t(x)
    return TORCH_CONV[nd](xt, _t(w), _t(b), stride=stride, padding=0, dilation=dilation,
                          groups=groups).numpy()


def assert_matches_torch(got, expected, absref, k_len, dtype):
    assert got.dtype == np.dtype(dtype)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    eps = np.finfo(dtype).eps
    bound = 2 * (k_len + 4) * eps * absref + np.finfo(dtype).tiny
    err = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    bad = ~(err <= bound)
    assert not bad.any(), (
        f"{int(bad.sum())}/{got.size} differ; max err {err.max():.3g}, "
        f"bound there {bound.flat[int(np.argmax(err))]:.3g}")


@pytest.mark.parametrize("seed", range(60))
def test_conv_vs_torch(seed):
    rng = np.random.default_rng(5000 + seed)
    nd = 1 + seed % 3
    cfg = random_conv_config(rng, nd, max_channels=8)
    dtype = FLOAT_DTYPES[seed % 2]
    layout = LAYOUTS[(seed // 2) % 2]
    x = make(rng, cfg["x_shape"], dtype)
    w = make(rng, cfg["w_shape"], dtype)
    b = make(rng, (w.shape[0],), dtype) if seed % 5 else None
    args = (cfg["stride"], cfg["padding"], cfg["dilation"], cfg["groups"], cfg["padding_mode"])
    expected = torch_conv(x, w, b, *args)
    absref = torch_conv(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64),
                        None if b is None else np.abs(b).astype(np.float64), *args)
    got = getattr(convx, f"conv{nd}d")(
        to_layout(x, layout), w, b, stride=cfg["stride"], padding=cfg["padding"],
        dilation=cfg["dilation"], groups=cfg["groups"], padding_mode=cfg["padding_mode"],
        layout=layout)
    assert_matches_torch(from_layout(got, layout), expected, absref,
                         w.shape[1] * math.prod(w.shape[2:]), dtype)


@pytest.mark.parametrize("seed", range(24))
def test_conv_transpose_vs_torch(seed):
    rng = np.random.default_rng(6000 + seed)
    nd = 1 + seed % 3
    dtype = FLOAT_DTYPES[seed % 2]
    layout = LAYOUTS[(seed // 2) % 2]
    groups = int(rng.choice([1, 2, 3]))
    c_in = groups * int(rng.integers(1, 4))
    cog = int(rng.integers(1, 4))
    kernel = tuple(int(k) for k in rng.integers(1, 5, nd))
    stride = tuple(int(s) for s in rng.integers(1, 4, nd))
    dilation = tuple(int(d) for d in rng.integers(1, 4, nd))
    in_sp = tuple(int(n) for n in rng.integers(1, 8, nd))
    op = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
    padding = []
    for n, k, s, d, o in zip(in_sp, kernel, stride, dilation, op):
        full = (n - 1) * s + d * (k - 1) + o + 1
        padding.append(int(rng.integers(0, (full - 1) // 2 + 1)))
    padding = tuple(padding)
    x = make(rng, (int(rng.integers(1, 3)), c_in) + in_sp, dtype)
    w = make(rng, (c_in, cog) + kernel, dtype)
    b = make(rng, (cog * groups,), dtype) if seed % 3 else None
    kw = dict(stride=stride, padding=padding, output_padding=op, groups=groups, dilation=dilation)
    expected = TORCH_CONV_T[nd](_t(x), _t(w), _t(b), **kw).numpy()
    absref = TORCH_CONV_T[nd](_t(np.abs(x).astype(np.float64)), _t(np.abs(w).astype(np.float64)),
                              None if b is None else _t(np.abs(b).astype(np.float64)), **kw).numpy()
    got = getattr(convx, f"conv_transpose{nd}d")(to_layout(x, layout), w, b, layout=layout, **kw)
    assert_matches_torch(from_layout(got, layout), expected, absref,
                         (c_in // groups) * math.prod(kernel), dtype)


@pytest.mark.parametrize("seed", range(10))
def test_depthwise_separable_pointwise_vs_torch(seed):
    rng = np.random.default_rng(7000 + seed)
    nd = 1 + seed % 2
    dtype = FLOAT_DTYPES[seed % 2]
    layout = LAYOUTS[(seed // 2) % 2]
    c = int(rng.integers(1, 9))
    m = int(rng.integers(1, 4))
    c_out = int(rng.integers(1, 9))
    kernel = tuple(int(k) for k in rng.integers(1, 6, nd))
    stride = tuple(int(s) for s in rng.integers(1, 3, nd))
    dilation = tuple(int(d) for d in rng.integers(1, 4, nd))
    in_sp = tuple(int((k - 1) * d + rng.integers(1, 12)) for k, d in zip(kernel, dilation))
    mode = ["zeros", "reflect", "replicate", "circular"][seed % 4]
    pads = [(int(rng.integers(0, n)), int(rng.integers(0, n))) for n in in_sp]
    x = make(rng, (2, c) + in_sp, dtype)
    dw = make(rng, (c * m, 1) + kernel, dtype)
    pw = make(rng, (c_out, c * m), dtype)
    b = make(rng, (c_out,), dtype)
    b_dw = make(rng, (c * m,), dtype)

    def absify(*arrs):
        return [None if a is None else np.abs(a).astype(np.float64) for a in arrs]

    # depthwise
    expected = torch_conv(x, dw, b_dw, stride, pads, dilation, c, mode)
    absref = torch_conv(*absify(x, dw, b_dw), stride, pads, dilation, c, mode)
    got = getattr(convx, f"depthwise_conv{nd}d")(to_layout(x, layout), dw, b_dw, stride=stride,
                                                 padding=pads, dilation=dilation,
                                                 padding_mode=mode, layout=layout)
    assert_matches_torch(from_layout(got, layout), expected, absref, math.prod(kernel), dtype)

    # separable = depthwise (no bias) then pointwise, bias at the end
    pw_full = pw.reshape(pw.shape + (1,) * nd)
    mid = torch_conv(x, dw, None, stride, pads, dilation, c, mode)
    expected = TORCH_CONV[nd](_t(mid), _t(pw_full), _t(b)).numpy()
    mid_abs = torch_conv(*absify(x, dw), None, stride, pads, dilation, c, mode)
    absref = TORCH_CONV[nd](_t(mid_abs), *[_t(a) for a in absify(pw_full, b)]).numpy()
    got = getattr(convx, f"separable_conv{nd}d")(to_layout(x, layout), dw, pw, b, stride=stride,
                                                 padding=pads, dilation=dilation,
                                                 padding_mode=mode, layout=layout)
    assert_matches_torch(from_layout(got, layout), expected, absref,
                         math.prod(kernel) + c * m + 1, dtype)

    # pointwise
    expected = TORCH_CONV[nd](_t(x), _t(pw_full[:, :c]), _t(b)).numpy()
    absref = TORCH_CONV[nd](*[_t(a) for a in absify(x, pw_full[:, :c], b)]).numpy()
    got = convx.pointwise_conv(to_layout(x, layout), pw[:, :c], b, layout=layout)
    assert_matches_torch(from_layout(got, layout), expected, absref, c, dtype)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_same_padding_matches_torch_for_stride_one_and_tf_rule(rng, stride, dilation):
    """torch's padding='same' (stride 1 only) agrees with convx; for stride > 1 the TF rule
    (extra pad at the end) is checked against explicit torch padding."""
    x = make(rng, (1, 2, 12, 11), np.float64)
    w = make(rng, (3, 2, 4, 3), np.float64)
    got = convx.conv2d(x, w, stride=stride, padding="same", dilation=dilation)
    if stride == 1:
        expected = F.conv2d(_t(x), _t(w), padding="same", dilation=dilation).numpy()
    else:
        pads = []
        for n, k in zip(x.shape[2:], w.shape[2:]):
            out = -(-n // stride)
            total = max(0, (out - 1) * stride + (k - 1) * dilation + 1 - n)
            pads.append((total // 2, total - total // 2))
        expected = torch_conv(x, w, None, stride, pads, dilation, 1, "zeros")
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
