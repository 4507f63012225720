"""Thread safety and determinism.

* Many Python threads calling convx at once (mixed functions, shapes, dtypes, layouts) get
  exactly the results of serial calls (the GIL is released; no shared mutable state).
* Repeated calls are bit-identical.
* num_threads=1 and num_threads=2 agree within tolerance (and exactly on integer data).
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import convx
from helpers import FAMILIES, LAYOUTS, make, make_case
from reference import ref_conv


def assert_close_scaled(got, expected, k_len):
    """Agreement up to rounding: |got - expected| <= 4 * K * eps * (max|expected| + 1)."""
    assert got.dtype == expected.dtype and got.shape == expected.shape
    eps = np.finfo(got.dtype).eps
    scale = float(np.max(np.abs(expected), initial=0.0)) + 1.0
    np.testing.assert_allclose(got, expected, rtol=0, atol=4 * k_len * eps * scale)


def _mixed_cases():
    rng = np.random.default_rng(12345)
    cases = []
    for i, name in enumerate(FAMILIES):
        for dtype in (np.float32, np.float64):
            for layout in LAYOUTS:
                cases.append(make_case(name, rng, dtype, integer=False, layout=layout,
                                       n_batch=1 + (i % 3), c_in=1 + (i % 4) * 5))
    # a few bigger problems so that calls really overlap in time
    x = make(rng, (2, 32, 40, 40), np.float32)
    w = make(rng, (32, 32, 3, 3), np.float32)
    big = [
        (convx.conv2d, (x, w), dict(padding=1)),
        (convx.conv2d, (np.ascontiguousarray(np.moveaxis(x, 1, -1)), w),
         dict(padding=1, layout="channels_last")),
        (convx.depthwise_conv2d, (x, w[:, :1]), dict(padding="same", dilation=2)),
        (convx.conv1d, (x[:, :, 0], w[:, :, 0]), dict(padding="causal", dilation=8)),
        (convx.conv_transpose2d, (x[:, :, :20, :20], w), dict(stride=2, padding=1)),
        (convx.separable_conv2d, (x, w[:, :1], w[:, :, 0, 0]), dict(padding=1)),
    ]
    return cases, big


def _tasks():
    cases, big = _mixed_cases()
    tasks = [(c.fn, tuple(c.args), dict(c.kwargs)) for c in cases]
    tasks += big
    return tasks


def test_concurrent_calls_match_serial():
    tasks = _tasks() * 3
    serial = [fn(*args, **kw) for fn, args, kw in tasks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(fn, *args, **kw) for fn, args, kw in tasks]
        parallel = [f.result(timeout=300) for f in futures]
    assert len(parallel) == len(serial)
    for (fn, _, _), s, p in zip(tasks, serial, parallel):
        assert p.dtype == s.dtype and p.shape == s.shape, fn.__name__
        assert_array_equal(p, s, err_msg=fn.__name__)


def test_concurrent_calls_with_out_and_num_threads():
    """Each thread writes its own out= array and picks its own thread count."""
    tasks = _tasks()
    serial = [fn(*args, **kw) for fn, args, kw in tasks]

    def run(i):
        fn, args, kw = tasks[i % len(tasks)]
        ref = serial[i % len(tasks)]
        out = np.empty_like(ref)
        res = fn(*args, **kw, out=out, num_threads=1 + i % 2)
        assert res is out
        return i, out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, range(2 * len(tasks))))
    for i, out in results:
        fn, args, kw = tasks[i % len(tasks)]
        # num_threads may change the work partition; allow rounding-level differences only
        k_len = sum(a.size for a in args[1:] if a is not None)
        assert_close_scaled(out, serial[i % len(tasks)], k_len)


def test_repeated_calls_are_bit_identical():
    tasks = _tasks()
    first = [fn(*args, **kw) for fn, args, kw in tasks]
    for _ in range(3):
        again = [fn(*args, **kw) for fn, args, kw in tasks]
        for a, b in zip(first, again):
            assert_array_equal(a, b)


@pytest.mark.parametrize("name", FAMILIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_vs_two_threads(rng, name, dtype):
    case = make_case(name, rng, dtype, integer=False, n_batch=3, c_in=9)
    one = case(num_threads=1)
    two = case(num_threads=2)
    ref = case.reference().astype(dtype)
    k_len = sum(a.size for a in case.args[1:] if a is not None)
    assert_close_scaled(one, ref, k_len)
    assert_close_scaled(two, ref, k_len)
    assert_close_scaled(one, two, k_len)
    # integer data: exact whatever the thread count
    case_i = make_case(name, rng, dtype, integer=True, n_batch=3, c_in=9)
    exact = case_i.reference().astype(dtype)
    for nt in (1, 2, -1):
        assert_array_equal(case_i(num_threads=nt), exact)


def test_batch_one_large_problem_threads(rng):
    """Batch 1 work is split across threads (rows / channel blocks): results still correct."""
    x = make(rng, (1, 24, 33, 47), np.float32, integer=True)
    w = make(rng, (40, 24, 3, 3), np.float32, integer=True)
    expected = ref_conv(x, w, None, 1, 1).astype(np.float32)
    for nt in (1, 2, 3, 8):
        assert_array_equal(convx.conv2d(x, w, padding=1, num_threads=nt), expected)
        got = convx.conv2d(np.ascontiguousarray(np.moveaxis(x, 1, -1)), w, padding=1,
                           layout="channels_last", num_threads=nt)
        assert_array_equal(np.moveaxis(got, -1, 1), expected)


def test_many_threads_same_arrays_read_only(rng):
    """Shared read-only inputs used by many threads at once."""
    x = make(rng, (2, 8, 30, 30), np.float64)
    w = make(rng, (8, 1, 5, 5), np.float64)
    x.setflags(write=False)
    w.setflags(write=False)
    expected = convx.depthwise_conv2d(x, w, padding=2)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outs = list(pool.map(lambda _: convx.depthwise_conv2d(x, w, padding=2), range(32)))
    for o in outs:
        assert_array_equal(o, expected)


def _hold_gil_workload(conv):
    """The GIL-release check, parametrised by the workload (so it can be validated)."""
    import threading
    import time

    t0 = time.perf_counter()
    conv()
    duration = time.perf_counter() - t0
    reps = max(1, int(np.ceil(0.6 / max(duration, 1e-4))))
    window = {}

    def work():
        window["start"] = time.perf_counter()
        for _ in range(reps):
            conv()
        window["end"] = time.perf_counter()

    stamps = []
    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        stamps.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    total = window["end"] - window["start"]
    lo, hi = window["start"] + 0.2 * total, window["end"] - 0.2 * total
    inside = [t for t in stamps if lo < t < hi]
    return len(inside), 0.25 * (hi - lo) / 0.002, reps


def test_gil_is_released_during_computation():
    """While one thread runs a long convolution, another Python thread keeps running."""
    import time

    rng = np.random.default_rng(7)
    w = make(rng, (64, 64, 3, 3), np.float32)
    x = make(rng, (2, 64, 96, 96), np.float32)
    t0 = time.perf_counter()
    convx.conv2d(x, w, padding=1, num_threads=1)
    per_item = (time.perf_counter() - t0) / 2
    # a batch big enough for ~0.15 s per call, so only a few calls make up the window
    x = make(rng, (int(min(200, max(2, np.ceil(0.15 / max(per_item, 1e-5))))), 64, 96, 96),
             np.float32)
    inside, needed, reps = _hold_gil_workload(lambda: convx.conv2d(x, w, padding=1,
                                                                    num_threads=1))
    # with the GIL held for the whole C call the main thread could only run between calls
    assert inside >= needed, (inside, needed, reps)
