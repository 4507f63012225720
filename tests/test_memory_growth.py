"""No leaks over thousands of calls, error paths included: the arguments' reference counts come
back to where they were, Python-level allocations (tracemalloc, which sees NumPy's array data)
do not grow, and neither does the process's resident memory (which also sees the C core's
scratch and packed weights)."""

import gc
import sys
import tracemalloc

import numpy as np
import pytest

import convx
from helpers import FAMILIES, make_case


def _calls(rng):
    """Successful and failing calls of every family, plus layer objects made and dropped."""
    cases = [make_case(name, rng, dtype, integer=False, layout=layout)
             for name in FAMILIES for dtype in (np.float32, np.float64) for layout in ("channels_first", "channels_last")]
    calls = []
    for case in cases:
        out = np.empty_like(case())
        calls.append(lambda case=case: case())
        calls.append(lambda case=case, out=out: case(out=out, num_threads=2))
        calls.append(lambda case=case: case(out=np.zeros(3, case.result_dtype())))  # bad out
        calls.append(lambda case=case: case(num_threads=0))  # bad thread count
        calls.append(lambda case=case: case(case.args[0].astype(complex), *case.args[1:]))  # bad dtype
    calls.append(lambda: convx.Conv2d(np.ones((4, 2, 3, 3)), groups=2)(np.ones((1, 4, 6, 6), np.float32)))
    calls.append(lambda: convx.conv2d(np.ones((1, 3, 4, 4)), np.ones((2, 3, 9, 9))))  # kernel does not fit
    calls.append(lambda: convx.conv_transpose1d(np.ones((1, 1, 2)), np.ones((1, 1, 1)), stride=2**60))
    return cases, calls


def _run_all(calls):
    for call in calls:
        try:
            call()
        except (ValueError, TypeError):
            pass


def _rss_bytes():
    """Resident memory now (Linux), or None where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096
    except OSError:
        return None


def test_no_reference_or_memory_growth(rng):
    cases, calls = _calls(rng)
    arrays = [a for case in cases for a in case.args if a is not None]
    _run_all(calls)  # warm up: caches, lazily imported modules, first allocations
    gc.collect()
    refcounts = [sys.getrefcount(a) for a in arrays]
    rss_before = _rss_bytes()
    tracemalloc.start()
    try:
        _run_all(calls)
        gc.collect()
        first, _ = tracemalloc.get_traced_memory()
        rounds = 20
        for _ in range(rounds):  # several thousand calls, a third of them failing
            _run_all(calls)
        gc.collect()
        last, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [sys.getrefcount(a) for a in arrays] == refcounts
    # a leak of one small array or exception per call would be len(calls) * rounds * >= 100 bytes
    assert last - first < 64 * 1024, (first, last, len(calls) * rounds)
    rss_after = _rss_bytes()
    if rss_before is not None:
        # the C core's packed weights and scratch are tens of KiB per call here: a leak of them
        # over these calls would be hundreds of MiB
        assert rss_after - rss_before < 64 * 2**20, (rss_before, rss_after)


def test_big_packed_weights_are_freed():
    """A call with a large weight (packed copy of 32 MiB) repeated: memory stays flat."""
    x = np.ones((1, 512, 4, 4), np.float32)
    w = np.ones((1024, 512, 4, 4), np.float32)
    convx.conv2d(x, w)
    gc.collect()
    before = _rss_bytes()
    if before is None:
        pytest.skip("resident memory is read from /proc (Linux only)")
    for _ in range(40):
        convx.conv2d(x, w)
    gc.collect()
    assert _rss_bytes() - before < 256 * 2**20  # a leaked 32 MiB packed weight 40 times would be 1.3 GiB
