"""Hostile input: convx never crashes, hangs or corrupts.

Invalid arguments of every class raise ValueError or TypeError naming the parameter and leave
the inputs alone; valid but odd arguments give the reference result and leave the inputs alone.
The plain cases of each class live next to the behaviour they guard (test_errors.py,
test_api.py, test_extreme_geometry.py); this file adds the hostile extremes.
"""

import itertools
import os
import textwrap

import numpy as np
import pytest

import convx
from helpers import (
    FAMILIES,
    LAYOUTS,
    PADDING_MODES,
    check_conv,
    check_depthwise,
    check_separable,
    check_transpose,
    from_layout,
    make,
    make_case,
    run_python,
    to_layout,
    untouched,
)
from reference import ref_conv, ref_conv_transpose

# =============================================================================================
# thread counts


@pytest.mark.parametrize("setting", ["num_threads=2**16", "num_threads=10**9", "env CONVX_NUM_THREADS",
                                     "env OMP_NUM_THREADS"])
def test_absurd_thread_count_is_capped(setting):
    """A thread count far beyond the CPUs used to reach OpenMP as is: libgomp then crashed
    (SIGSEGV) starting 65536 threads. It is capped at a few threads per CPU."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "CONVX_NUM_THREADS")}
    call_threads = "None"
    if setting.startswith("env"):
        env[setting.split()[1]] = "100000"
    else:
        call_threads = setting.split("=")[1]
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        import convx
        x = np.ones((1, 64, 64, 64), np.float32)
        w = np.ones((64, 64, 3, 3), np.float32)
        y = convx.conv2d(x, w, padding=1, num_threads={call_threads})
        assert y[0, 0, 5, 5] == 64 * 9 and y[0, 0, 0, 0] == 64 * 4, y[0, 0, :2, :2]
        assert convx.get_config()["num_threads"] <= 4 * (os.cpu_count() or 1)
        print("ok")
    """)
    result = run_python(script, timeout=120, env=env)
    assert result is not None, "timed out"
    returncode, stdout, stderr = result
    assert returncode == 0 and "ok" in stdout, (returncode, stdout, stderr)


# =============================================================================================
# invalid arguments: the right exception, naming the parameter, inputs untouched


def f32(*shape):
    return np.ones(shape, np.float32)


def _call_rejected(exc, param, fn, *args, **kwargs):
    """fn(*args, **kwargs) raises exc with a message naming ``param``; array inputs unchanged."""
    with untouched(*args, *kwargs.values()):
        with pytest.raises(exc, match=f"'{param}'"):
            fn(*args, **kwargs)


X2, W2 = (1, 4, 6, 6), (4, 2, 3, 3)  # conv2d with groups=2 is valid for these shapes

