"""Every error path of the spec: exception type and a message naming the parameter.

Messages must contain the quoted parameter name, e.g. "The 'stride' parameter of conv2d must be
positive integers. Got (1, 0) instead."  (Bad out= arrays and bad dtypes are tested in
test_api.py next to the behaviour they guard.)
"""

import re

import numpy as np
import pytest

import convx
from helpers import (
    FAMILIES,
    MODE_FAMILIES,
    STRIDED_FAMILIES,
    TRANSPOSE_FAMILIES,
    family_nd,
    make_case,
)

CONV_AND_TRANSPOSE = ["conv1d", "conv2d", "conv3d"] + TRANSPOSE_FAMILIES


def a(*shape):
    return np.ones(shape, np.float32)


def _raises(exc, param, fn, *args, **kwargs):
    """Call and check the exception type and that the message names ``param`` (regex alt.)."""
    with pytest.raises(exc, match=param) as info:
        fn(*args, **kwargs)
    return info


# =============================================================================================
# integer-tuple parameters: stride, dilation


def _per_axis_bad(nd):
    return {
        "zero": (0, ValueError),
        "negative": (-1, ValueError),
        "last_axis_zero": ((1,) * (nd - 1) + (0,), ValueError),
        "first_axis_negative": ((-2,) + (1,) * (nd - 1), ValueError),
        "too_many_values": ((1,) * (nd + 1), ValueError),
        "too_few_values": ((1,) * (nd - 1), ValueError) if nd > 1 else ((), ValueError),
        "float": (1.5, TypeError),
        "float_in_tuple": ((1.5,) + (1,) * (nd - 1), TypeError),
        "string": ("a", TypeError),
        "none": (None, TypeError),
    }


BAD_KINDS = list(_per_axis_bad(2))


@pytest.mark.parametrize("param", ["stride", "dilation"])
@pytest.mark.parametrize("kind", BAD_KINDS)
@pytest.mark.parametrize("name", STRIDED_FAMILIES)
def test_bad_stride_dilation(rng, param, kind, name):
    case = make_case(name, rng)
    value, exc = _per_axis_bad(family_nd(name))[kind]
    _raises(exc, f"'{param}'", case, **{param: value})


@pytest.mark.parametrize("name", STRIDED_FAMILIES)
def test_message_names_parameter_and_function(rng, name):
    """The spec's message form: "The 'stride' parameter of conv2d must be ... Got ... instead."."""
    case = make_case(name, rng)
    nd = family_nd(name)
    bad = (1,) * (nd - 1) + (0,)
    with pytest.raises(ValueError) as info:
        case(stride=bad)
    msg = str(info.value)
    assert "'stride'" in msg
    assert name in msg, msg
    assert "Got" in msg and "0" in msg, msg


# =============================================================================================
# padding


def _bad_padding(nd, transposed):
    cases = {
        "negative": (-1, ValueError),
        "negative_per_axis": ((1,) * (nd - 1) + (-1,), ValueError),
        "negative_pair": (((0, -1),) + ((0, 0),) * (nd - 1), ValueError),
        "too_many_values": ((1,) * (nd + 2), ValueError),
        "pair_of_three": (((1, 1, 1),) * nd, (ValueError, TypeError)),
        "float": (1.5, TypeError),
        "unknown_string": ("full", ValueError),
    }
    if transposed:
        cases["unknown_string"] = ("full", (ValueError, TypeError))
        cases["string_same"] = ("same", (ValueError, TypeError))
        cases["string_valid"] = ("valid", (ValueError, TypeError))
    return cases


@pytest.mark.parametrize("kind", list(_bad_padding(2, True)))
@pytest.mark.parametrize("name", STRIDED_FAMILIES)
def test_bad_padding(rng, kind, name):
    transposed = name.startswith("conv_transpose")
    cases = _bad_padding(family_nd(name), transposed)
    if kind not in cases:
        # string paddings are valid for non-transposed functions: they must work
        case = make_case(name, rng)
        assert case(padding=kind.split("_")[1]).ndim == case.args[0].ndim
        return
    value, exc = cases[kind]
    _raises(exc, "'padding'", make_case(name, rng), padding=value)


