"""What the benchmark ran on, and the machine's ceilings (FMA peak, copy bandwidth)."""

from __future__ import annotations

import contextlib
import io
import os
import platform
import subprocess
import threading
import time

import numpy as np

#: Copy bandwidth (GB/s, bytes read + bytes written) from design.md: 30 on 2 threads; 15 for 1.
NOMINAL_COPY_GBS = {1: 15.0, 2: 30.0}


def measure_fma_peak(dtype: str, threads: int, seconds: float = 0.1, rounds: int = 5) -> float:
    """Best FMA rate in GFLOP/s of ``threads`` Python threads each running convx's FMA probe
    (independent FMAs at the widest vectors the CPU has, AVX-512 where present, whatever
    CONVX_ISA selects; the probe releases the GIL) for about ``seconds``."""
    from convx import _ext

    float64 = dtype == "float64"
    _ext.fma_probe(float64, 1_000_000)  # warm-up
    start = time.perf_counter()
    _ext.fma_probe(float64, 1_000_000)
    iterations = max(1, int(1_000_000 * seconds / max(time.perf_counter() - start, 1e-9)))
    flops = iterations * _ext.fma_probe(float64, 1)[0]  # per thread: the probe's count, linear in rounds
    best = _best_parallel_time([(_ext.fma_probe, (float64, iterations))] * threads, rounds)
    return threads * flops / best / 1e9


def _best_parallel_time(calls: list[tuple], rounds: int) -> float:
    """Best wall time over ``rounds`` of running each (function, args) of ``calls`` on a Python
    thread of its own (a single call runs on this thread), all at once, after a short pause."""
    best = float("inf")
    for _ in range(rounds):
        time.sleep(0.05)
        if len(calls) == 1:
            fn, args = calls[0]
            start = time.perf_counter()
            fn(*args)
        else:
            workers = [threading.Thread(target=fn, args=args) for fn, args in calls]
            start = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
        best = min(best, time.perf_counter() - start)
    return best


def measure_copy_bandwidth(threads: int, mbytes: int = 256, rounds: int = 5) -> float:
    """Best copy rate in GB/s (read + write) of ``mbytes`` MB with np.copyto split over
    ``threads`` Python threads (np.copyto releases the GIL), and, when installed, of torch's
    multi-threaded ``Tensor.copy_``."""
    n = mbytes * 2**20 // 8
    src = np.ones(n)
    dst = np.empty(n)
    np.copyto(dst, src)
    step = -(-n // threads)
    parts = [(dst[i:i + step], src[i:i + step]) for i in range(0, n, step)]
    best = _best_parallel_time([(np.copyto, p) for p in parts], rounds)
    rate = 2 * src.nbytes / best / 1e9
    try:
        import torch
    except ImportError:
        return rate
    saved = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ts, td = torch.from_numpy(src), torch.from_numpy(dst)
        td.copy_(ts)
        best = float("inf")
        for _ in range(rounds):
            time.sleep(0.05)
            start = time.perf_counter()
            td.copy_(ts)
            best = min(best, time.perf_counter() - start)
    finally:
        torch.set_num_threads(saved)
    return max(rate, 2 * src.nbytes / best / 1e9)


def _lscpu() -> dict[str, str]:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    info = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


def _blas() -> str:
    """NumPy's BLAS, and the kernel it runs (OPENBLAS_CORETYPE can force an older one)."""
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        name = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:
        return "?"
    try:
        from threadpoolctl import threadpool_info
        kernels = {i.get("architecture") for i in threadpool_info() if i.get("user_api") == "blas"} - {None}
    except ImportError:
        return name
    forced = f", OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']}" if "OPENBLAS_CORETYPE" in os.environ else ""
    return f"{name}, kernel {'/'.join(sorted(kernels)) or '?'}{forced}"


def _mem_gb() -> str:
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        return f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "?"


def describe(versions: dict[str, str | None]) -> list[tuple[str, str]]:
    """(item, value) rows describing the machine and the software."""
    import convx

    cpu = _lscpu()
    flags = cpu.get("Flags", "").split()
    isa = " ".join(f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f") if f in flags) or "?"
    caches = ", ".join(f"{k.split()[0]} {cpu[k]}" for k in ("L1d cache", "L2 cache", "L3 cache") if k in cpu)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        try:
            convx.show_config()
        except Exception:
            pass
    convx_cfg = "; ".join(" ".join(line.split()) for line in buf.getvalue().splitlines()[1:] if line.strip())
    rows = [
        ("CPU", f"{cpu.get('Model name', platform.processor() or '?')} ({cpu.get('Vendor ID', '?')}), "
                f"{os.cpu_count()} cores, {cpu.get('Hypervisor vendor', 'no') + ' VM' if 'Hypervisor vendor' in cpu else 'bare metal'}"),
        ("ISA", isa),
        ("caches", caches or "?"),
        ("memory", _mem_gb()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("convx", f"{getattr(convx, '__version__', '?')} ({convx_cfg})"),
        ("NumPy", f"{np.__version__} (BLAS: {_blas()})"),
        ("PyTorch", versions.get("torch") or "not installed"),
        ("ONNX Runtime", versions.get("ort") or "not installed"),
    ]
    return rows
