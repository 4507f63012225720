"""Every kernel table this CPU can run: the portable kernels (CONVX_ISA=generic), the AVX2 ones
where the best table is AVX-512 (CONVX_ISA=avx2; each run in a subprocess because the kernel
table is chosen at import) and the ones chosen for this CPU must all match the reference bit for
bit on integer-valued float32 data, for every algorithm and layout."""

import os
import subprocess
import sys

import numpy as np
import pytest

import convx
from reference import ref_conv, ref_conv_transpose, resolve_padding

# (name, function, weight shape, keyword arguments); the input is (2, 6, *spatial).
CASES = [
    ("dense 3x3", "conv2d", (5, 6, 3, 3), dict(padding=1)),
    ("dense stride 2 dilation 2 reflect", "conv2d", (9, 6, 3, 3), dict(stride=2, dilation=2, padding=2,
                                                                   padding_mode="reflect")),
    ("grouped circular", "conv2d", (4, 3, 2, 3), dict(groups=2, padding=(1, 2), padding_mode="circular")),
    ("depthwise M=2 stride 2", "conv2d", (12, 1, 3, 3), dict(groups=6, stride=2, padding="same")),
    ("depthwise replicate", "conv2d", (6, 1, 5, 5), dict(groups=6, padding=3, padding_mode="replicate")),
    ("depthwise 3x3 dilation 2 reflect", "conv2d", (6, 1, 3, 3), dict(groups=6, dilation=2, padding="same",
                                                                      padding_mode="reflect")),
    ("1x1 in place", "conv2d", (7, 6, 1, 1), {}),
    ("1-D causal dilation 4", "conv1d", (7, 6, 2), dict(padding="causal", dilation=4)),
    ("3-D", "conv3d", (3, 6, 2, 3, 2), dict(padding=1, stride=(1, 2, 1))),
    ("transposed", "conv_transpose2d", (6, 4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
]
SPATIAL = {"conv1d": (17,), "conv2d": (9, 11), "conv3d": (5, 6, 7), "conv_transpose2d": (5, 6)}

SCRIPT = """
import sys, numpy as np, convx
assert convx.get_config()["kernels"] == sys.argv[3], convx.get_config()
data = np.load(sys.argv[1], allow_pickle=True)
results = {}
for i, (name, fn, wshape, kwargs) in enumerate(data["cases"]):
    for layout in ("channels_first", "channels_last"):
        x = data[f"x{i}_{layout}"]
        results[f"{i}_{layout}"] = getattr(convx, fn)(x, data[f"w{i}"], data[f"b{i}"], layout=layout, **kwargs)
np.savez(sys.argv[2], **results)
"""


def _inputs(rng):
    arrays = {"cases": np.array(CASES, dtype=object)}
    for i, (_, fn, wshape, _) in enumerate(CASES):
        x = rng.integers(-3, 4, (2, 6, *SPATIAL[fn])).astype(np.float32)
        arrays[f"x{i}_channels_first"] = x
        arrays[f"x{i}_channels_last"] = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        arrays[f"w{i}"] = rng.integers(-3, 4, wshape).astype(np.float32)
        out_channels = wshape[1] if fn.startswith("conv_transpose") else wshape[0]
        arrays[f"b{i}"] = rng.integers(-3, 4, out_channels).astype(np.float32)
    return arrays


def _reference(fn, x, w, b, kwargs):
    stride, dilation = kwargs.get("stride", 1), kwargs.get("dilation", 1)
    if fn.startswith("conv_transpose"):
        return ref_conv_transpose(x, w, b, stride, kwargs["padding"], kwargs["output_padding"], 1, dilation)
    pads = resolve_padding(kwargs.get("padding", 0), x.shape[2:], w.shape[2:], stride, dilation)
    return ref_conv(x, w, b, stride, pads, dilation, kwargs.get("groups", 1), kwargs.get("padding_mode", "zeros"))


def _forced_tables():
    """(CONVX_ISA value, table it selects) for each table below the best one this CPU runs."""
    tables = [("generic", "generic")]
    if convx.get_config()["kernels"] == "avx512":
        tables.append(("avx2", "avx2_fma"))
    return tables


@pytest.mark.parametrize("forced, table", _forced_tables())
def test_forced_and_native_kernels_match_reference_exactly(tmp_path, forced, table):
    rng = np.random.default_rng(2026)
    arrays = _inputs(rng)
    np.savez(tmp_path / "inputs.npz", **arrays)
    env = dict(os.environ, CONVX_ISA=forced)
    subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "inputs.npz"), str(tmp_path / "out.npz"), table],
                   env=env, check=True, timeout=300)
    forced_out = np.load(tmp_path / "out.npz")
    for i, (name, fn, _, kwargs) in enumerate(CASES):
        x, w, b = arrays[f"x{i}_channels_first"], arrays[f"w{i}"], arrays[f"b{i}"]
        expected = _reference(fn, x, w, b, kwargs).astype(np.float32)
        for layout in ("channels_first", "channels_last"):
            native = getattr(convx, fn)(arrays[f"x{i}_{layout}"], w, b, layout=layout, **kwargs)
            if layout == "channels_last":
                native = np.moveaxis(native, -1, 1)
            forced_result = forced_out[f"{i}_{layout}"]
            if layout == "channels_last":
                forced_result = np.moveaxis(forced_result, -1, 1)
            np.testing.assert_array_equal(native, expected, err_msg=f"{name}, {layout}, native kernels")
            np.testing.assert_array_equal(forced_result, expected, err_msg=f"{name}, {layout}, {table} kernels")


def test_kernel_choice_follows_cpu_and_environment():
    config = convx.get_config()
    features = set(config["cpu_features"].split())
    forced = os.environ.get("CONVX_ISA")
    if forced == "generic":
        assert config["kernels"] == "generic"
    elif {"avx2", "fma", "avx512"} <= features and forced != "avx2":
        assert config["kernels"] == "avx512"
    elif {"avx2", "fma"} <= features:
        assert config["kernels"] == "avx2_fma"
    elif "neon" in features:
        assert config["kernels"] == "neon"
    else:
        assert config["kernels"] == "generic"


def _widest_lanes(float64):
    """Lanes of the widest vectors convx's tables use on this CPU (the FMA probe's width)."""
    features = set(convx.get_config()["cpu_features"].split())
    vbytes = 64 if "avx512" in features else 32 if {"avx2", "fma"} <= features else 16
    return vbytes // (8 if float64 else 4)


@pytest.mark.parametrize("float64", [False, True])
def test_fma_probe_counts_and_computes_its_operations(float64):
    """The benchmarks' FMA ceiling: 12 chains of x -> 0.999 x + 0.001 per lane, started at
    2 .. 13 (none at the fixed point 1, which the compiler would fold away), so the checksum is
    90 per lane before any round and tends to 12 (1 per chain, up to rounding) after many; the
    count is 2 operations per FMA and lane, at the widest vectors of the CPU (scalar in an MSVC
    build, which has no vector kernels)."""
    from convx import _ext

    flops, checksum = _ext.fma_probe(float64, 100_000)
    lanes = flops / (2 * 100_000 * 12)
    if sys.platform != "win32":
        assert lanes == _widest_lanes(float64)
    assert checksum == pytest.approx(12.0 * lanes, rel=1e-3)
    assert _ext.fma_probe(float64, 0) == (0.0, 90.0 * lanes)