@pytest.mark.parametrize("name", ["conv2d", "conv3d", "depthwise_conv2d", "separable_conv2d"]
                         + TRANSPOSE_FAMILIES)
def test_causal_only_for_1d(rng, name):
    exc = (ValueError, TypeError) if name.startswith("conv_transpose") else ValueError
    _raises(exc, "'padding'", make_case(name, rng), padding="causal")


@pytest.mark.parametrize("name", ["conv1d", "depthwise_conv1d", "separable_conv1d"])
def test_causal_is_fine_for_1d(rng, name):
    case = make_case(name, rng)
    assert case(padding="causal").shape[-1] == -(-case.args[0].shape[-1] // case.kwargs["stride"])


# =============================================================================================
# groups


@pytest.mark.parametrize("value, exc", [(0, ValueError), (-1, ValueError), (-3, ValueError),
                                        (1.5, TypeError), ("2", TypeError), (None, TypeError)])
@pytest.mark.parametrize("name", CONV_AND_TRANSPOSE)
def test_bad_groups_value(rng, name, value, exc):
    _raises(exc, "'groups'", make_case(name, rng), groups=value)


@pytest.mark.parametrize("name", CONV_AND_TRANSPOSE)
def test_groups_not_dividing_input_channels(rng, name):
    nd = family_nd(name)
    x = a(1, 3, *(5,) * nd)
    w = a(3, 1, *(2,) * nd)  # conv: C_out=3, C_in/g=1; transpose: C_in=3, C_out/g=1
    _raises(ValueError, "'groups'", getattr(convx, name), x, w, groups=2)


@pytest.mark.parametrize("name", ["conv1d", "conv2d", "conv3d"])
def test_groups_not_dividing_output_channels(rng, name):
    nd = family_nd(name)
    x = a(1, 4, *(5,) * nd)
    w = a(5, 2, *(2,) * nd)
    # C_out = 5 is not a multiple of groups: the weight's first axis or groups is to blame
    _raises(ValueError, "'groups'|'weight'", getattr(convx, name), x, w, groups=2)


# =============================================================================================
# shapes of input / weight / bias

W_OR_X = r"'weight'|'input'"
W_X_G = r"'weight'|'input'|'groups'"
FIT = r"'(input|weight|padding|dilation)'"

SHAPE_ERRORS = [
    # conv
    ("conv1d", (a(3, 10), a(4, 3, 3)), {}, "'input'"),
    ("conv1d", (a(10), a(4, 3, 3)), {}, "'input'"),
    ("conv1d", (a(1, 3, 10, 2), a(4, 3, 3)), {}, "'input'"),
    ("conv2d", (a(1, 3, 8), a(4, 3, 3, 3)), {}, "'input'"),
    ("conv3d", (a(1, 3, 8, 8), a(4, 3, 3, 3, 3)), {}, "'input'"),
    ("conv2d", (a(1, 3, 8, 8), a(4, 3, 3)), {}, "'weight'"),
    ("conv2d", (a(1, 3, 8, 8), a(4, 3, 3, 3, 3)), {}, "'weight'"),
    ("conv1d", (a(1, 3, 8), a(4, 2, 3)), {}, W_OR_X),
    ("conv2d", (a(1, 3, 8, 8), a(4, 2, 3, 3)), {}, W_OR_X),
    ("conv2d", (a(1, 4, 8, 8), a(4, 4, 3, 3)), dict(groups=2), W_X_G),
    ("conv3d", (a(1, 3, 4, 4, 4), a(4, 4, 2, 2, 2)), {}, W_OR_X),
    ("conv1d", (a(1, 3, 8), a(4, 3, 0)), {}, "'weight'"),
    ("conv2d", (a(1, 3, 8, 8), a(4, 3, 3, 0)), {}, "'weight'"),
    ("conv3d", (a(1, 3, 4, 4, 4), a(4, 3, 0, 2, 2)), {}, "'weight'"),
    ("conv1d", (a(1, 3, 8), a(4, 3, 3), a(5)), {}, "'bias'"),
    ("conv1d", (a(1, 3, 8), a(4, 3, 3), a(3)), {}, "'bias'"),
    ("conv2d", (a(1, 3, 8, 8), a(4, 3, 3, 3), a(1, 4)), {}, "'bias'"),
    ("conv2d", (a(1, 3, 8, 8), a(4, 3, 3, 3), np.float32(1.0)), {}, "'bias'"),
    ("conv3d", (a(1, 3, 4, 4, 4), a(4, 3, 2, 2, 2), a(4, 1)), {}, "'bias'"),
    # kernel does not fit the (padded) input
    ("conv1d", (a(1, 3, 2), a(4, 3, 5)), {}, FIT),
    ("conv1d", (a(1, 3, 2), a(4, 3, 5)), dict(padding=1), FIT),
    ("conv1d", (a(1, 3, 5), a(4, 3, 2)), dict(dilation=5), FIT),
    ("conv1d", (a(1, 3, 0), a(4, 3, 1)), {}, FIT),
    ("conv2d", (a(1, 3, 8, 2), a(4, 3, 3, 3)), {}, FIT),
    ("conv2d", (a(1, 3, 8, 2), a(4, 3, 3, 3)), dict(padding="valid"), FIT),
    ("conv2d", (a(1, 3, 8, 8), a(4, 3, 3, 3)), dict(dilation=(1, 4)), FIT),
    ("conv3d", (a(1, 3, 4, 4, 1), a(4, 3, 2, 2, 2)), {}, FIT),
    # depthwise
    ("depthwise_conv1d", (a(3, 10), a(3, 1, 3)), {}, "'input'"),
    ("depthwise_conv2d", (a(1, 3, 8), a(3, 1, 3, 3)), {}, "'input'"),
    ("depthwise_conv1d", (a(1, 3, 10), a(6, 2, 3)), {}, "'weight'"),
    ("depthwise_conv1d", (a(1, 3, 10), a(4, 1, 3)), {}, "'weight'"),
    ("depthwise_conv2d", (a(1, 3, 8, 8), a(3, 1, 3)), {}, "'weight'"),
    ("depthwise_conv2d", (a(1, 3, 8, 8), a(7, 1, 3, 3)), {}, "'weight'"),
    ("depthwise_conv1d", (a(1, 3, 10), a(3, 1, 0)), {}, "'weight'"),
    ("depthwise_conv1d", (a(1, 3, 10), a(6, 1, 3), a(3)), {}, "'bias'"),
    ("depthwise_conv2d", (a(1, 3, 8, 8), a(3, 1, 3, 3), a(3, 1)), {}, "'bias'"),
    ("depthwise_conv1d", (a(1, 3, 2), a(3, 1, 5)), {}, FIT),
    ("depthwise_conv2d", (a(1, 3, 8, 8), a(3, 1, 3, 3)), dict(dilation=4), FIT),
    # separable
    ("separable_conv1d", (a(3, 10), a(3, 1, 3), a(5, 3)), {}, "'input'"),
    ("separable_conv1d", (a(1, 3, 10), a(4, 1, 3), a(5, 4)), {}, "'depthwise_weight'"),
    ("separable_conv1d", (a(1, 3, 10), a(3, 2, 3), a(5, 3)), {}, "'depthwise_weight'"),
    ("separable_conv1d", (a(1, 3, 10), a(3, 1, 0), a(5, 3)), {}, "'depthwise_weight'"),
    ("separable_conv2d", (a(1, 3, 8, 8), a(3, 1, 3), a(5, 3)), {}, "'depthwise_weight'"),
    ("separable_conv1d", (a(1, 3, 10), a(6, 1, 3), a(5, 3)), {}, "'pointwise_weight'"),
    ("separable_conv1d", (a(1, 3, 10), a(3, 1, 3), a(5, 3, 2)), {}, "'pointwise_weight'"),
    ("separable_conv1d", (a(1, 3, 10), a(3, 1, 3), a(5)), {}, "'pointwise_weight'"),
    ("separable_conv2d", (a(1, 3, 8, 8), a(3, 1, 3, 3), a(5, 3, 1, 2)), {}, "'pointwise_weight'"),
    ("separable_conv2d", (a(1, 3, 8, 8), a(3, 1, 3, 3), a(5, 3, 1, 1, 1)), {}, "'pointwise_weight'"),
    ("separable_conv1d", (a(1, 3, 10), a(3, 1, 3), a(5, 3), a(4)), {}, "'bias'"),
    ("separable_conv2d", (a(1, 3, 8, 8), a(6, 1, 3, 3), a(5, 6), a(6)), {}, "'bias'"),
    ("separable_conv1d", (a(1, 3, 2), a(3, 1, 5), a(5, 3)), {},
     r"'(input|depthwise_weight|padding|dilation)'"),
    # pointwise
    ("pointwise_conv", (a(3), a(4, 3)), {}, "'input'"),
    ("pointwise_conv", (a(2, 3, 5), a(4, 2)), {}, W_OR_X),
    ("pointwise_conv", (a(2, 3, 5), a(4)), {}, "'weight'"),
    ("pointwise_conv", (a(2, 3, 5), a(4, 3, 3)), {}, "'weight'"),
    ("pointwise_conv", (a(2, 3, 5, 5), a(4, 3, 1)), {}, "'weight'"),
    ("pointwise_conv", (a(2, 3, 5, 5), a(4, 3, 1, 2)), {}, "'weight'"),
    ("pointwise_conv", (a(2, 3, 5), a(4, 3), a(3)), {}, "'bias'"),
    ("pointwise_conv", (a(2, 3, 5), a(4, 3), a(4, 1)), {}, "'bias'"),
    # transposed
    ("conv_transpose1d", (a(3, 5), a(3, 2, 3)), {}, "'input'"),
    ("conv_transpose2d", (a(1, 3, 5), a(3, 2, 3, 3)), {}, "'input'"),
    ("conv_transpose2d", (a(1, 3, 5, 5), a(3, 2, 3)), {}, "'weight'"),
    ("conv_transpose1d", (a(1, 3, 5), a(4, 2, 3)), {}, W_OR_X),
    ("conv_transpose3d", (a(1, 3, 2, 2, 2), a(2, 2, 2, 2, 2)), {}, W_OR_X),
    ("conv_transpose1d", (a(1, 3, 5), a(3, 2, 0)), {}, "'weight'"),
    ("conv_transpose2d", (a(1, 3, 5, 5), a(3, 2, 0, 3)), {}, "'weight'"),
    ("conv_transpose1d", (a(1, 3, 5), a(3, 2, 3), a(3)), {}, "'bias'"),
    ("conv_transpose1d", (a(1, 4, 5), a(4, 2, 3), a(2)), dict(groups=2), "'bias'"),
    ("conv_transpose1d", (a(1, 1, 1), a(1, 1, 1)), dict(padding=1),
     r"'(input|weight|padding|output_padding)'"),
    ("conv_transpose2d", (a(1, 1, 2, 1), a(1, 1, 2, 2)), dict(padding=((0, 0), (2, 1))),
     r"'(input|weight|padding|output_padding)'"),
]


@pytest.mark.parametrize("name, args, kwargs, match", SHAPE_ERRORS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SHAPE_ERRORS)])
def test_shape_errors(name, args, kwargs, match):
    _raises(ValueError, match, getattr(convx, name), *args, **kwargs)