INVALID = {
    # groups: zero, negative, huge, beyond int64, not an int, more than the channels
    "groups_zero": ("conv2d", (X2, W2), dict(groups=0), ValueError, "groups"),
    "groups_most_negative_int64": ("conv2d", (X2, W2), dict(groups=-2**63), ValueError, "groups"),
    "groups_2**62": ("conv2d", (X2, W2), dict(groups=2**62), ValueError, "groups"),
    "groups_2**64": ("conv2d", (X2, W2), dict(groups=2**64), ValueError, "groups"),
    "groups_10**30": ("conv_transpose2d", (X2, W2), dict(groups=10**30), ValueError, "groups"),
    "groups_more_than_channels": ("conv2d", (X2, (8, 1, 3, 3)), dict(groups=8), ValueError, "groups"),
    "groups_bool": ("conv2d", (X2, W2), dict(groups=True), TypeError, "groups"),
    "groups_numpy_float": ("conv2d", (X2, W2), dict(groups=np.float64(2)), TypeError, "groups"),
    "groups_array": ("conv2d", (X2, W2), dict(groups=np.array([2])), TypeError, "groups"),
    # channels not divisible by groups
    "in_channels_not_divisible": ("conv2d", ((1, 6, 6, 6), (4, 1, 3, 3)), dict(groups=4), ValueError, "groups"),
    "out_channels_not_divisible": ("conv2d", (X2, (5, 2, 3, 3)), dict(groups=2), ValueError, "weight"),
    "transposed_in_channels_not_divisible": ("conv_transpose1d", ((1, 6, 5), (6, 1, 3)), dict(groups=4),
                                             ValueError, "groups"),
    "depthwise_not_a_multiple": ("depthwise_conv2d", (X2, (6, 1, 3, 3)), {}, ValueError, "weight"),
    # stride / dilation: zero, negative, beyond int64, wrong kind
    "stride_most_negative_int64": ("conv2d", (X2, W2), dict(groups=2, stride=-2**63), ValueError, "stride"),
    "stride_2**63": ("conv2d", (X2, W2), dict(groups=2, stride=2**63), ValueError, "stride"),
    "stride_numpy_int8_negative": ("conv1d", ((1, 1, 5), (1, 1, 2)), dict(stride=np.int8(-1)), ValueError,
                                   "stride"),
    "stride_bool": ("conv2d", (X2, W2), dict(groups=2, stride=True), TypeError, "stride"),
    "stride_set": ("conv2d", (X2, W2), dict(groups=2, stride={1, 2}), TypeError, "stride"),
    "stride_2d_array": ("conv2d", (X2, W2), dict(groups=2, stride=np.ones((2, 1), int)), TypeError, "stride"),
    "stride_bytes": ("conv2d", (X2, W2), dict(groups=2, stride=b"\x01\x02"), TypeError, "stride"),
    "stride_complex": ("depthwise_conv1d", ((1, 2, 5), (2, 1, 2)), dict(stride=1j), TypeError, "stride"),
    "dilation_zero_0d_array": ("conv2d", (X2, W2), dict(groups=2, dilation=np.array(0)), ValueError, "dilation"),
    "dilation_zero_on_one_axis": ("conv3d", ((1, 1, 4, 4, 4), (1, 1, 2, 2, 2)), dict(dilation=(1, 0, 1)),
                                  ValueError, "dilation"),
    "dilation_negative_transposed": ("conv_transpose2d", (X2, W2), dict(dilation=-3), ValueError, "dilation"),
    "dilation_2**64": ("separable_conv1d", ((1, 2, 5), (2, 1, 2), (3, 2)), dict(dilation=2**64), ValueError,
                       "dilation"),
    # padding: negative, absurd, malformed
    "padding_most_negative_int64": ("conv2d", (X2, W2), dict(groups=2, padding=-2**63), ValueError, "padding"),
    "padding_2**100": ("conv2d", (X2, W2), dict(groups=2, padding=2**100), ValueError, "padding"),
    "padding_2**61_each_side": ("conv2d", (X2, W2), dict(groups=2, padding=2**61), ValueError, "padding"),
    "padding_negative_in_a_pair": ("depthwise_conv2d", (X2, (4, 1, 3, 3)), dict(padding=((0, 0), (1, -1))),
                                   ValueError, "padding"),
    "padding_nan": ("conv2d", (X2, W2), dict(groups=2, padding=float("nan")), TypeError, "padding"),
    "padding_upper_case_same": ("conv2d", (X2, W2), dict(groups=2, padding="SAME"), ValueError, "padding"),
    "padding_ragged_pairs": ("conv2d", (X2, W2), dict(groups=2, padding=((1,), (1, 2))), ValueError, "padding"),
    "padding_nested_too_deep": ("conv2d", (X2, W2), dict(groups=2, padding=(((1, 1), (1, 1)), (1, 1))),
                                TypeError, "padding"),
    "padding_float_array": ("conv2d", (X2, W2), dict(groups=2, padding=np.array([1.0, 1.0])), TypeError,
                            "padding"),
    "padding_bytes_pair": ("conv1d", ((1, 1, 5), (1, 1, 2)), dict(padding=b"\x01\x02"), TypeError, "padding"),
    "padding_bytes_per_axis": ("conv2d", (X2, W2), dict(groups=2, padding=(b"\x01\x01", 1)), TypeError,
                               "padding"),
    "padding_dict": ("conv1d", ((1, 1, 5), (1, 1, 2)), dict(padding={}), TypeError, "padding"),
    "padding_same_transposed": ("conv_transpose1d", ((1, 2, 5), (2, 2, 3)), dict(padding="same"),
                                (TypeError, ValueError), "padding"),
    "padding_transposed_eats_the_output": ("conv_transpose1d", ((1, 2, 5), (2, 2, 3)), dict(padding=2**62),
                                           ValueError, "padding"),
    # results NumPy cannot allocate (2**63 bytes or more, sizes of 0 counted as 1) used to fail in
    # np.empty with a ValueError naming nothing
    "result_2**60_float64": ("conv_transpose1d", ((1, 1, 2), (1, 1, 1)), dict(stride=2**60), ValueError, "input"),
    "empty_result_with_absurd_sizes": ("conv_transpose2d", ((0, 0, 2, 2), (0, 0, 1, 1)), dict(stride=2**40),
                                       ValueError, "input"),
    "output_padding_bytes": ("conv_transpose1d", ((1, 2, 5), (2, 2, 3)), dict(stride=2, output_padding=b"\x01"),
                             TypeError, "output_padding"),
    "output_padding_2**63": ("conv_transpose1d", ((1, 2, 5), (2, 2, 3)), dict(output_padding=2**63),
                             ValueError, "output_padding"),
    # kernel larger than the padded input
    "kernel_longer_than_input": ("conv1d", ((1, 2, 3), (1, 2, 5)), {}, ValueError, "weight"),
    "kernel_longer_than_padded_input": ("conv1d", ((1, 2, 3), (1, 2, 6)), dict(padding=1), ValueError, "weight"),
    "kernel_dilated_past_input": ("depthwise_conv2d", ((1, 2, 9, 9), (2, 1, 2, 3)), dict(dilation=(9, 1)),
                                  ValueError, "weight"),
    "kernel_taller_than_input_3d": ("conv3d", ((1, 1, 2, 8, 8), (1, 1, 3, 1, 1)), {}, ValueError, "weight"),
    # zero-size kernel
    "kernel_zero_1d": ("conv1d", ((1, 2, 3), (1, 2, 0)), {}, ValueError, "weight"),
    "kernel_zero_transposed_3d": ("conv_transpose3d", ((1, 2, 3, 3, 3), (2, 1, 2, 0, 2)), {}, ValueError,
                                  "weight"),
    "kernel_zero_separable": ("separable_conv2d", ((1, 2, 5, 5), (2, 1, 0, 3), (3, 2)), {}, ValueError,
                              "depthwise_weight"),
    # wrong number of dimensions
    "input_0d": ("conv1d", ((), (1, 1, 1)), {}, ValueError, "input"),
    "input_6d": ("conv2d", ((1, 1, 1, 1, 1, 1), (1, 1, 1, 1)), {}, ValueError, "input"),
    "weight_0d": ("conv1d", ((1, 1, 3), ()), {}, ValueError, "weight"),
    "weight_1d_transposed": ("conv_transpose2d", (X2, (4,)), {}, ValueError, "weight"),
    "pointwise_input_0d": ("pointwise_conv", ((), (1, 3)), {}, ValueError, "input"),
    "pointwise_weight_0d": ("pointwise_conv", ((1, 3, 2), ()), {}, ValueError, "weight"),
    "pointwise_weight_too_many_ones": ("pointwise_conv", ((1, 3, 2), (1, 3, 1, 1)), {}, ValueError, "weight"),
}


