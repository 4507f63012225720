"""Hypothesis strategies for random convx calls, shared by tests/test_properties.py and the fuzz
target tools/fuzz.py.

``valid_calls()`` draws a valid call of any public function (any family, 1-3 spatial axes,
groups, strides, dilations, every padding form and mode, both layouts, zero-length batch and
channel axes, integer-valued data so the reference must match bit for bit) as a
``helpers.Case``. ``invalid_calls()`` draws a valid call and spoils one argument with a value
that is wrong whatever the rest of the call is.
"""

import inspect

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import convx
from helpers import FAMILIES, LAYOUTS, PADDING_MODES, Case, family_nd, to_layout
from reference import ref_conv, ref_conv_transpose, ref_pointwise, ref_separable, resolve_padding

#: Result dtypes drawn for the data, with the input sometimes of a promoted kind.
DTYPES = [np.float32, np.float64]
INPUT_DTYPES = DTYPES + [np.float16, np.int8, np.bool_]


@st.composite
def _array(draw, shape, dtype):
    """Integer-valued data in [-3, 3] (bool: 0/1), so every sum is exact; sometimes in an odd
    memory order (reversed, Fortran, byte-swapped)."""
    if np.dtype(dtype) == np.bool_:
        data = draw(hnp.arrays(np.bool_, shape))
    else:
        data = draw(hnp.arrays(dtype, shape, elements=st.integers(-3, 3).map(dtype)))
    memory = draw(st.sampled_from(["plain", "plain", "reversed", "fortran", "byteswapped"]))
    if memory == "reversed":
        flipped = (slice(None, None, -1),) * data.ndim
        data = data[flipped].copy()[flipped]
    elif memory == "fortran":
        data = np.asfortranarray(data)
    elif memory == "byteswapped" and data.dtype.itemsize > 1:
        data = data.astype(data.dtype.newbyteorder("S"))
    return data


@st.composite
def _forward_axis(draw, padding_kind):
    """One spatial axis of a forward convolution: (size, kernel, stride, dilation, pads or None)."""
    kernel, stride, dilation = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    span = (kernel - 1) * dilation + 1
    pads = None
    if padding_kind == "explicit":
        pads = (draw(st.integers(0, 5)), draw(st.integers(0, 5)))
    if padding_kind == "explicit":
        need = max(1, span - sum(pads))
    else:  # 'valid' needs the whole span inside the input; 'same' and 'causal' pad enough for any size
        need = span if padding_kind == "valid" else 1
    size = draw(st.integers(need, need + 6))
    return size, kernel, stride, dilation, pads


@st.composite
def _forward_geometry(draw, nd):
    """Sizes, kernel, stride, dilation and a padding argument (int, pairs or string) that fit."""
    kind = draw(st.sampled_from(["explicit", "valid", "same"] + (["causal"] if nd == 1 else [])))
    axes = [draw(_forward_axis(kind)) for _ in range(nd)]
    sizes, kernel, stride, dilation, pads = (tuple(v) for v in zip(*axes))
    if kind == "explicit":
        padding = list(pads)
        if all(p[0] == p[1] for p in pads) and draw(st.booleans()):
            padding = [p[0] for p in pads]  # one int per axis
            if len(set(padding)) == 1 and draw(st.booleans()):
                padding = padding[0]  # one int for all axes
    else:
        padding = kind
    return sizes, kernel, stride, dilation, padding


def _maybe_bias(draw, channels, dtype):
    return draw(_array((channels,), dtype)) if draw(st.booleans()) else None