# =============================================================================================
# output_padding


@pytest.mark.parametrize("name, x, w, kwargs, exc", [
    ("conv_transpose1d", a(1, 2, 5), a(2, 2, 3), dict(stride=2, output_padding=2), ValueError),
    ("conv_transpose1d", a(1, 2, 5), a(2, 2, 3), dict(stride=1, output_padding=1), ValueError),
    ("conv_transpose1d", a(1, 2, 5), a(2, 2, 3), dict(stride=1, dilation=2, output_padding=2),
     ValueError),
    ("conv_transpose1d", a(1, 2, 5), a(2, 2, 3), dict(stride=2, output_padding=-1), ValueError),
    ("conv_transpose1d", a(1, 2, 5), a(2, 2, 3), dict(stride=2, output_padding=(1, 1)), ValueError),
    ("conv_transpose1d", a(1, 2, 5), a(2, 2, 3), dict(stride=2, output_padding=0.5), TypeError),
    ("conv_transpose1d", a(1, 2, 5), a(2, 2, 3), dict(stride=2, output_padding="1"), TypeError),
    ("conv_transpose2d", a(1, 2, 5, 5), a(2, 2, 3, 3), dict(stride=(2, 1), output_padding=(1, 1)),
     ValueError),
    ("conv_transpose2d", a(1, 2, 5, 5), a(2, 2, 3, 3), dict(stride=3, output_padding=(2, 3)),
     ValueError),
    ("conv_transpose3d", a(1, 2, 3, 3, 3), a(2, 2, 2, 2, 2),
     dict(stride=2, output_padding=(1, 1, -1)), ValueError),
    ("conv_transpose3d", a(1, 2, 3, 3, 3), a(2, 2, 2, 2, 2), dict(stride=2, output_padding=2),
     ValueError),
])
def test_bad_output_padding(name, x, w, kwargs, exc):
    _raises(exc, "'output_padding'", getattr(convx, name), x, w, **kwargs)


