"""Public API behaviour: helpers, dtypes, memory layouts of inputs, out=, num_threads, NaN/Inf."""

import math
import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import convx
from helpers import (
    CONV_FAMILIES,
    FAMILIES,
    LAYOUTS,
    TRANSPOSE_FAMILIES,
    expected_dtype,
    layout_shape,
    make,
    make_case,
)
from reference import (
    conv_out_size,
    conv_transpose_out_size,
    ref_conv,
    ref_receptive_field,
    resolve_padding,
)


def _exact(got, expected, dtype):
    assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
    assert_array_equal(got, expected.astype(dtype), strict=True)


# =============================================================================================
# conv_output_shape


@pytest.mark.parametrize("input_shape, weight_shape, kw", [
    ((2, 3, 10), (4, 3, 3), {}),
    ((2, 3, 10), (4, 3, 3), dict(stride=2, padding=1)),
    ((2, 3, 10), (4, 3, 3), dict(padding="same", stride=3, dilation=2)),
    ((2, 3, 10), (4, 3, 4), dict(padding="causal", dilation=5)),
    ((2, 3, 10), (6, 1, 3), dict(groups=3, padding=((2, 5),))),
    ((1, 6, 11, 12), (6, 2, 3, 5), dict(stride=(2, 3), padding=(1, 2), dilation=(2, 1), groups=3)),
    ((1, 6, 11, 12), (8, 6, 4, 4), dict(padding="same")),
    ((1, 6, 11, 12), (8, 6, 4, 4), dict(padding="valid", stride=2)),
    ((1, 6, 11, 12), (8, 6, 3, 3), dict(padding=((0, 3), (2, 1)))),
    ((3, 2, 5, 6, 7), (4, 2, 1, 2, 3), dict(stride=(1, 2, 3), padding=1)),
    ((0, 2, 5, 6, 7), (4, 2, 1, 2, 3), {}),
    ((1, 1, 2 ** 40), (1, 1, 3), dict(dilation=2 ** 20)),
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_conv_output_shape(input_shape, weight_shape, kw, layout):
    nd = len(input_shape) - 2
    pads = resolve_padding(kw.get("padding", 0), input_shape[2:], weight_shape[2:],
                           kw.get("stride", 1), kw.get("dilation", 1))
    stride = kw.get("stride", 1)
    dilation = kw.get("dilation", 1)
    stride = (stride,) * nd if isinstance(stride, int) else stride
    dilation = (dilation,) * nd if isinstance(dilation, int) else dilation
    spatial = tuple(conv_out_size(n, k, s, d, *p) for n, k, s, d, p in
                    zip(input_shape[2:], weight_shape[2:], stride, dilation, pads))
    expected = layout_shape((input_shape[0], weight_shape[0]) + spatial, layout)
    got = convx.conv_output_shape(layout_shape(input_shape, layout), weight_shape, layout=layout,
                                  **kw)
    assert isinstance(got, tuple)
    assert all(isinstance(v, int) for v in got)
    assert got == expected


def test_conv_output_shape_accepts_arrays_and_positional_args(rng):
    """Shapes as tuples or lists, or the arrays themselves (their shapes are used)."""
    assert convx.conv_output_shape((2, 3, 10), (4, 3, 3), 2, 1, 1, 1) == (2, 4, 5)
    assert convx.conv_output_shape([2, 3, 10], [4, 3, 3]) == (2, 4, 8)
    assert convx.conv_output_shape((np.int64(2), 3, 10), (4, np.int32(3), 3)) == (2, 4, 8)
    x = make(rng, (2, 6, 9, 8), np.float32)
    w = make(rng, (4, 3, 3, 2), np.float32)
    got = convx.conv_output_shape(x, w, (2, 1), "same", 1, 2)
    assert got == convx.conv_output_shape(x.shape, w.shape, (2, 1), "same", 1, 2) == (2, 4, 5, 8)
    assert got == convx.conv2d(x, w, None, (2, 1), "same", 1, 2).shape
    xt = make(rng, (1, 6, 5), np.float32)
    wt = make(rng, (6, 2, 3), np.float32)
    got = convx.conv_output_shape(xt, wt, 2, transposed=True, output_padding=1)
    assert got == convx.conv_transpose1d(xt, wt, stride=2, output_padding=1).shape == (1, 2, 12)


def test_conv_output_shape_same_is_ceil():
    for n in range(1, 30):
        for s in (1, 2, 3, 4):
            for k, d in ((1, 1), (2, 1), (3, 2), (4, 3)):
                got = convx.conv_output_shape((1, 1, n, n), (1, 1, k, k), stride=s,
                                              padding="same", dilation=d)
                assert got == (1, 1, -(-n // s), -(-n // s)), (n, s, k, d)


@pytest.mark.parametrize("input_shape, weight_shape, kw", [
    ((2, 4, 9), (4, 3, 3), {}),
    ((2, 4, 9), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ((2, 4, 9), (4, 2, 3), dict(stride=3, padding=((0, 2),), output_padding=2, groups=2)),
    ((2, 4, 9), (4, 2, 3), dict(stride=1, dilation=3, output_padding=2)),
    ((1, 6, 5, 7), (6, 1, 4, 3), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2),
                                      groups=3, dilation=(1, 2))),
    ((1, 2, 3, 4, 5), (2, 5, 2, 2, 3), dict(stride=2, padding=((1, 0), (0, 1), (1, 1)))),
])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_conv_output_shape_transposed(input_shape, weight_shape, kw, layout):
    nd = len(input_shape) - 2
    pads = resolve_padding(kw.get("padding", 0), input_shape[2:], weight_shape[2:])

    def per_axis(v):
        return (v,) * nd if isinstance(v, int) else tuple(v)

    stride, dilation = per_axis(kw.get("stride", 1)), per_axis(kw.get("dilation", 1))
    op = per_axis(kw.get("output_padding", 0))
    spatial = tuple(conv_transpose_out_size(n, k, s, d, p[0], p[1], o) for n, k, s, d, p, o in
                    zip(input_shape[2:], weight_shape[2:], stride, dilation, pads, op))
    c_out = kw.get("groups", 1) * weight_shape[1]
    expected = layout_shape((input_shape[0], c_out) + spatial, layout)
    got = convx.conv_output_shape(layout_shape(input_shape, layout), weight_shape, layout=layout,
                                  transposed=True, **kw)
    assert got == expected


def test_conv_output_shape_large_sizes_are_exact_python_ints():
    got = convx.conv_output_shape((1, 1, 2 ** 33 + 5), (1, 1, 3), stride=2, padding=1)
    assert got == (1, 1, (2 ** 33 + 5 + 2 - 3) // 2 + 1)
    got = convx.conv_output_shape((1, 2 ** 20, 2 ** 31 + 1), (2 ** 20, 3, 2), transposed=True)
    assert got == (1, 3, 2 ** 31 + 2)


# =============================================================================================
# receptive_field, param_count, show_config


def test_receptive_field_examples():
    assert convx.receptive_field([3, 3, 3, 3], [1, 2, 4, 8]) == 31
    assert convx.receptive_field([(3, 3)] * 4, [1, 2, 4, 8]) == (31, 31)
    assert convx.receptive_field([3]) == 3
    assert convx.receptive_field([3, 3]) == 5
    assert convx.receptive_field([2] * 10, [2 ** i for i in range(10)]) == 1024  # WaveNet stack


@pytest.mark.parametrize("kernels, dilations, strides", [
    ([3, 3, 3], None, [2, 2, 2]),
    ([7, 3, 3, 3], [1, 1, 2, 1], [2, 1, 2, 1]),
    ([5, 1, 3], None, None),
    ([(3, 5), (3, 3)], [(1, 2), (2, 1)], [(2, 1), (1, 1)]),
    ([(3, 3), (3, 3), (1, 1)], None, [(2, 2), (2, 2), (1, 1)]),
    ([(2, 2, 3)], [(4, 1, 1)], None),
    ([(3, 3), (3, 3), (3, 3)], [1, 2, 4], [2, 1, 1]),  # one int per layer applies to every axis
])
def test_receptive_field_strides(kernels, dilations, strides):
    expected = ref_receptive_field(kernels, dilations, strides)
    got = convx.receptive_field(kernels, dilations, strides)
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(got, tuple):
        assert all(isinstance(v, int) for v in got)
    else:
        assert isinstance(got, int)


def test_receptive_field_stride_formula():
    # 1 + (3-1)*1 + (3-1)*1*2 + (3-1)*1*2*2
    assert convx.receptive_field([3, 3, 3], None, [2, 2, 2]) == 15
    assert convx.receptive_field([3, 3], [2, 3], [3, 1]) == 1 + 2 * 2 + 2 * 3 * 3


@pytest.mark.parametrize("args, kwargs, expected", [
    ((16, 32, (3, 3)), {}, 4608),
    ((16, 32, (3, 3)), dict(kind="separable"), 656),
    ((8, 32, (3, 3)), {}, 2304),
    ((8, 32, (3, 3)), dict(kind="separable"), 328),
    ((16, 32, (3, 3)), dict(bias=True), 4608 + 32),
    ((16, 32, (3, 3)), dict(kind="separable", bias=True), 656 + 32),
    ((16, 32, (3, 3)), dict(groups=4), 32 * 4 * 9),
    ((16, 32, (3, 3)), dict(groups=16, bias=True), 32 * 1 * 9 + 32),
    ((16, 32, 3), {}, 16 * 32 * 3),
    ((16, 32, (3, 3, 3)), {}, 16 * 32 * 27),
    ((16, 16, (3, 3)), dict(kind="depthwise"), 16 * 9),
    ((16, 32, (3, 3)), dict(kind="depthwise", bias=True), 32 * 9 + 32),
    ((16, 48, 5), dict(kind="depthwise"), 48 * 5),
    ((16, 32, (3, 3)), dict(kind="separable", depth_multiplier=2), 16 * 2 * 9 + 16 * 2 * 32),
    ((3, 7, (5, 5)), dict(kind="separable", depth_multiplier=3, bias=True),
     3 * 3 * 25 + 3 * 3 * 7 + 7),
])
def test_param_count(args, kwargs, expected):
    got = convx.param_count(*args, **kwargs)
    assert got == expected
    assert isinstance(got, int)


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_param_count_matches_weight_sizes(rng, groups):
    w_size = 12 * (8 // groups) * 3 * 5
    assert convx.param_count(8, 12, (3, 5), groups=groups) == w_size
    assert convx.param_count(8, 12, (3, 5), groups=groups, bias=True) == w_size + 12


def test_show_config(capsys):
    ret = convx.show_config()
    out = capsys.readouterr().out
    assert ret is None or isinstance(ret, (str, dict))
    assert out.strip(), "show_config printed nothing"
    assert str(convx.__version__) in out
    assert "openmp" in out.lower()
    assert "thread" in out.lower()
    assert re.search(r"cpu|isa|avx|neon|sse|generic", out, re.IGNORECASE)


def test_version_string():
    assert isinstance(convx.__version__, str)
    assert re.match(r"^\d+\.\d+", convx.__version__)


@pytest.mark.parametrize("name", FAMILIES + ["conv_output_shape", "receptive_field", "param_count",
                                             "show_config"])
def test_public_names_exported(name):
    assert callable(getattr(convx, name))
    assert name in getattr(convx, "__all__", [name])


# =============================================================================================
# dtypes

DTYPE_TABLE = [
    # input, weight, bias -> expected (spec: NumPy promotion, ints/bool -> f64, f16 -> f32)
    ("float32", "float32", None, "float32"),
    ("float64", "float64", None, "float64"),
    ("float32", "float32", "float32", "float32"),
    ("float16", "float16", None, "float32"),
    ("float16", "float16", "float16", "float32"),
    ("float16", "float32", None, "float32"),
    ("float16", "float64", None, "float64"),
    ("float32", "float64", None, "float64"),
    ("float64", "float32", None, "float64"),
    ("float32", "float32", "float64", "float64"),
    ("int32", "int32", None, "float64"),
    ("int64", "int64", "int64", "float64"),
    ("uint8", "uint8", None, "float64"),
    ("bool", "bool", None, "float64"),
    ("int64", "float32", None, "float64"),
    ("int32", "float32", None, "float64"),
    ("int8", "float32", None, "float32"),
    ("uint8", "float32", None, "float32"),
    ("int16", "float32", None, "float32"),
    ("bool", "float32", None, "float32"),
    ("float32", "int8", "float32", "float32"),
    ("int8", "float16", None, "float32"),
    ("float32", "float32", "int64", "float64"),
]


@pytest.mark.parametrize("x_dt, w_dt, b_dt, expected", DTYPE_TABLE)
@pytest.mark.parametrize("name", ["conv1d", "conv2d", "depthwise_conv1d", "pointwise_conv",
                                  "conv_transpose2d", "separable_conv1d"])
def test_dtype_table(rng, x_dt, w_dt, b_dt, expected, name):
    case = make_case(name, rng, np.float64, integer=True, bias=b_dt is not None)

    def cast(a, dt):
        if dt == "bool":
            return (a > 0)
        if dt.startswith("uint"):
            return np.abs(a).astype(dt)
        return a.astype(dt)

    args = [cast(case.args[0], x_dt)] + [cast(w, w_dt) for w in case.args[1:-1]]
    args.append(None if b_dt is None else cast(case.args[-1], b_dt))
    assert expected_dtype(*args) == np.dtype(expected)  # the table agrees with NumPy's rules
    got = case(*args)
    _exact(got, case.reference(*args), expected)


BAD_DTYPES = [np.complex64, np.complex128, object, "U3", "S3", "datetime64[s]", "timedelta64[s]"]
if np.dtype(np.longdouble).itemsize > 8:
    BAD_DTYPES.append(np.longdouble)


@pytest.mark.parametrize("bad", BAD_DTYPES, ids=str)
@pytest.mark.parametrize("which", [0, 1, -1])
@pytest.mark.parametrize("name", ["conv2d", "depthwise_conv1d", "pointwise_conv",
                                  "conv_transpose1d", "separable_conv2d"])
def test_unsupported_dtypes_raise_type_error(rng, bad, which, name):
    case = make_case(name, rng, np.float64, integer=True)
    args = list(case.args)
    a = args[which]
    if np.dtype(bad).kind in "US":
        args[which] = a.astype(int).astype(bad)
    elif np.dtype(bad).kind in "mM":
        args[which] = a.astype(np.int64).astype(bad)
    else:
        args[which] = a.astype(bad)
    param = case.names[which]
    with pytest.raises(TypeError, match=f"'{param}'"):
        case(*args)


# =============================================================================================
# inputs are never modified, unusual memory layouts work


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("with_out", [False, True])
def test_inputs_not_modified(rng, name, with_out):
    case = make_case(name, rng, np.float32, integer=False)
    before = [a.copy() for a in case.args]
    flags = [(a.flags.writeable, a.flags.c_contiguous) for a in case.args]
    kw = {}
    if with_out:
        ref = case()
        kw["out"] = np.full_like(ref, np.nan)
    case(**kw)
    for a, b, f in zip(case.args, before, flags):
        assert_array_equal(a, b, strict=True)
        assert (a.flags.writeable, a.flags.c_contiguous) == f


def _readonly(a):
    a = a.copy()
    a.setflags(write=False)
    return a


def _noncontiguous(a):
    z = np.zeros(a.shape + (2,), a.dtype)
    z[..., 0] = a
    v = z[..., 0]
    assert not v.flags.c_contiguous or a.size <= 1
    return v


def _negative_strides(a):
    rev = (slice(None, None, -1),) * a.ndim
    v = a[rev].copy()[rev]
    assert all(s < 0 for s, n in zip(v.strides, v.shape) if n > 1)
    return v


def _fortran(a):
    return np.asfortranarray(a)


def _misaligned(a):
    buf = np.zeros(a.nbytes + a.itemsize + 1, np.uint8)
    v = np.ndarray(a.shape, a.dtype, buffer=buf, offset=1)
    v[...] = a
    assert not v.flags.aligned
    return v


def _byteswapped(a):
    v = a.astype(a.dtype.newbyteorder("S"))
    assert not v.dtype.isnative
    return v


VARIANTS = {
    "readonly": _readonly,
    "noncontiguous": _noncontiguous,
    "negative_strides": _negative_strides,
    "fortran": _fortran,
    "misaligned": _misaligned,
    "byteswapped": _byteswapped,
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memory_layout_variants(rng, variant, name, dtype):
    case = make_case(name, rng, dtype, integer=True)
    plain = case()
    fn = VARIANTS[variant]
    args = [fn(a) for a in case.args]
    got = case(*args)
    assert got.dtype.type is np.dtype(dtype).type and got.dtype.itemsize == np.dtype(dtype).itemsize
    assert_array_equal(got, plain)
    _exact(plain, case.reference(), dtype)
    # only one argument unusual at a time
    for i in range(len(args)):
        mixed = list(case.args)
        mixed[i] = args[i]
        assert_array_equal(case(*mixed), plain)


@pytest.mark.parametrize("name", ["conv2d", "depthwise_conv2d", "conv_transpose2d", "pointwise_conv"])
def test_channels_last_input_given_as_a_view(rng, name):
    """channels_last input built by moveaxis of an NCHW array (non-contiguous view)."""
    case = make_case(name, rng, np.float32, integer=True)
    ref = case()
    x_cl_view = np.moveaxis(case.args[0], 1, -1)
    got = case.fn(x_cl_view, *case.args[1:], **case.kwargs, layout="channels_last")
    assert_array_equal(np.moveaxis(got, -1, 1), ref)


# =============================================================================================
# empty batch, zero channels


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_empty_batch(rng, name, layout):
    case = make_case(name, rng, np.float32, integer=True, layout=layout)
    full = case()
    empty = make_case(name, np.random.default_rng(0), np.float32, integer=True, layout=layout,
                      n_batch=0)
    got = empty()
    assert got.shape == (0,) + full.shape[1:]
    assert got.dtype == np.float32
    out = np.empty(got.shape, np.float32)
    assert empty(out=out) is out


@pytest.mark.parametrize("name", CONV_FAMILIES + TRANSPOSE_FAMILIES + ["pointwise_conv"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_zero_input_channels_gives_bias(rng, name, bias, layout):
    case = make_case(name, rng, np.float64, integer=True, layout=layout, c_in=0, bias=bias)
    got = case()
    expected = case.reference()
    _exact(got, expected, np.float64)
    assert got.size > 0
    c = got.shape[1] if layout == "channels_first" else got.shape[-1]
    b = case.args[-1] if bias else np.zeros(c)
    if layout == "channels_first":
        b = b.reshape((1, -1) + (1,) * (got.ndim - 2))
    assert_array_equal(got, np.broadcast_to(b, got.shape))


@pytest.mark.parametrize("name", ["depthwise_conv1d", "depthwise_conv2d", "separable_conv1d",
                                  "separable_conv2d"])
def test_depthwise_zero_channels(rng, name):
    """C == 0 leaves the depth multiplier undefined (weight.shape[0] // C): the spec's
    C_in == 0 rule is for groups=1, so either a clear ValueError naming the input or weight,
    or the natural result (empty channels for depthwise, bias broadcast for separable)."""
    case = make_case(name, rng, np.float64, c_in=0)
    try:
        got = case()
    except ValueError as exc:
        assert re.search(r"'(input|weight|depthwise_weight)'", str(exc)), str(exc)
    else:
        _exact(got, case.reference(), np.float64)


# =============================================================================================
# out=


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_out_is_returned_and_filled(rng, name, layout, dtype):
    case = make_case(name, rng, dtype, integer=True, layout=layout)
    expected = case()
    out = np.full(expected.shape, np.nan, dtype)
    res = case(out=out)
    assert res is out
    assert_array_equal(out, expected)


def _bad_outs(expected):
    shape, dtype = expected.shape, expected.dtype
    other = np.float64 if dtype == np.float32 else np.float32
    wide = np.zeros(shape[:-1] + (2 * shape[-1],), dtype)
    ro = np.zeros(shape, dtype)
    ro.setflags(write=False)
    return {
        "shape_bigger": np.zeros(shape[:-1] + (shape[-1] + 1,), dtype),
        "shape_flat": np.zeros(math.prod(shape), dtype),
        "shape_extra_dim": np.zeros((1,) + shape, dtype),
        "dtype": np.zeros(shape, other),
        "dtype_int": np.zeros(shape, np.int32),
        "noncontiguous": wide[..., ::2],
        "fortran": np.asfortranarray(np.zeros(shape, dtype)) if len(shape) > 1 and
        min(shape) > 1 else wide[..., ::2],
        "readonly": ro,
    }


BAD_OUT_KINDS = list(_bad_outs(np.zeros((2, 3, 4, 5))))


@pytest.mark.parametrize("kind", BAD_OUT_KINDS)
@pytest.mark.parametrize("name", FAMILIES)
def test_bad_out_raises(rng, kind, name):
    case = make_case(name, rng, np.float32, integer=True)
    expected = case()
    bad = _bad_outs(expected)[kind]
    before = bad.copy()
    with pytest.raises(ValueError, match="'out'"):
        case(out=bad)
    assert_array_equal(bad, before)


@pytest.mark.parametrize("name", ["conv2d", "pointwise_conv", "conv_transpose1d"])
def test_out_byteswapped_raises_or_is_correct(rng, name):
    """A non-native out: either rejected naming 'out', or written with correct values."""
    case = make_case(name, rng, np.float32, integer=True)
    expected = case()
    out = np.zeros(expected.shape, np.dtype(np.float32).newbyteorder("S"))
    try:
        res = case(out=out)
    except ValueError as exc:
        assert "'out'" in str(exc)
    else:
        assert res is out
        assert_array_equal(out, expected)


def test_out_overlapping_input_raises(rng):
    x = make(rng, (2, 4, 9, 9), np.float32, integer=True)
    w = make(rng, (4, 4, 3, 3), np.float32, integer=True)
    x_before = x.copy()
    with pytest.raises(ValueError, match="'out'"):
        convx.conv2d(x, w, padding=1, out=x)
    assert_array_equal(x, x_before)
    with pytest.raises(ValueError, match="'out'"):
        convx.conv1d(x[:, :, 0], w[:, :, 0], padding=1, out=x[:, :, 0])
    with pytest.raises(ValueError, match="'out'"):
        convx.pointwise_conv(x, w[:, :, 0, 0], out=x)
    with pytest.raises(ValueError, match="'out'"):
        convx.depthwise_conv2d(x, w[:, :1], padding="same", out=x)
    with pytest.raises(ValueError, match="'out'"):
        convx.conv_transpose2d(x, w, padding=1, out=x)
    with pytest.raises(ValueError, match="'out'"):
        convx.separable_conv2d(x, w[:, :1], w[:, :, 0, 0], padding=1, out=x)
    assert_array_equal(x, x_before)


def test_out_overlapping_a_view_of_input_raises(rng):
    """out shares memory with the input through a different view (not the same object)."""
    buf = make(rng, (2, 4, 20), np.float64, integer=True)
    x = buf[:, :, :10]
    w = make(rng, (4, 4, 3), np.float64, integer=True)
    out = buf[:, :, 8:18]  # overlaps x[..., 8:10]; same shape as the 'same' output
    with pytest.raises(ValueError, match="'out'"):
        convx.conv1d(x, w, padding="same", out=np.asarray(out))


def test_out_overlapping_weight_or_bias_raises(rng):
    x = make(rng, (1, 2, 6), np.float64, integer=True)
    buf = np.zeros(64)
    w = buf[:2 * 2 * 3].reshape(2, 2, 3)
    w[...] = make(rng, (2, 2, 3), np.float64, integer=True)
    out = buf[:8].reshape(1, 2, 4)  # overlaps w
    with pytest.raises(ValueError, match="'out'"):
        convx.conv1d(x, w, out=out)
    buf2 = np.zeros(16)
    b = buf2[:2]
    out2 = buf2[:8].reshape(1, 2, 4)  # overlaps b
    w2 = make(rng, (2, 2, 3), np.float64, integer=True)
    with pytest.raises(ValueError, match="'out'"):
        convx.conv1d(x, w2, b, out=out2)


def test_out_adjacent_but_not_overlapping_is_fine(rng):
    buf = np.zeros(2 * 4 * 20)
    x = buf[: 2 * 4 * 10].reshape(2, 4, 10)
    x[...] = make(rng, (2, 4, 10), np.float64, integer=True)
    out = buf[2 * 4 * 10:].reshape(2, 4, 10)
    w = make(rng, (4, 4, 3), np.float64, integer=True)
    expected = convx.conv1d(x, w, padding=1)
    assert convx.conv1d(x, w, padding=1, out=out) is out
    assert_array_equal(out, expected)


# =============================================================================================
# num_threads


@pytest.mark.parametrize("num_threads", [None, 1, 2, 3, -1, -2, -5, -1000, np.int64(2)],
                         ids=repr)
@pytest.mark.parametrize("name", FAMILIES)
def test_num_threads_valid_values(rng, num_threads, name):
    case = make_case(name, rng, np.float32, integer=True)
    got = case(num_threads=num_threads)
    _exact(got, case.reference(), np.float32)


def test_num_threads_respects_environment_in_subprocess():
    """CONVX_NUM_THREADS / OMP_NUM_THREADS are read by the library; results stay correct."""
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, convx, io, contextlib\n"
        "x = np.arange(2*3*40, dtype=np.float32).reshape(2,3,40) % 7\n"
        "w = np.ones((4,3,3), np.float32)\n"
        "y = convx.conv1d(x, w, padding=1)\n"
        "assert y.shape == (2,4,40)\n"
        "print(float(y.sum()))\n"
    )
    results = []
    for env_var in ("CONVX_NUM_THREADS", "OMP_NUM_THREADS"):
        env = {k: v for k, v in os.environ.items()
               if k not in ("CONVX_NUM_THREADS", "OMP_NUM_THREADS")}
        env[env_var] = "1"
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        results.append(float(proc.stdout.strip()))
    x = np.arange(2 * 3 * 40, dtype=np.float32).reshape(2, 3, 40) % 7
    expected = float(convx.conv1d(x, np.ones((4, 3, 3), np.float32), padding=1).sum())
    assert results == [expected, expected]


@pytest.mark.parametrize("env_var", ["CONVX_NUM_THREADS", "OMP_NUM_THREADS"])
@pytest.mark.parametrize("count", [1, 3])
def test_show_config_reports_thread_count_from_environment(env_var, count):
    """num_threads=None means what the environment allows (one thread in a build without OpenMP);
    show_config prints that count."""
    import os
    import subprocess
    import sys

    count_shown = count if convx.get_config()["openmp"] else 1
    env = {k: v for k, v in os.environ.items() if k not in ("CONVX_NUM_THREADS", "OMP_NUM_THREADS")}
    env[env_var] = str(count)
    proc = subprocess.run([sys.executable, "-c", "import convx; convx.show_config()"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.lower().splitlines() if "thread" in ln]
    assert lines, proc.stdout
    assert any(re.search(rf"\b{count_shown}\b", ln) for ln in lines), proc.stdout


# =============================================================================================
# NaN / Inf


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_inf_propagation(rng, name, special, dtype):
    """Non-finite inputs reach exactly the outputs they touch; Inf * 0-weight gives NaN."""
    case = make_case(name, rng, dtype, integer=True)
    args = [a.copy() for a in case.args]
    x = args[0]
    idx = tuple(min(2, n - 1) for n in x.shape)
    x[idx] = special
    # make sure at least one tap has weight 0 and others are non-zero
    w = args[1]
    w[...] = np.where(w == 0, 1, w)
    w.reshape(-1)[0] = 0
    got = case(*args)
    with np.errstate(invalid="ignore"):
        expected = case.reference(*args)
    assert np.isnan(expected).any() or np.isinf(expected).any()
    assert_array_equal(got, expected.astype(dtype))


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subnormals_are_not_flushed(rng, name, dtype):
    """IEEE arithmetic: subnormal inputs are neither flushed to zero nor treated as denormal-
    are-zero (integer multiples of the smallest subnormal keep every sum exact)."""
    case = make_case(name, rng, dtype, integer=True, bias=False)
    tiny = np.finfo(dtype).smallest_subnormal
    args = list(case.args)
    args[0] = args[0] * tiny
    got = case(*args)
    expected = (case.reference() * float(tiny)).astype(dtype)
    assert np.any((expected != 0) & (np.abs(expected) < np.finfo(dtype).tiny))
    assert_array_equal(got, expected)
    # and the floating-point environment of the process is left alone
    assert dtype(tiny) * dtype(1) != 0


def test_nan_does_not_leak_outside_receptive_field():
    x = np.zeros((1, 1, 20))
    x[0, 0, 10] = np.nan
    w = np.ones((1, 1, 3))
    y = convx.conv1d(x, w, dilation=2)
    nan_at = np.flatnonzero(np.isnan(y[0, 0]))
    assert nan_at.tolist() == [6, 8, 10]


# =============================================================================================
# array-likes


def test_list_inputs(rng):
    x = make(rng, (2, 3, 8), np.float64, integer=True)
    w = make(rng, (4, 3, 3), np.float64, integer=True)
    b = make(rng, (4,), np.float64, integer=True)
    got = convx.conv1d(x.tolist(), w.tolist(), b.tolist(), stride=2, padding=1)
    _exact(got, ref_conv(x, w, b, 2, 1), np.float64)
    got = convx.conv_transpose1d(x.tolist(), w.transpose(1, 0, 2).tolist(), None, stride=2)
    assert got.dtype == np.float64 and got.shape == (2, 4, 17)
    got = convx.pointwise_conv(x.tolist(), w[:, :, 0].tolist())
    assert got.dtype == np.float64 and got.shape == (2, 4, 8)
    got = convx.depthwise_conv1d(x.tolist(), w[:3, :1].tolist())
    assert got.dtype == np.float64 and got.shape == (2, 3, 6)


def test_integer_like_parameters(rng):
    """NumPy integer scalars and lists are accepted for stride / padding / dilation / groups."""
    x = make(rng, (1, 4, 9, 9), np.float32, integer=True)
    w = make(rng, (4, 2, 3, 3), np.float32, integer=True)
    expected = ref_conv(x, w, None, (1, 2), [(1, 1), (2, 2)], (2, 1), 2)
    got = convx.conv2d(x, w, stride=[np.int64(1), 2], padding=[1, np.int32(2)],
                       dilation=(np.int16(2), 1), groups=np.int64(2))
    _exact(got, expected, np.float32)


def test_results_are_new_arrays(rng):
    case = make_case("conv2d", rng, np.float32)
    a, b = case(), case()
    assert a is not b and not np.shares_memory(a, b)
    assert not any(np.shares_memory(a, arg) for arg in case.args if arg is not None)
    assert a.flags.writeable


@pytest.mark.parametrize("name", FAMILIES)
def test_keyword_names_match_spec(rng, name):
    """Arguments passed by their spec keyword names give the positional result."""
    case = make_case(name, rng, np.float32, integer=True)
    kwargs = dict(zip(case.names, case.args))
    assert_array_equal(case.fn(**kwargs, **case.kwargs), case())
