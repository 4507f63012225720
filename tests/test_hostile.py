"""Hostile input: convx never crashes, hangs or corrupts.

Invalid arguments of every class raise ValueError or TypeError naming the parameter and leave
the inputs alone; valid but odd arguments give the reference result and leave the inputs alone.
The plain cases of each class live next to the behaviour they guard (test_errors.py,
test_api.py, test_extreme_geometry.py); this file adds the hostile extremes.
"""

import os
import textwrap

import numpy as np
import pytest

from helpers import run_python

# =============================================================================================
# thread counts


@pytest.mark.parametrize("setting", ["num_threads=2**16", "num_threads=10**9", "env CONVX_NUM_THREADS",
                                     "env OMP_NUM_THREADS"])
def test_absurd_thread_count_is_capped(setting):
    """A thread count far beyond the CPUs used to reach OpenMP as is: libgomp then crashed
    (SIGSEGV) starting 65536 threads. It is capped at a few threads per CPU."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "CONVX_NUM_THREADS")}
    call_threads = "None"
    if setting.startswith("env"):
        env[setting.split()[1]] = "100000"
    else:
        call_threads = setting.split("=")[1]
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        import convx
        x = np.ones((1, 64, 64, 64), np.float32)
        w = np.ones((64, 64, 3, 3), np.float32)
        y = convx.conv2d(x, w, padding=1, num_threads={call_threads})
        assert y[0, 0, 5, 5] == 64 * 9 and y[0, 0, 0, 0] == 64 * 4, y[0, 0, :2, :2]
        assert convx.get_config()["num_threads"] <= 4 * (os.cpu_count() or 1)
        print("ok")
    """)
    result = run_python(script, timeout=120, env=env)
    assert result is not None, "timed out"
    returncode, stdout, stderr = result
    assert returncode == 0 and "ok" in stdout, (returncode, stdout, stderr)