def test_output_padding_limit_uses_max_of_stride_and_dilation():
    # op = 2 < max(1, 3): allowed; op = 3: not
    assert convx.conv_transpose1d(a(1, 2, 5), a(2, 2, 3), dilation=3, output_padding=2).shape == \
        (1, 2, 5 - 1 + 3 * 2 + 2 + 1)
    _raises(ValueError, "'output_padding'", convx.conv_transpose1d, a(1, 2, 5), a(2, 2, 3),
            dilation=3, output_padding=3)


# =============================================================================================
# padding_mode, layout, num_threads


@pytest.mark.parametrize("value, exc", [("foo", ValueError), ("zero", ValueError),
                                        ("", ValueError), (None, (TypeError, ValueError)),
                                        (0, (TypeError, ValueError))])
@pytest.mark.parametrize("name", MODE_FAMILIES)
def test_bad_padding_mode(rng, name, value, exc):
    _raises(exc, "'padding_mode'", make_case(name, rng), padding_mode=value)


@pytest.mark.parametrize("name", TRANSPOSE_FAMILIES + ["pointwise_conv"])
def test_no_padding_mode_keyword(rng, name):
    with pytest.raises(TypeError, match="padding_mode"):
        make_case(name, rng)(padding_mode="zeros")


@pytest.mark.parametrize("value, exc", [("NHWC", ValueError), ("channels-last", ValueError),
                                        ("", ValueError), (None, (TypeError, ValueError)),
                                        (1, (TypeError, ValueError))])
