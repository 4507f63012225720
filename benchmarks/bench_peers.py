"""convx against its peers -- PyTorch, ONNX Runtime and NumPy -- on the same inputs.

    python benchmarks/bench_peers.py                      # every case, float32+float64, 1 and 2 threads
    python benchmarks/bench_peers.py --quick --dtype float32 --threads 2
    python benchmarks/bench_peers.py --cases depthwise,wavenet --repeat 9
    python benchmarks/bench_peers.py --markdown BENCHMARKS.md --chart benchmarks/ratios.png

Peers not installed are skipped with a note (``pip install -e .[bench]`` installs torch,
onnx and onnxruntime; the chart needs matplotlib). Every peer's output is checked against
convx before anything is timed. Cases, NumPy baselines, timing and BLAS-thread control come
from :mod:`convx._benchmark`; the rest is in ``benchmarks/peers/``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shlex
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from convx._benchmark import list_cases, positive_int  # noqa: E402
from peers import cases as case_table  # noqa: E402
from peers import libs, machine, report, runner  # noqa: E402


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1, got {text!r}")
    return values


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench_peers.py",
        description="Time convx against PyTorch, ONNX Runtime and NumPy on typical layers "
                    "(each peer is checked against convx first).")
    p.add_argument("--dtype", choices=("float32", "float64", "both"), default="both",
                   help="element type (default: both)")
    p.add_argument("--threads", type=_int_list, default=[1, 2], metavar="N[,N...]",
                   help="thread counts to run, for every library (default: 1,2)")
    p.add_argument("--cases", default=None, metavar="SUBSTRINGS",
                   help="only cases whose name contains one of these comma-separated substrings")
    p.add_argument("--repeat", type=positive_int, default=None, metavar="N",
                   help="interleaved rounds (warm-up + timed call per side); default 5, 3 with --quick")
    p.add_argument("--quick", action="store_true", help="spatial sizes divided by 4: a smoke run")
    p.add_argument("--peers", default=",".join(libs.PEERS), metavar="LIST",
                   help=f"peers to run, comma-separated from {','.join(libs.PEERS)} (default: all)")
    p.add_argument("--stat", choices=("best", "median"), default="best",
                   help="which time the tables report (default: best)")
    p.add_argument("--settle", type=float, default=None, metavar="SECONDS",
                   help="pause before each side (default 0.15 s with several threads, 0 with 1 thread)")
    p.add_argument("--markdown", metavar="PATH", default=None,
                   help="write the report (machine, command, date, tables) to this Markdown file, "
                        "e.g. BENCHMARKS.md")
    p.add_argument("--chart", metavar="PATH", default=None,
                   help="write a PNG bar chart of the speed-ups (log scale), e.g. benchmarks/ratios.png")
    p.add_argument("--no-measure", action="store_true",
                   help="skip the copy-bandwidth measurement; use design.md's figures")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cases = case_table.select(args.cases)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        print(list_cases(cases, args.quick))
        return 0
    peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = [p for p in peers if p not in libs.PEERS]
    if unknown:
        print(f"error: unknown peer(s) {unknown}; choose from {list(libs.PEERS)}", file=sys.stderr)
        return 2
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    repeat = args.repeat or (3 if args.quick else 5)
    threads_list = args.threads
    if os.cpu_count() and max(threads_list) > os.cpu_count():
        print(f"note: {max(threads_list)} threads on {os.cpu_count()} cores", file=sys.stderr)

    versions = libs.versions()
    for name, label in (("torch", "PyTorch"), ("ort", "ONNX Runtime")):
        if name in peers and versions[name] is None:
            print(f"note: {label} is not installed; its columns are skipped", file=sys.stderr)
    load_start = _load()
    if load_start is not None:
        load = load_start
        if load > 0.5:
            print(f"note: load average {load:.2f}: other processes compete for the cores, "
                  f"timings will be noisy", file=sys.stderr)

    peaks = {(dt, t): machine.measure_fma_peak(dt, t) for dt in dtypes for t in sorted(set(threads_list))}
    print("FMA peak (GFLOP/s): " + ", ".join(f"{dt} {t} thread(s) {v:.0f}" for (dt, t), v in peaks.items()),
          file=sys.stderr)
    copy_measured: dict[int, float] = {}
    if not args.no_measure:
        for t in sorted(set(threads_list)):
            copy_measured[t] = machine.measure_copy_bandwidth(t)
    copy_used: dict[int, float] = {}
    for t in sorted(set(threads_list)):
        nominal = machine.NOMINAL_COPY_GBS.get(t, 15.0 * t)
        lower = [v for k, v in copy_measured.items() if k <= t]   # more threads never copy slower
        copy_used[t] = max([nominal] + lower)
    if copy_measured:
        print("copy bandwidth (GB/s, read + write): " + ", ".join(
            f"{t} thread(s) measured {copy_measured[t]:.1f}, using {copy_used[t]:.1f}"
            for t in sorted(copy_measured)), file=sys.stderr)

    start = time.perf_counter()
    results = runner.run(cases, dtypes, threads_list, peers, repeat, args.quick, args.settle)
    elapsed = time.perf_counter() - start
    load_end = _load()
    for r in results:
        r["peak"] = peaks[r["dtype"], r["threads"]]
        r["copy"] = copy_used[r["threads"]]
        runner.derive(r, args.stat, r["peak"], r["copy"])

    print(report.text_report(results, peers, args.stat))
    print(f"\nTotal time {elapsed:.1f} s.")

    chart_note = None
    if args.chart:
        chart_note = report.chart(args.chart, results)
        print(f"chart: {chart_note}" if chart_note else f"wrote {args.chart}", file=sys.stderr)
    if args.markdown:
        command = "python " + " ".join(shlex.quote(a) for a in
                                       [os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)] +
                                       (sys.argv[1:] if argv is None else list(argv)))
        report.write_markdown(
            args.markdown, results=results, peers=peers, stat=args.stat, command=command,
            date=datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"), elapsed=elapsed,
            machine_rows=machine.describe(versions), peaks=peaks, copy_measured=copy_measured, copy_used=copy_used,
            chart_path=args.chart if args.chart and chart_note is None else None, chart_note=chart_note,
            load=(load_start, load_end))
        print(f"wrote {args.markdown}", file=sys.stderr)
    return 1 if any(r["mismatch"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