@pytest.mark.parametrize("kind", list(INVALID))
def test_invalid_argument(kind):
    name, shapes, kwargs, exc, param = INVALID[kind]
    _call_rejected(exc, param, getattr(convx, name), *(f32(*s) for s in shapes), **kwargs)


def _bad_arrays():
    """Hostile arrays or array-likes for one parameter of conv1d((1, 2, 5), (3, 2, 2), bias (3,)):
    (parameter, value, exception)."""
    out = f32(1, 3, 4)
    return {
        # bias: wrong shape, wrong kind
        "bias_2d": ("bias", f32(3, 1), ValueError),
        "bias_too_long": ("bias", [1.0, 2.0, 3.0, 4.0], ValueError),
        "bias_scalar": ("bias", 1.0, ValueError),
        "bias_string": ("bias", "abc", TypeError),
        "bias_complex": ("bias", np.ones(3, complex), TypeError),
        "bias_objects": ("bias", np.array([None, None, None]), TypeError),
        "bias_ragged": ("bias", [[1.0], [1.0, 2.0]], TypeError),
        # bad dtypes of the input and weight
        "input_structured": ("input", np.zeros((1, 2, 5), [("a", "f4")]), TypeError),
        "input_strings": ("input", np.zeros((1, 2, 5), "U2"), TypeError),
        "input_void": ("input", np.zeros((1, 2, 5), "V4"), TypeError),
        "input_datetime": ("input", np.zeros((1, 2, 5), "M8[s]"), TypeError),
        "input_timedelta": ("input", np.zeros((1, 2, 5), "m8[s]"), TypeError),
        "input_complex": ("input", np.zeros((1, 2, 5), np.complex64), TypeError),
        "input_dict": ("input", {}, TypeError),
        "input_none": ("input", None, TypeError),
        "input_ragged_list": ("input", [[[1.0], [1.0, 2.0]]], TypeError),
        "weight_objects": ("weight", np.ones((3, 2, 2), object), TypeError),
        "weight_bytes": ("weight", np.zeros((3, 2, 2), "S1"), TypeError),
        # bad out: not an array, wrong shape or dtype, not writeable, not C-contiguous, overlapping
        "out_list": ("out", [[[0.0] * 4] * 3], TypeError),
        "out_numpy_scalar": ("out", np.float32(0), TypeError),
        "out_0d": ("out", np.zeros((), np.float32), ValueError),
        "out_float16": ("out", np.zeros((1, 3, 4), np.float16), ValueError),
        "out_int32": ("out", np.zeros((1, 3, 4), np.int32), ValueError),
        "out_broadcast": ("out", np.broadcast_to(np.float32(0), (1, 3, 4)), ValueError),
        "out_reversed": ("out", out[:, :, ::-1], ValueError),
        "out_byteswapped": ("out", np.zeros((1, 3, 4), ">f4" if np.little_endian else "<f4"), ValueError),
        "out_misaligned": ("out", np.frombuffer(bytearray(49), np.float32, 12, offset=1).reshape(1, 3, 4),
                           ValueError),
    }


