"""Check every peer against convx on the same inputs, then time all sides interleaved."""

from __future__ import annotations

import statistics
import sys
import time
import zlib
from collections.abc import Callable, Sequence

import numpy as np

from convx._benchmark import BASELINE_METHODS, Case, Layer, _best_times, _make_layers

from . import libs

#: Families judged in FLOP/s against the FMA peak; the rest (depthwise) in GB/s against copy bandwidth.
COMPUTE_FAMILIES = ("conv", "pointwise", "separable", "transposed")


def tolerance(x: np.ndarray, layers: Sequence[Layer]) -> float:
    """convx._benchmark's rule: 8 eps per term summed per output, added over the layers."""
    return 8 * float(np.finfo(x.dtype).eps) * sum(layer.accumulation for layer in layers)


def compare(got: np.ndarray, ref: np.ndarray, tol: float) -> tuple[bool, str]:
    """allclose(rtol=tol, atol=tol * max|ref|); returns (agrees, a short description)."""
    got = np.asarray(got)
    if got.shape != ref.shape:
        return False, f"shape {got.shape} != convx's {ref.shape}"
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    err = float(np.nanmax(diff)) if diff.size else 0.0
    ok = bool(np.allclose(got, ref, rtol=tol, atol=tol * scale))
    rel = err / scale if scale else err
    return ok, f"max |diff| {err:.3g} ({rel:.2g} of max |y|; tolerance {tol:.2g})"


def time_interleaved(fns: Sequence[Callable[[], object]], rounds: int, settle: float) -> list[list[float]]:
    """Every time of every function over ``rounds`` rounds; the order rotates each round.

    Each round is one call of convx._benchmark._best_times: per function a pause of
    ``settle`` seconds (so the previous library's spinning workers go idle), untimed
    warm-up calls (at least 20 ms of them after a pause) and a timed call.
    """
    samples: list[list[float]] = [[] for _ in fns]
    k = len(fns)
    for r in range(rounds):
        order = [(i + r) % k for i in range(k)]
        times = _best_times([fns[j] for j in order], 1, settle)
        for j, t in zip(order, times):
            samples[j].append(t)
    return samples


def case_seed(case: Case) -> int:
    return zlib.crc32(case.name.encode())


def run_case(case: Case, dtype: np.dtype, threads: int, peers: Sequence[str], repeat: int,
             quick: bool, settle: float) -> dict:
    rng = np.random.default_rng(case_seed(case))
    x = rng.standard_normal(case.input_shape(quick)).astype(dtype)
    layers = _make_layers(case, x.shape, dtype, rng)
    tol = tolerance(x, layers)
    result = {"name": case.name, "family": case.family, "shape": case.describe(quick),
              "dtype": np.dtype(dtype).name, "threads": threads, "repeat": repeat,
              "flops": libs.flops_of(layers), "bytes": libs.bytes_of(case, x, layers),
              "ms": {}, "median_ms": {}, "notes": {}, "checks": {}, "mismatch": []}

    convx_fn = libs.convx_runner(case, x, layers, threads)
    ref = convx_fn()          # the reference every peer is checked against (also a warm-up)
    sides: dict[str, Callable[[], np.ndarray]] = {}

    def accept(name: str, fn: Callable[[], np.ndarray]) -> bool:
        ok, text = compare(fn(), ref, tol)
        result["checks"][name] = text
        if not ok:
            result["mismatch"].append(name)
            result["notes"][name] = f"disagrees with convx: {text}; not timed"
        return ok

    if "numpy" in peers:
        methods = BASELINE_METHODS[case.family]
        fns = [libs.numpy_runner(case, x, layers, m) for m in methods]
        if all(accept("numpy" if i == 0 else f"numpy {m}", f) for i, (m, f) in enumerate(zip(methods, fns))):
            # NumPy's fastest formulation for this case (as convx._benchmark picks it).
            if len(fns) > 1:
                time.sleep(settle)
                trial = _best_times(fns, 2, settle=0)
                best = int(np.argmin(trial))
            else:
                best = 0
            result["numpy_method"] = methods[best]
            sides["numpy"] = fns[best]
    for name, make in (("torch", libs.torch_runner), ("ort", libs.ort_runner)):
        if name not in peers:
            continue
        try:
            fn = make(case, x, layers, threads)
        except libs.Unavailable as exc:
            result["notes"][name] = str(exc)
            continue
        if accept(name, fn):
            sides[name] = fn
    sides["convx"] = convx_fn

    samples = time_interleaved(list(sides.values()), repeat, settle)
    for name, times in zip(sides, samples):
        result["ms"][name] = min(times) * 1e3
        result["median_ms"][name] = statistics.median(times) * 1e3
    return result


def derive(result: dict, stat: str, peak_gflops: float, copy_gbs: float) -> dict:
    """Add rates, fractions of the ceiling and ratios (peer time / convx time: > 1 = convx faster)."""
    ms = result["ms"] if stat == "best" else result["median_ms"]
    result["stat_ms"] = dict(ms)
    c = ms["convx"]
    result["gflops"] = result["flops"] / c / 1e6
    result["gbs"] = result["bytes"] / c / 1e6
    if result["family"] in COMPUTE_FAMILIES:
        result["bound"] = "compute"
        result["rate"], result["ceiling"] = result["gflops"], peak_gflops
    else:
        result["bound"] = "memory"
        result["rate"], result["ceiling"] = result["gbs"], copy_gbs
    result["of_ceiling"] = result["rate"] / result["ceiling"]
    ratios = {name: ms[name] / c for name in libs.PEERS if name in ms}
    fast = [ms[n] for n in ("torch", "ort") if n in ms]
    if fast:
        ratios["best_peer"] = min(fast) / c
        result["best_peer"] = min((n for n in ("torch", "ort") if n in ms), key=ms.get)
    result["ratios"] = ratios
    return result


def run(cases: Sequence[Case], dtypes: Sequence[str], threads_list: Sequence[int],
        peers: Sequence[str], repeat: int, quick: bool, settle: float | None,
        progress: bool = True) -> list[dict]:
    from convx._benchmark import DEFAULT_SETTLE, blas_threads

    results = []
    total = len(cases) * len(dtypes) * len(threads_list)
    done = 0
    for threads in threads_list:
        pause = settle if settle is not None else (0.0 if threads == 1 else DEFAULT_SETTLE)
        with blas_threads(threads) as numpy_threads:
            if "torch" in peers:
                try:
                    libs.torch_set_threads(threads)
                except libs.Unavailable:
                    pass
            for dtype in dtypes:
                for case in cases:
                    done += 1
                    if progress:
                        print(f"[{done}/{total}] {dtype} {threads}T {case.name} ...", end="",
                              file=sys.stderr, flush=True)
                    start = time.perf_counter()
                    r = run_case(case, np.dtype(dtype), threads, peers, repeat, quick, pause)
                    r.update(numpy_threads=numpy_threads, settle=pause, quick=quick)
                    results.append(r)
                    if progress:
                        times = ", ".join(f"{libs.LABELS[k]} {v:.3g}" for k, v in r["ms"].items())
                        extra = f" [{'; '.join(f'{k}: {v}' for k, v in r['notes'].items())}]" if r["notes"] else ""
                        print(f" ms: {times} ({time.perf_counter() - start:.1f} s){extra}",
                              file=sys.stderr, flush=True)
    return results
