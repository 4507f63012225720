"""The main job (python -m convx) runs, checks convx against NumPy and prints its table.
Only correctness and output are asserted here; speed is measured in benchmarks/, not in tests."""

import subprocess
import sys

import numpy as np
import pytest

from convx import _benchmark
from reference import ref_conv_transpose


def test_every_default_case_agrees_with_numpy_in_quick_mode():
    results = _benchmark.run(quick=True, repeat=1, progress=False)
    assert [r["name"] for r in results] == [c.name for c in _benchmark.DEFAULT_CASES]
    for r in results:
        assert r["numpy_ms"] > 0 and r["convx_ms"] > 0
        assert r["speedup"] == pytest.approx(r["numpy_ms"] / r["convx_ms"], rel=1e-6)


def test_families_cover_the_issue_list():
    names = " ".join(c.name for c in _benchmark.DEFAULT_CASES)
    for family in ("conv 3x3", "s2", "d2", "d4", "d8", "rgb", "depthwise 3x3", "depthwise 3x3 s2", "x2",
                   "separable", "pointwise", "wavenet", "bytenet"):
        assert family in names


def test_baselines_match_each_other():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 6, 9, 10))
    w = rng.standard_normal((6, 1, 3, 3))
    pads = [(1, 1), (1, 1)]
    taps = _benchmark.numpy_depthwise(x, w, 1, pads, 1, "taps")
    einsum = _benchmark.numpy_depthwise(x, w, 1, pads, 1, "einsum")
    np.testing.assert_allclose(taps, einsum, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", _benchmark.BASELINE_METHODS["transposed"])
def test_transposed_baselines_match_the_reference(method):
    """The NumPy baselines of transposed cases (col2im, one GEMM per tap) against the
    scatter-add reference: 1-D to 3-D, groups, dilation, stride above the kernel."""
    rng = np.random.default_rng(1)
    for size, kernel, stride, pad, dilation, groups in (((9,), (3,), 3, 2, 2, 1), ((5, 6), (4, 3), 2, 1, 1, 2),
                                                        ((3, 4, 3), (2, 3, 2), 2, 0, 1, 3), ((4, 5), (2, 2), 3, 0, 1, 1)):
        x = rng.standard_normal((2, 6, *size))
        w = rng.standard_normal((6, 4, *kernel))
        pads = [(pad, pad)] * len(size)
        got = _benchmark.numpy_transposed(x, w, stride, pads, dilation, groups, method)
        ref = ref_conv_transpose(x, w, None, stride, pad, groups=groups, dilation=dilation)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_transposed_case_runs_against_numpy():
    case = _benchmark.Case("transposed k4 s2", "transposed", 16, 8, (12, 10), (4, 4), stride=2, padding=1, groups=2)
    (result,) = _benchmark.run(cases=[case], quick=True, repeat=1, progress=False)
    assert result["numpy_ms"] > 0 and result["convx_ms"] > 0
    with pytest.raises(ValueError, match="int padding"):
        _benchmark.Case("bad", "transposed", 4, 4, (8,), (3,), padding="same")


def test_command_line_prints_table_and_progress():
    proc = subprocess.run([sys.executable, "-m", "convx", "--quick", "--repeat", "1", "--cases", "depthwise 3x3,pointwise"],
                          capture_output=True, text=True, timeout=300, check=True)
    assert "| case" in proc.stdout and "speed-up" in proc.stdout
    assert "depthwise 3x3" in proc.stdout and "pointwise 1x1" in proc.stdout
    assert "[1/" in proc.stderr
