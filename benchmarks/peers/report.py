"""Tables, BENCHMARKS.md and the ratio chart."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from . import libs


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ":" if r else "-" * (w + 2) for w, r in zip(widths, right)) + "|"
    return "\n".join([line(headers), rule] + [line(r) for r in rows])


def _geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def configs(results: Sequence[dict]) -> list[tuple[str, int]]:
    seen = []
    for r in results:
        key = (r["dtype"], r["threads"])
        if key not in seen:
            seen.append(key)
    return sorted(seen)


def cases_table(results: Sequence[dict]) -> str:
    rows, seen = [], set()
    for r in results:
        if r["name"] in seen:
            continue
        seen.add(r["name"])
        kind = "FLOP/s vs FMA peak" if r["bound"] == "compute" else "GB/s vs copy bandwidth"
        rows.append([r["name"], r["family"], r["shape"], f"{r['flops'] / 1e6:.1f}",
                     f"{r['bytes'] * 4 / np.dtype(r['dtype']).itemsize / 1e6:.2f}", kind])
    return _table(["case", "family", "input, channels, kernel, geometry", "MFLOP", "MB moved (f32)", "judged in"],
                  rows, [False, False, False, True, True, False])


def _ms(r: dict, name: str) -> str:
    if name in r["mismatch"]:
        return "MISMATCH"
    if name not in r["stat_ms"]:
        return "n/a"
    return f"{r['stat_ms'][name]:.3f}"


def _ratio(r: dict, key: str) -> str:
    v = r["ratios"].get(key)
    if v is None:
        return "-"
    text = f"{v:.2f}x"
    return f"**{text}**" if v < 1 else text


def config_table(results: Sequence[dict], peers: Sequence[str]) -> str:
    shown = [p for p in libs.PEERS if p in peers]
    headers = ["case"] + [f"{libs.LABELS[p]} ms" for p in shown] + ["convx ms", "convx rate", "of ceiling"]
    headers += [f"vs {libs.LABELS[p]}" for p in shown]
    if any(p in shown for p in ("torch", "ort")):
        headers.append("vs best peer")
    rows = []
    for r in results:
        unit = "GFLOP/s" if r["bound"] == "compute" else "GB/s"
        row = [r["name"]] + [_ms(r, p) for p in shown]
        row += [f"{r['stat_ms']['convx']:.3f}", f"{r['rate']:.1f} {unit}",
                f"{100 * r['of_ceiling']:.0f}% {'peak' if r['bound'] == 'compute' else 'copy'}"]
        row += [_ratio(r, p) for p in shown]
        if len(headers) > len(row):
            best = r.get("best_peer")
            row.append(_ratio(r, "best_peer") + (f" ({libs.LABELS[best]})" if best else ""))
        rows.append(row)
    table = _table(headers, rows, [False] + [True] * (len(headers) - 1))
    lines = [table, ""]
    means = []
    for key in [*shown, "best_peer"]:
        vals = [r["ratios"][key] for r in results if key in r["ratios"]]
        if vals:
            label = "the faster of torch/ORT" if key == "best_peer" else libs.LABELS[key]
            means.append(f"{label} {_geomean(vals):.2f}x (min {min(vals):.2f}x)")
    if means:
        lines.append("Geometric-mean speed-up of convx over " + "; ".join(means) + ".")
    notes = sorted({f"{libs.LABELS.get(k, k)}: {v}" for r in results for k, v in r["notes"].items()
                    if "disagrees" not in v})
    for note in notes:
        lines.append(f"Skipped: {note}.")
    return "\n".join(lines).rstrip()


def behind(results: Sequence[dict]) -> list[str]:
    out = []
    for r in results:
        for p in libs.PEERS:
            v = r["ratios"].get(p)
            if v is not None and v < 1:
                out.append(f"{r['name']} ({r['dtype']}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}): "
                           f"{libs.LABELS[p]} {r['stat_ms'][p]:.3f} ms vs convx {r['stat_ms']['convx']:.3f} ms "
                           f"= {v:.2f}x")
    return out


def mismatches(results: Sequence[dict]) -> list[str]:
    return [f"{r['name']} ({r['dtype']}, {r['threads']}T): {libs.LABELS.get(p.split()[0], p)} {r['notes'].get(p, r['checks'].get(p, ''))}"
            for r in results for p in r["mismatch"]]


def text_report(results: Sequence[dict], peers: Sequence[str], stat: str) -> str:
    parts = []
    for dtype, threads in configs(results):
        sel = [r for r in results if (r["dtype"], r["threads"]) == (dtype, threads)]
        r0 = sel[0]
        parts.append(f"### {dtype}, {threads} thread{'s' if threads > 1 else ''}\n\n"
                     f"Peak {r0['peak']:.0f} GFLOP/s, copy bandwidth {r0['copy']:.1f} GB/s; "
                     f"{stat} of {r0['repeat']} interleaved rounds, {r0['settle']:g} s pause before each side; "
                     f"NumPy BLAS threads: {r0['numpy_threads']}.\n\n" + config_table(sel, peers))
    lag = behind(results)
    parts.append("### Where convx is behind a peer\n\n" +
                 ("\n".join(f"- {line}" for line in lag) if lag else "Nowhere: convx is fastest on every case."))
    bad = mismatches(results)
    if bad:
        parts.append("### Disagreements (not timed)\n\n" + "\n".join(f"- {b}" for b in bad))
    return "\n\n".join(parts)


def _load_note(load: tuple[float | None, float | None]) -> str:
    start, end = load
    if start is None:
        return ""
    text = f"\n1-minute load average: {start:.2f} at the start, {end:.2f} at the end"
    if max(start, end) > 0.5:
        text += (" -- other processes shared the 2 cores during the run, so timings (above all the "
                 "2-thread ones) are noisy; rerun on an idle machine")
    return text + "."


def write_markdown(path: str, *, results: Sequence[dict], peers: Sequence[str], stat: str, command: str,
                   date: str, elapsed: float, machine_rows: Sequence[tuple[str, str]],
                   peaks: dict[tuple[str, int], float],
                   copy_measured: dict[int, float], copy_used: dict[int, float],
                   chart_path: str | None, chart_note: str | None,
                   load: tuple[float | None, float | None] = (None, None)) -> None:
    from .machine import NOMINAL_COPY_GBS

    machine = _table(["", ""], [[k, v] for k, v in machine_rows], [False, False])
    threads = sorted({r["threads"] for r in results})
    def peak(dtype: str, t: int) -> str:
        return f"{peaks[dtype, t]:.0f}" if (dtype, t) in peaks else "-"

    ceil_rows = [[str(t), peak("float32", t), peak("float64", t),
                  f"{NOMINAL_COPY_GBS.get(t, 15.0 * t):.0f}",
                  f"{copy_measured[t]:.1f}" if t in copy_measured else "-", f"{copy_used[t]:.1f}"]
                 for t in threads]
    ceilings = _table(["threads", "float32 peak GFLOP/s", "float64 peak GFLOP/s", "copy GB/s (design.md)",
                       "copy GB/s (measured now)", "copy GB/s used"], ceil_rows, [True] * 6)
    chart = ""
    if chart_path:
        rel = os.path.relpath(chart_path, os.path.dirname(os.path.abspath(path)))
        chart = f"\n\n![convx speed-up over the faster of torch/ORT and over NumPy]({rel})"
    elif chart_note:
        chart = f"\n\n(No chart: {chart_note}.)"
    text = f"""# convx vs PyTorch, ONNX Runtime and NumPy