BAD_ARRAYS = list(_bad_arrays())


@pytest.mark.parametrize("kind", BAD_ARRAYS)
def test_invalid_array_argument(kind):
    param, value, exc = _bad_arrays()[kind]
    args = dict(input=f32(1, 2, 5), weight=f32(3, 2, 2), bias=f32(3))
    kwargs = {}
    if param == "out":
        kwargs["out"] = value
    else:
        args[param] = value
    _call_rejected(exc, param, convx.conv1d, args["input"], args["weight"], args["bias"], **kwargs)


def test_shape_given_as_bytes_is_rejected():
    with pytest.raises(TypeError, match="'input_shape'"):
        convx.conv_output_shape(b"\x01\x01\x05", (1, 1, 2))


def test_out_that_is_the_weight_is_rejected():
    w = f32(1, 1, 1)
    _call_rejected(ValueError, "out", convx.conv1d, f32(1, 1, 1), w, out=w)


# =============================================================================================
# valid but odd arguments: the reference result, inputs untouched


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_padding_far_larger_than_kernel_and_input(rng, mode, layout):
    """Pads of 40 around inputs of 1 to 5: every mode repeats its rule as numpy.pad does."""
    for n in (1, 2, 5):
        x = make(rng, (2, 3, n), np.float64, integer=True)
        w = make(rng, (4, 3, 2), np.float64, integer=True)
        with untouched(x, w):
            check_conv(x, w, stride=3, padding=40, padding_mode=mode, layout=layout, exact=True)
            check_conv(x, w[:3, :1], groups=3, padding=[(40, 1)], padding_mode=mode, layout=layout, exact=True)
            check_depthwise(x, w[:3, :1], padding=[(7, 40)], dilation=3, padding_mode=mode, layout=layout,
                            exact=True)
        x2 = make(rng, (1, 2, n, 3), np.float32, integer=True)
        dw = make(rng, (4, 1, 2, 2), np.float32, integer=True)
        pw = make(rng, (3, 4), np.float32, integer=True)
        with untouched(x2, dw, pw):
            check_separable(x2, dw, pw, padding=((40, 33), (0, 9)), stride=(5, 1), padding_mode=mode, layout=layout,
                            exact=True)