@pytest.mark.parametrize("name", FAMILIES)
def test_bad_layout(rng, name, value, exc):
    _raises(exc, "'layout'", make_case(name, rng), layout=value)


@pytest.mark.parametrize("value, exc", [(0, ValueError), (1.5, TypeError), (2.0, TypeError),
                                        ("2", TypeError), ([2], TypeError)])
@pytest.mark.parametrize("name", FAMILIES)
def test_bad_num_threads(rng, name, value, exc):
    _raises(exc, "'num_threads'", make_case(name, rng), num_threads=value)


POSITIONAL = {
    # the parameters after the arrays, in spec order, with non-default values
    "conv": dict(stride=2, padding=1, dilation=2, groups=1),
    "depthwise": dict(stride=2, padding=1, dilation=2),
    "separable": dict(stride=2, padding=1, dilation=2),
    "pointwise": {},
    "conv_transpose": dict(stride=2, padding=1, output_padding=1, groups=1, dilation=2),
}


def _kind(name):
    if name.startswith("conv_transpose"):
        return "conv_transpose"
    if name.startswith("conv"):
        return "conv"
    return name.split("_")[0]


@pytest.mark.parametrize("name", FAMILIES)
def test_positional_order_and_keyword_only_options(rng, name):
    """Positional parameters follow torch's order; padding_mode/layout/out/num_threads are
    keyword-only."""
    case = make_case(name, rng)
    params = POSITIONAL[_kind(name)]
    by_keyword = case.fn(*case.args, **params)
    by_position = case.fn(*case.args, *params.values())
    np.testing.assert_array_equal(by_position, by_keyword)
    with pytest.raises(TypeError):
        case.fn(*case.args, *params.values(), "zeros" if name in MODE_FAMILIES else
                "channels_first")