Generated by `{command}` on {date} ({elapsed / 60:.1f} min).
Every number below comes from that run; rerun the command to refresh this file.{_load_note(load)}

## Machine

{machine}

Ceilings used for the "of ceiling" column. Peak: the FMA rate measured at start-up by convx's probe
(`convx._ext.fma_probe`: 12 independent chains of vector FMAs at the widest vectors this CPU has,
AVX-512 where present, on each thread at once; best of 5). Copy bandwidth counts bytes read + bytes
written; the benchmark measures it at start-up
(256 MB `np.copyto` split over the threads, and torch's `Tensor.copy_`) and uses the larger of the
measurement and the design-note figure:

{ceilings}

## Method

- **Same inputs, checked first.** Each case draws one random input and weights (scaled by 1/sqrt(fan-in),
  seeded by the case name). convx runs first and is the reference: every peer's output must satisfy
  `np.allclose(peer, convx, rtol=tol, atol=tol * max|convx|)` with `tol = 8 eps x (terms summed per output,
  added over the layers)`, as in `python -m convx`. A peer that disagrees is reported and not timed.
- **Peers.** NumPy: the fastest of convx._benchmark's vectorised formulations (im2col + one GEMM, or one GEMM
  per tap; depthwise as one multiply-add per tap or einsum; transposed as col2im, one GEMM then each tap's
  product added into every stride-th output, or one GEMM per tap), BLAS limited to the thread count.
  PyTorch: `torch.nn.functional.conv1d/conv2d` under `torch.no_grad()`, `torch.set_num_threads(n)`;
  symmetric padding through `padding=`, asymmetric ('same' with an odd total, 'causal') through an explicit
  `F.pad` first; depthwise and separable as `groups=C` convolutions (separable = depthwise + 1x1 conv);
  transposed cases through `conv_transpose1d/2d`.
  ONNX Runtime: CPU execution provider, a graph of one Conv node per layer (a stack is one graph; separable
  is a 2-node graph: depthwise Conv with group=C, then a 1x1 Conv; transposed cases a ConvTranspose node)
  with explicit `pads`,
  `intra_op_num_threads=n`, `inter_op_num_threads=1`, all graph optimisations. ONNX Runtime has no float64
  Conv on the CPU provider, so its float64 columns say n/a. convx: the layer objects (`convx.Conv2d`,
  `convx.SeparableConv2d`, ...) called with `num_threads=n`: weights packed once when the layer is built, as
  ONNX Runtime packs them when its session is created (torch's functional calls reorder them on every call). Every side takes a C-contiguous NCHW NumPy array and returns a NumPy array.
- **Timing.** `--repeat` interleaved rounds (the starting side rotates); in each, every side gets a pause,
  untimed warm-up calls (at least 20 ms of them after a pause: an idle vCPU takes milliseconds to come back
  to speed) and a timed call, with the garbage collector off (convx._benchmark's
  `_best_times`). The table shows the **{stat}** time. The pause (0.15 s with 2 threads) lets the previous
  library's idle worker threads (OpenBLAS, libgomp, torch's OpenMP, ORT's pool) stop spinning: on 2 cores
  they otherwise slow the next library several times.
- **Rates.** convx rate = nominal FLOPs (multiply-add = 2, padding taps included; transposed: every input
  pixel times every tap) / time for dense, strided, dilated, 1x1, separable, transposed and the 1-D
  stacks, compared with the FMA peak; for depthwise layers
  (memory-bound) bytes that must move (input + output + weights, each once) / time, compared with the
  copy bandwidth. Inputs of a few MB partly stay in the 32 MB L3 between calls, so a depthwise layer can
  exceed 100% of DRAM copy bandwidth.
- **Ratios** are peer time / convx time: above 1 convx is faster, below 1 (bold) it is behind.
  "vs best peer" compares with the faster of torch and ORT.

## Cases

{cases_table(results)}

## Results

{text_report(results, peers, stat)}{chart}
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def chart(path: str, results: Sequence[dict]) -> str | None:
    """Bar chart of convx's speed-up over the faster of torch/ORT and over NumPy (log scale), one
    panel per dtype and thread count. Returns None, or why there is no chart."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed (pip install matplotlib)"
    cfgs = configs(results)
    names = list(dict.fromkeys(r["name"] for r in results))
    series = (("best_peer", "vs faster of torch/ORT", "#1f77b4"), ("numpy", "vs NumPy", "#ff7f0e"))
    fig, axes = plt.subplots(1, len(cfgs), figsize=(3.6 * len(cfgs) + 1.6, 0.32 * len(names) + 1.6),
                             sharey=True, squeeze=False)
    height = 0.38
    values = [v for r in results for k, v in r["ratios"].items() if k in ("best_peer", "numpy")]
    lo = min(values + [0.5]) / 1.5
    hi = max(values + [2.0]) * 1.5
    for ax, (dtype, threads) in zip(axes[0], cfgs):
        by_name = {r["name"]: r for r in results if (r["dtype"], r["threads"]) == (dtype, threads)}
        for k, (key, label, color) in enumerate(series):
            ys, xs = [], []
            for i, name in enumerate(names):
                v = by_name.get(name, {}).get("ratios", {}).get(key)
                if v is not None:
                    ys.append(i + (k - 0.5) * height)
                    xs.append(v)
            if xs:
                # Bars grow from 1 (parity): right = convx faster, left = convx slower.
                ax.barh(ys, [x - 1.0 for x in xs], height=height, color=color, label=label, left=1.0)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_title(f"{dtype}, {threads} thread{'s' if threads > 1 else ''}", fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.set_xlabel("convx speed-up (x, log scale)")
    axes[0][0].set_yticks(range(len(names)))
    axes[0][0].set_yticklabels(names, fontsize=8)
    axes[0][0].invert_yaxis()
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle("convx speed-up (>1: convx faster)", fontsize=11)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
