"""Property-based tests (hypothesis): random valid calls of every public function match the
reference bit for bit (integer-valued data) and leave their inputs alone; random invalid calls
raise ValueError or TypeError naming the spoiled parameter, never anything else; calls with
arguments of any kind either compute or raise ValueError or TypeError naming a parameter.

The strategies (tests/strategies.py) cover every family, 1-3 spatial axes, groups, strides,
dilations, every padding form and mode, both layouts, promoted input dtypes, odd memory orders
and zero-length batch and channel axes. The suite's hypothesis profile (conftest.py) keeps the
examples bounded and the same on every run; tools/fuzz.py runs the same properties on fresh
random examples for a given time.
"""

import re

import numpy as np
import pytest
from hypothesis import given

import convx
from helpers import untouched
from strategies import invalid_calls, valid_calls, wild_calls

PARAMETER_NAMED = re.compile(r"The '(\w+)' parameter of \w+ must be")
ENVIRONMENT_NAMED = re.compile(r"The CONVX_NUM_THREADS environment variable must be")


def check_valid_call(case):
    """The call gives the reference result, twice the same bits, and leaves its inputs alone."""
    with untouched(*case.args):
        got = case()
    expected = case.reference().astype(case.result_dtype())
    np.testing.assert_array_equal(got, expected, strict=True)
    np.testing.assert_array_equal(case(), got, strict=True)


def check_invalid_call(spoiled):
    """The call raises ValueError or TypeError naming the parameter that was spoiled."""
    case, args, kwargs, param = spoiled
    with untouched(*args, *kwargs.values()):
        with pytest.raises((ValueError, TypeError)) as info:
            case.fn(*args, **kwargs)
    named = PARAMETER_NAMED.search(str(info.value))
    assert named, f"the message names no parameter: {info.value}"
    assert named.group(1) == param, f"spoiled {param!r}, the message names {named.group(1)!r}: {info.value}"


def check_wild_call(call):
    """The call returns a float array, or raises ValueError or TypeError naming a parameter; its
    inputs are left alone. Returns "computed" or "rejected"."""
    name, args, kwargs = call
    with untouched(*args, *kwargs.values()):
        try:
            result = getattr(convx, name)(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            assert PARAMETER_NAMED.search(str(exc)) or ENVIRONMENT_NAMED.search(str(exc)), \
                f"{type(exc).__name__} naming no parameter: {exc}"
            return "rejected"
    assert isinstance(result, np.ndarray) and result.dtype in (np.float32, np.float64), result
    return "computed"


@given(valid_calls())
def test_random_valid_calls_match_reference(case):
    check_valid_call(case)


@given(invalid_calls())
def test_random_invalid_calls_raise_value_or_type_error(spoiled):
    check_invalid_call(spoiled)


@given(wild_calls())
def test_calls_with_arguments_of_any_kind(call):
    check_wild_call(call)