# =============================================================================================
# None / object arrays as arrays


@pytest.mark.parametrize("name", FAMILIES)
def test_none_input_or_weight(rng, name):
    case = make_case(name, rng)
    args = list(case.args)
    _raises(TypeError, "'input'", case.fn, None, *args[1:], **case.kwargs)
    _raises(TypeError, f"'{case.names[1]}'", case.fn, args[0], None, *args[2:], **case.kwargs)


# =============================================================================================
# int64 overflow


@pytest.mark.parametrize("fn, args, kwargs", [
    (convx.conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(padding=2 ** 62)),
    (convx.conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(padding=((2 ** 63 - 1, 2 ** 63 - 1),))),
    (convx.conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(padding=2 ** 63)),
    (convx.conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(padding=2 ** 64 + 1)),
    (convx.conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(dilation=2 ** 62)),
    (convx.conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(dilation=2 ** 64)),
    (convx.conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(stride=2 ** 64)),
    (convx.conv2d, (a(1, 1, 4, 4), a(1, 1, 3, 3)), dict(padding=(0, 2 ** 62))),
    (convx.depthwise_conv1d, (a(1, 1, 4), a(1, 1, 3)), dict(padding=2 ** 62)),
    (convx.separable_conv1d, (a(1, 1, 4), a(1, 1, 3), a(1, 1)), dict(dilation=2 ** 62)),
    (convx.conv_transpose1d, (a(1, 1, 4), a(1, 1, 3)), dict(stride=2 ** 62)),
    (convx.conv_transpose1d, (a(1, 1, 4), a(1, 1, 3)), dict(dilation=2 ** 62)),
    (convx.conv_transpose1d, (a(1, 1, 4), a(1, 1, 3)), dict(stride=2 ** 63)),
    (convx.conv_output_shape, ((1, 1, 2 ** 62), (1, 1, 3)), dict(padding=2 ** 62)),
    (convx.conv_output_shape, ((1, 1, 2 ** 63), (1, 1, 3)), {}),
    (convx.conv_output_shape, ((1, 1, 4), (1, 1, 2 ** 63)), {}),
    (convx.conv_output_shape, ((1, 1, 2 ** 62), (1, 1, 3)), dict(transposed=True, stride=4)),
])
def test_int64_overflow_is_value_error(fn, args, kwargs):
    """A ValueError (not OverflowError, not a crash) whose message names the function or the
    parameter at fault."""
    with pytest.raises(ValueError, match=rf"{fn.__name__}|'\w+'"):
        fn(*args, **kwargs)


# =============================================================================================
# conv_output_shape, param_count


@pytest.mark.parametrize("args, kwargs, match", [
    (((1, 3, 8), (4, 3, 3)), dict(stride=0), "'stride'"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), dict(stride=(1, 0)), "'stride'"),
    (((1, 3, 8), (4, 3, 3)), dict(dilation=-1), "'dilation'"),
    (((1, 3, 8), (4, 3, 3)), dict(padding=-1), "'padding'"),
    (((1, 3, 8), (4, 3, 3)), dict(padding="full"), "'padding'"),
    (((1, 3, 8, 8), (4, 3, 3, 3)), dict(padding="causal"), "'padding'"),
    (((1, 4, 8), (4, 2, 3)), dict(groups=3), "'groups'"),
    (((1, 4, 8), (4, 2, 3)), dict(groups=0), "'groups'"),
    (((1, 3, 8), (4, 2, 3)), {}, r"'(weight_shape|input_shape|weight|input)'"),
    (((1, 3, 8), (4, 3, 3, 3)), {}, r"'(weight_shape|input_shape|weight|input)'"),
    (((1, 3), (4, 3)), {}, r"'(input_shape|input)'"),
    (((1, 3, 2), (4, 3, 5)), {}, r"'(input_shape|weight_shape|input|weight|padding|dilation)'"),
    (((1, 3, 8), (4, 3, 0)), {}, r"'(weight_shape|weight)'"),
    (((1, 3, 8), (4, 3, 3)), dict(layout="NHWC"), "'layout'"),
    (((1, 3, 8), (3, 2, 3)), dict(transposed=True, stride=2, output_padding=2), "'output_padding'"),
    (((1, 3, 8), (3, 2, 3)), dict(transposed=True, output_padding=-1), "'output_padding'"),
    (((1, 3, 8), (3, 2, 3)), dict(transposed=True, groups=2), "'groups'"),
    (((1, 3, 8), (4, 2, 3)), dict(transposed=True), r"'(weight_shape|input_shape|weight|input)'"),
])
def test_conv_output_shape_errors(args, kwargs, match):
    _raises(ValueError, match, convx.conv_output_shape, *args, **kwargs)


