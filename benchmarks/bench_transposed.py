"""Transposed convolution: convx layer objects against PyTorch's conv_transpose2d.

    python benchmarks/bench_transposed.py                 # float32, 1 and 2 threads
    python benchmarks/bench_transposed.py --threads 2 --repeat 15
    python benchmarks/bench_transposed.py --layout channels_last

Decoder and upsampling layers (U-Net, DCGAN, FCN heads), float32, channels-first (or
channels-last: NHWC arrays, against torch on channels_last tensors). Each side is
checked against the other first, then timed in interleaved rounds (convx._benchmark's
_best_times: a pause, warm-up calls and one timed call per side and round); the table gives
ms, GFLOP/s (2 x input pixels x C_in x C_out/groups x taps), the fraction of the FMA peak and
the ratio. Needs torch (the `bench` extra).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import convx  # noqa: E402
from convx._benchmark import DEFAULT_SETTLE, _best_times, positive_int  # noqa: E402
from peers import machine  # noqa: E402

#: (name, C_in, C_out, input size, kernel, stride, padding)
CASES = (
    ("DCGAN 512->256 k4 s2", 512, 256, 8, 4, 2, 1),
    ("U-Net up 256->128 k2 s2", 256, 128, 28, 2, 2, 0),
    ("U-Net up 128->64 k2 s2", 128, 64, 56, 2, 2, 0),
    ("decoder 64->32 k4 s2", 64, 32, 56, 4, 2, 1),
    ("decoder 128->64 k3 s2", 128, 64, 28, 3, 2, 1),
    ("to RGB 32->3 k4 s2", 32, 3, 112, 4, 2, 1),
    ("deconv 64->64 k3 s1", 64, 64, 56, 3, 1, 1),
)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--repeat", type=positive_int, default=9, help="interleaved rounds (default 9)")
    p.add_argument("--layout", choices=("channels_first", "channels_last"), default="channels_first")
    args = p.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not installed: pip install -e .[bench]")
        return 1
    rng = np.random.default_rng(0)
    channels_last = args.layout == "channels_last"
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        peak = machine.measure_fma_peak("float32", threads)
        print(f"\nfloat32, {args.layout}, {threads} thread(s), FMA peak {peak:.0f} GFLOP/s, best of {args.repeat} rounds\n")
        print(f"| {'case':24s} | torch ms | convx ms | convx GFLOP/s | of peak | vs torch |")
        print(f"|{'-' * 26}|---------:|---------:|--------------:|--------:|---------:|")
        ratios = []
        for name, cin, cout, size, k, s, pad in CASES:
            x = rng.standard_normal((1, cin, size, size)).astype(np.float32)
            w = (rng.standard_normal((cin, cout, k, k)) / np.sqrt(cin * k * k)).astype(np.float32)
            layer = convx.ConvTranspose2d(w, stride=s, padding=pad, layout=args.layout)
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)
            if channels_last:  # the same values, NHWC in memory on both sides
                x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
                tx = tx.contiguous(memory_format=torch.channels_last)

            def torch_run():
                with torch.no_grad():
                    return torch.nn.functional.conv_transpose2d(tx, tw, stride=s, padding=pad)

            def convx_run():
                return layer(x, num_threads=threads)

            ref = torch_run().numpy()
            if channels_last:
                ref = ref.transpose(0, 2, 3, 1)
            err = float(np.max(np.abs(convx_run() - ref)) / max(float(np.max(np.abs(ref))), 1e-30))
            if err > 1e-4:
                raise SystemExit(f"{name}: convx and torch differ (relative {err:.2g})")
            t_torch, t_convx = _best_times([torch_run, convx_run], args.repeat, DEFAULT_SETTLE if threads > 1 else 0)
            rate = 2.0 * size * size * cin * cout * k * k / t_convx / 1e9
            ratios.append(t_torch / t_convx)
            print(f"| {name:24s} | {t_torch * 1e3:8.3f} | {t_convx * 1e3:8.3f} | {rate:13.1f} | "
                  f"{rate / peak:7.0%} | {t_torch / t_convx:7.2f}x |")
        geo = float(np.exp(np.mean(np.log(ratios))))
        print(f"\nGeometric-mean speed-up over torch: {geo:.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