@st.composite
def valid_calls(draw):
    """A valid call of a random public function, as a helpers.Case with its reference."""
    name = draw(st.sampled_from(FAMILIES))
    nd = family_nd(name)
    dtype = draw(st.sampled_from(DTYPES))
    x_dtype = draw(st.sampled_from(INPUT_DTYPES)) if draw(st.integers(0, 4)) == 0 else dtype
    layout = draw(st.sampled_from(LAYOUTS))
    batch = draw(st.integers(0, 2))
    kwargs = {"layout": layout}

    if name == "pointwise_conv":
        spatial = tuple(draw(st.lists(st.integers(1, 5), min_size=0, max_size=3)))
        c_in, c_out = draw(st.integers(0, 5)), draw(st.integers(0, 5))
        x = draw(_array((batch, c_in) + spatial, x_dtype))
        w = draw(_array((c_out, c_in) + (1,) * len(spatial) * draw(st.integers(0, 1)), dtype))
        args, names = [x, w, _maybe_bias(draw, c_out, dtype)], ["input", "weight", "bias"]

        def reference(x, w, b):
            return ref_pointwise(x, w, b)

    elif name.startswith("conv_transpose"):
        groups = draw(st.integers(1, 3))
        c_in, c_out_g = groups * draw(st.integers(0, 2)), draw(st.integers(0, 3))
        sizes, kernel, stride, dilation, out_pad, pads = [], [], [], [], [], []
        for _ in range(nd):
            n, k, s, d = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
            op = draw(st.integers(0, max(s, d) - 1))
            full = (n - 1) * s + d * (k - 1) + op + 1
            before = draw(st.integers(0, full - 1))
            after = draw(st.integers(0, full - 1 - before))
            for values, v in ((sizes, n), (kernel, k), (stride, s), (dilation, d), (out_pad, op), (pads, (before, after))):
                values.append(v)
        x = draw(_array((batch, c_in) + tuple(sizes), x_dtype))
        w = draw(_array((c_in, c_out_g) + tuple(kernel), dtype))
        kwargs.update(stride=tuple(stride), padding=pads, output_padding=tuple(out_pad), groups=groups,
                      dilation=tuple(dilation))
        args, names = [x, w, _maybe_bias(draw, groups * c_out_g, dtype)], ["input", "weight", "bias"]

        def reference(x, w, b):
            return ref_conv_transpose(x, w, b, kwargs["stride"], pads, kwargs["output_padding"], groups,
                                      kwargs["dilation"])

    else:
        sizes, kernel, stride, dilation, padding = draw(_forward_geometry(nd))
        mode = draw(st.sampled_from(PADDING_MODES))
        kwargs.update(stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
        pads = resolve_padding(padding, sizes, kernel, stride, dilation)
        if name.startswith("conv"):
            groups = draw(st.integers(1, 3))
            c_in, c_out = groups * draw(st.integers(0, 2)), groups * draw(st.integers(0, 2))
            kwargs["groups"] = groups
            x = draw(_array((batch, c_in) + sizes, x_dtype))
            w = draw(_array((c_out, c_in // groups) + kernel, dtype))
            args, names = [x, w, _maybe_bias(draw, c_out, dtype)], ["input", "weight", "bias"]

            def reference(x, w, b):
                return ref_conv(x, w, b, stride, pads, dilation, groups, mode)

        else:  # depthwise and separable: C >= 1 channels, depth multiplier M
            channels, multiplier = draw(st.integers(1, 4)), draw(st.integers(1, 3))
            x = draw(_array((batch, channels) + sizes, x_dtype))
            dw = draw(_array((channels * multiplier, 1) + kernel, dtype))
            if name.startswith("depthwise"):
                args, names = [x, dw, _maybe_bias(draw, channels * multiplier, dtype)], ["input", "weight", "bias"]

                def reference(x, w, b):
                    return ref_conv(x, w, b, stride, pads, dilation, x.shape[1], mode)

            else:
                c_out = draw(st.integers(0, 4))
                pw = draw(_array((c_out, channels * multiplier) + (1,) * nd * draw(st.integers(0, 1)), dtype))
                args = [x, dw, pw, _maybe_bias(draw, c_out, dtype)]
                names = ["input", "depthwise_weight", "pointwise_weight", "bias"]

                def reference(x, dw, pw, b):
                    return ref_separable(x, dw, pw, b, stride, pads, dilation, mode)

    args[0] = to_layout(args[0], layout) if args[0].ndim > 2 else args[0]
    return Case(name, args, names, kwargs, reference, layout)


def _bad_values(case):
    """(parameter, value) pairs that are wrong for this call whatever its other arguments."""
    nd = family_nd(case.name)
    name = case.name
    ints = [0, -1, -2**63, 2**63, 2**64 + 1, 1.5, "2", None, True, b"\x01", [1] * (nd + 1), {1}]
    bad = [("stride", v) for v in ints] + [("dilation", v) for v in ints]
    bad += [("padding", v) for v in (-1, -2**63, 2**63, "full", "SAME", 1.5, None, b"\x01", [(1, 2, 3)] * nd,
                                     [(0, -1)] * nd, [1] * (nd + 2))]
    bad += [("layout", v) for v in ("NHWC", "", None, 1)]
    bad += [("num_threads", v) for v in (0, 1.5, "1", [2])]
    if name == "pointwise_conv":
        bad = [(p, v) for p, v in bad if p in ("layout", "num_threads")]
    if name.startswith("conv"):  # conv and conv_transpose
        bad += [("groups", v) for v in (0, -1, -2**63, 2**63, 1.5, "1", None, True)]
    if name.startswith("conv_transpose"):
        bad += [("output_padding", v) for v in (-1, 1.5, 2**63, [0] * (nd + 1))]
        bad += [("padding", "same")]
    elif name != "pointwise_conv":
        bad += [("padding_mode", v) for v in ("ZEROS", "", None, 0)]
    return bad


@st.composite
def invalid_calls(draw):
    """(case, args, kwargs, parameter spoiled): a valid call with one argument made wrong."""
    case = draw(valid_calls())
    args, kwargs = list(case.args), dict(case.kwargs)
    choices = [("kw", p, v) for p, v in _bad_values(case)]
    bias_at = len(args) - 1
    expected = case.reference()
    c_out = expected.shape[-1 if case.layout == "channels_last" else 1]
    choices += [("arg", bias_at, v) for v in (np.ones(c_out + 1), np.ones((c_out, 1)), np.ones(c_out, complex),
                                              "bias", [[1.0], [1.0, 2.0]])]
    choices += [("arg", 0, v) for v in (None, np.ones(args[0].shape, complex), np.empty(args[0].shape, object),
                                        np.zeros(args[0].shape, "U1"))]
    choices += [("arg", 1, args[1].astype(complex)), ("kw", "out", np.zeros(3)), ("kw", "out", [0.0]),
                ("kw", "out", np.zeros(expected.shape, np.int32))]
    if case.name != "pointwise_conv":
        choices += [("arg", 0, args[0][..., None]), ("arg", 1, args[1][..., :0]), ("arg", 1, args[1][..., 0])]
    where, key, value = draw(st.sampled_from(choices))
    if where == "kw":
        kwargs[key] = value
        param = key
    else:
        args[key] = value
        param = case.names[key]
    return case, args, kwargs, param


# --- anything at all (the fuzz target): every argument drawn from a wide pool ------------------

# no sizes in between: a valid call must either be small or far beyond what can be allocated
WILD_INTS = st.one_of(st.integers(-3, 9), st.sampled_from([2**62, 2**63, -2**63, 2**100]))
WILD_SCALARS = st.one_of(WILD_INTS, st.sampled_from([None, True, 1.5, float("nan"), "same", "valid", "causal", "full",
                                                     b"\x01", 1j, np.int8(-1), np.float32(2)]))
WILD_VALUES = st.one_of(WILD_SCALARS, st.lists(WILD_SCALARS, max_size=4).map(tuple),
                        st.lists(st.lists(WILD_INTS, max_size=3).map(tuple), max_size=4))
WILD_DTYPES = [np.float32, np.float64, np.float16, np.int64, np.uint8, np.bool_, np.complex64, object, "U1",
               ">f4", ">f8"]


@st.composite
def _wild_array(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=0, max_size=6)))
    dtype = np.dtype(draw(st.sampled_from(WILD_DTYPES)))
    if dtype.kind in "OU":
        return np.zeros(shape, dtype)
    if dtype.kind in "bu":
        return draw(hnp.arrays(dtype, shape))
    return draw(hnp.arrays(dtype, shape, elements=st.integers(-3, 3).map(dtype.type)))


@st.composite
def wild_calls(draw):
    """(function name, args, kwargs): a valid call with some arguments (each with chance 1/4)
    and up to 3 keywords replaced by values of any kind."""
    case = draw(valid_calls())
    args = [draw(st.one_of(_wild_array(), WILD_VALUES)) if draw(st.integers(0, 3)) == 0 else a for a in case.args]
    parameters = list(inspect.signature(case.fn).parameters)[len(args):]  # those after the arrays
    kwargs = dict(case.kwargs)
    for keyword in draw(st.lists(st.sampled_from(parameters), unique=True, max_size=3)):
        kwargs[keyword] = draw(st.one_of(_wild_array(), WILD_VALUES) if keyword == "out" else WILD_VALUES)
    return case.name, args, kwargs