def test_transposed_padding_far_larger_than_kernel(rng):
    x = make(rng, (1, 2, 40), np.float32, integer=True)
    w = make(rng, (2, 3, 2), np.float32, integer=True)
    with untouched(x, w):
        check_transpose(x, w, padding=[(15, 19)], exact=True)
        check_transpose(x, w, stride=3, padding=50, output_padding=2, exact=True)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_input_smaller_than_stride(rng, layout):
    x1 = make(rng, (2, 3, 3), np.float32, integer=True)
    x2 = make(rng, (1, 2, 2, 3), np.float32, integer=True)
    w1 = make(rng, (4, 3, 2), np.float32, integer=True)
    w2 = make(rng, (4, 2, 2, 2), np.float32, integer=True)
    with untouched(x1, x2, w1, w2):
        check_conv(x1, w1, stride=10, layout=layout, exact=True)
        check_conv(x1, w1, stride=7, padding="same", layout=layout, exact=True)
        check_conv(x2, w2, stride=(5, 9), padding=1, layout=layout, exact=True)
        w2 = w2[:, :1]
        check_depthwise(x2, w2, stride=4, padding="same", padding_mode="reflect", layout=layout, exact=True)
        check_separable(x2, w2, w1[:, :, 0].T, stride=(3, 8), layout=layout, exact=True)
        check_transpose(x1[:, :, :1], w1.transpose(1, 0, 2), stride=50, layout=layout, exact=True)


@pytest.mark.parametrize("mode", PADDING_MODES)
def test_even_kernels_with_same_and_dilation(rng, mode):
    """'same' with an even dilated span puts the extra pad at the end (SAME_UPPER)."""
    for length, kernel, dilation in ((9, 4, 3), (5, 2, 5), (16, 6, 2), (3, 4, 1)):
        x = make(rng, (2, 3, length), np.float64, integer=True)
        w = make(rng, (5, 3, kernel), np.float64, integer=True)
        with untouched(x, w):
            y = check_conv(x, w, padding="same", dilation=dilation, padding_mode=mode, exact=True)
            assert y.shape[-1] == length
            check_depthwise(x, w[:3, :1], padding="same", dilation=dilation, padding_mode=mode, exact=True)
    x = make(rng, (1, 2, 6, 7), np.float32, integer=True)
    w = make(rng, (3, 2, 4, 2), np.float32, integer=True)
    with untouched(x, w):
        check_conv(x, w, padding="same", dilation=(2, 3), padding_mode=mode, layout="channels_last", exact=True)