def test_conv_output_shape_type_errors():
    _raises(TypeError, "'stride'", convx.conv_output_shape, (1, 3, 8), (4, 3, 3), stride=1.5)
    _raises((TypeError, ValueError), "'padding'", convx.conv_output_shape, (1, 3, 8), (3, 2, 3),
            padding="same", transposed=True)


@pytest.mark.parametrize("args, kwargs, exc, match", [
    ((16, 32, (3, 3)), dict(kind="foo"), ValueError, "'kind'"),
    ((16, 32, (3, 3)), dict(groups=3), ValueError, "'groups'"),
    ((16, 32, (3, 3)), dict(groups=0), ValueError, "'groups'"),
    ((16, 30, (3, 3)), dict(groups=4), ValueError, "'groups'"),
    ((16, 20, (3, 3)), dict(kind="depthwise"), ValueError, r"'(out_channels|in_channels|kind)'"),
    ((16, 32, (3, 3)), dict(kind="separable", depth_multiplier=0), ValueError,
     "'depth_multiplier'"),
    ((16, 32, (3, 0)), {}, ValueError, "'kernel_size'"),
    ((16, 32, -3), {}, ValueError, "'kernel_size'"),
    ((16, -1, (3, 3)), {}, ValueError, "'out_channels'"),
    ((16.0, 32, (3, 3)), {}, TypeError, "'in_channels'"),
    ((16, 32, (3, 1.5)), {}, TypeError, "'kernel_size'"),
])
def test_param_count_errors(args, kwargs, exc, match):
    _raises(exc, match, convx.param_count, *args, **kwargs)


def test_errors_do_not_depend_on_previous_failures(rng):
    """After a failed call the library still works (no sticky error state)."""
    case = make_case("conv2d", rng)
    good = case()
    with pytest.raises(ValueError):
        case(stride=0)
    with pytest.raises(ValueError):
        case(out=np.zeros(3, np.float32))
    np.testing.assert_array_equal(case(), good)
    assert re.search(r"\d", repr(good.shape))


def test_remembered_geometry_never_hides_a_bad_argument():
    """Checked geometries are remembered by their arguments; values Python calls equal to a
    remembered good one (2.0, True, '2' next to 2) must still be refused, and equal good spellings
    (np.int64, a list) still accepted with the same result."""
    x = np.ones((1, 2, 8, 8), np.float32)
    w = np.ones((2, 2, 3, 3), np.float32)
    expected = convx.conv2d(x, w, stride=2)
    for _ in range(2):
        for bad in (2.0, True, "2", (2, 2.0), [2.0, 2]):
            with pytest.raises(TypeError, match="'stride'"):
                convx.conv2d(x, w, stride=bad)
        for good in (2, (2, 2), [2, 2], np.int64(2)):
            np.testing.assert_array_equal(convx.conv2d(x, w, stride=good), expected)
    with pytest.raises(ValueError, match="'groups'"):
        convx.conv2d(x, w, groups=3)
    with pytest.raises(ValueError, match="'groups'"):
        convx.conv2d(x, w, groups=3)