@pytest.mark.parametrize("stride", [2, 3, 7])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_with_stride(rng, stride, layout):
    """'same' with a stride: output ceil(input / stride), for odd and even spans."""
    x = make(rng, (2, 4, 11, 6), np.float32, integer=True)
    w = make(rng, (4, 4, 4, 3), np.float32, integer=True)
    with untouched(x, w):
        y = check_conv(x, w, stride=(stride, 2), padding="same", dilation=(1, 2), layout=layout, exact=True)
        assert y.shape[1:3] == (-(-11 // stride), 3) if layout == "channels_last" else y.shape[2:] == (-(-11 // stride), 3)
        check_depthwise(x, w[:, :1], stride=stride, padding="same", layout=layout, exact=True)
        check_separable(x, w[:, :1], w[:, :, 0, 0], stride=stride, padding="same", layout=layout, exact=True)
        check_conv(x[:, :, 0], w[:, :, 0], stride=stride, padding="causal", layout=layout, exact=True)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_empty_batch_matches_reference(rng, name, layout):
    case = make_case(name, rng, np.float32, layout=layout, n_batch=0)
    with untouched(*case.args):
        got = case()
    expected = case.reference()
    assert got.shape == expected.shape and got.shape[0] == 0 and got.dtype == np.float32


@pytest.mark.parametrize("name", [f for f in FAMILIES if not f.startswith("depthwise")])  # C * M >= C always
@pytest.mark.parametrize("layout", LAYOUTS)
def test_zero_output_channels(rng, name, layout):
    """A weight with no output filters gives an empty channel axis, as the reference does."""
    case = make_case(name, rng, np.float64, integer=True, layout=layout, bias=False)
    args = list(case.args)
    weight = 2 if name.startswith("separable") else 1
    args[weight] = args[weight][:, :0] if name.startswith("conv_transpose") else args[weight][:0]
    with untouched(*args):
        got = case(*args)
    expected = case.reference(*args)
    assert got.shape == expected.shape and got.size == 0 and got.dtype == np.float64


@pytest.mark.parametrize("name", ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose3d"])
def test_zero_input_channels_with_groups(rng, name):
    """C_in = 0 split into 2 groups: the result is the bias."""
    nd = int(name[-2])
    x = np.zeros((2, 0) + (4,) * nd, np.float32)
    w = np.zeros((0, 3) + (2,) * nd, np.float32) if name.startswith("conv_transpose") else \
        np.zeros((4, 0) + (2,) * nd, np.float32)
    b = make(rng, (w.shape[1] * 2 if name.startswith("conv_transpose") else 4,), np.float32, integer=True)
    with untouched(x, w, b):
        if name.startswith("conv_transpose"):
            check_transpose(x, w, b, groups=2, stride=2, exact=True)
        else:
            check_conv(x, w, b, groups=2, padding=1, exact=True)


@pytest.mark.parametrize("channels", [5, 7, 8, 9, 15, 16, 17, 33])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_channel_counts_around_the_simd_tile_channels_last(rng, channels, dtype):
    """Channels-last kernels vectorise along channels: tails with odd paddings and modes."""
    x = make(rng, (1, 5, 6, channels), dtype, integer=True)
    x_cf = np.moveaxis(x, -1, 1)
    w = make(rng, (channels, 1, 3, 2), dtype, integer=True)
    w_dense = make(rng, (channels + 1, channels, 2, 2), dtype, integer=True)
    with untouched(x, w, w_dense):
        check_depthwise(x_cf, w, padding=((2, 0), (1, 3)), padding_mode="circular", layout="channels_last",
                        exact=True)
        check_conv(x_cf, w_dense, stride=(2, 1), padding=2, padding_mode="reflect", layout="channels_last",
                   exact=True)


# --- unusual memory: every argument hostile at once --------------------------------------


def _byteswapped_misaligned_reversed(a):
    """The same values, byte-swapped, at an odd address, read through negative strides, read-only."""
    swapped = a.dtype.newbyteorder("S")
    buffer = np.zeros(a.nbytes + 1, np.uint8)
    view = np.ndarray(a.shape, swapped, buffer=buffer, offset=1, strides=None)
    view[...] = a[(slice(None, None, -1),) * a.ndim]
    view = view[(slice(None, None, -1),) * a.ndim]
    view.flags.writeable = False
    assert not view.flags.aligned and not view.dtype.isnative
    return view


def _fortran_readonly(a):
    view = np.asfortranarray(a)
    view.flags.writeable = False
    return view


def _broadcast_weights(a):
    """Weights (and bias) as stride-0 broadcasts: one value repeated along the first axis."""
    return np.broadcast_to(a[:1], a.shape)


HOSTILE_MEMORY = {
    "byteswapped_misaligned_reversed": _byteswapped_misaligned_reversed,
    "fortran_readonly": _fortran_readonly,
}


@pytest.mark.parametrize("memory", list(HOSTILE_MEMORY) + ["broadcast_weights"])
@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hostile_memory_on_every_argument(rng, memory, name, dtype):
    case = make_case(name, rng, dtype, integer=True)
    if memory == "broadcast_weights":
        args = [case.args[0]] + [_broadcast_weights(a) for a in case.args[1:]]
    else:
        args = [HOSTILE_MEMORY[memory](a) for a in case.args]
    with untouched(*args):
        got = case(*args)
    assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous and got.flags.writeable
    np.testing.assert_array_equal(got, case.reference(*args).astype(dtype), strict=True)


@pytest.mark.parametrize("where", ["weight", "bias", "reflected_border"])
@pytest.mark.parametrize("special", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cout", [4, 16])
def test_non_finite_weights_bias_and_padding(rng, where, special, dtype, cout):
    """NaN and Inf in the weight or bias, or at an input border that reflect/circular padding
    repeats, reach exactly the outputs the reference says (0 * NaN is NaN in zero padding too:
    the direct path skips padding taps only for finite weights). Both layouts and kernels."""
    x = make(rng, (2, 3, 6, 5), dtype, integer=True)
    w = make(rng, (cout, 3, 3, 2), dtype, integer=True)
    b = make(rng, (cout,), dtype, integer=True)
    if where == "weight":
        w[1, 2, 0, 1] = special
    elif where == "bias":
        b[2] = special
    else:
        x[1, 0, 0, 4] = special
    with np.errstate(invalid="ignore"), untouched(x, w, b):
        for mode, layout in itertools.product(("zeros", "reflect", "circular"), LAYOUTS):
            got = from_layout(convx.conv2d(to_layout(x, layout), w, b, padding=2, padding_mode=mode, layout=layout),
                              layout)
            expected = ref_conv(x, w, b, 1, 2, 1, 1, mode)
            assert not np.isfinite(expected).all()
            np.testing.assert_array_equal(got, expected.astype(dtype))


@pytest.mark.parametrize("special", [np.nan, np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cout", [4, 40])
def test_non_finite_weights_transposed(rng, special, dtype, cout):
    """A transposed layer sums only the taps that reach an input pixel, so a NaN or Inf weight
    reaches only the outputs its input pixels scatter to (as the scatter-add reference and
    PyTorch have it), not the border outputs whose other taps fall outside the input. Both
    layouts, the GEMM and the direct kernel (4 and 40 output channels), 1-D to 3-D."""
    for spatial, kernel in (((7,), (4,)), ((5, 6), (4, 3)), ((3, 4, 3), (2, 3, 2))):
        x = make(rng, (2, 3) + spatial, dtype, integer=True)
        w = make(rng, (3, cout) + kernel, dtype, integer=True)
        b = make(rng, (cout,), dtype, integer=True)
        w[(1, 2) + (0,) * len(kernel)] = special
        expected = ref_conv_transpose(x, w, b, 2, 1, dilation=1)
        assert not np.isfinite(expected).all() and np.isfinite(expected).any()
        nd = len(spatial)
        with np.errstate(invalid="ignore"), untouched(x, w, b):
            for layout in LAYOUTS:
                got = getattr(convx, f"conv_transpose{nd}d")(to_layout(x, layout), w, b, stride=2, padding=1,
                                                             layout=layout)
                np.testing.assert_array_equal(from_layout(got, layout), expected.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_huge_1d_dilation_with_same_and_causal(rng, dtype, layout):
    """Dilation 2**40 with 'same' or 'causal' padding: only one tap ever reads the input (the
    centre one, the last one), so the reference is that tap's 1x1 convolution."""
    d = 2**40
    x = make(rng, (2, 3, 7), dtype, integer=True)
    w = make(rng, (6, 3, 3), dtype, integer=True)
    x_in = np.ascontiguousarray(np.moveaxis(x, 1, -1)) if layout == "channels_last" else x

    def channels_first(y):
        return np.moveaxis(y, -1, 1) if layout == "channels_last" else y

    with untouched(x_in, w):
        for padding, tap in (("same", 1), ("causal", 2)):
            got = channels_first(convx.conv1d(x_in, w, padding=padding, dilation=d, layout=layout))
            np.testing.assert_array_equal(got, ref_conv(x, w[:, :, tap:tap + 1]).astype(dtype))
            got = channels_first(convx.depthwise_conv1d(x_in, w[:, :1], padding=padding, dilation=d, layout=layout))
            np.testing.assert_array_equal(got, ref_conv(x, w[:, :1, tap:tap + 1], groups=3).astype(dtype))
