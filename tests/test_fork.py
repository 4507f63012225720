"""A process that used convx on several threads and then forks has a child whose convx calls
complete (GNU libgomp's thread pool does not survive fork: without care the child's first
parallel region waits forever for threads that do not exist).

Each scenario runs in its own interpreter under a timeout, so a hang fails the test instead of
hanging the suite.
"""

import os
import textwrap

import pytest

from helpers import run_python

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the platform has no fork()")

# The parent first runs a convolution big enough for the core to use 2 threads (it keeps small
# problems on one thread), so libgomp has a live thread pool at fork time.
PARENT = textwrap.dedent("""
    import multiprocessing, os, sys
    import numpy as np
    import convx

    rng = np.random.default_rng(0)
    x = rng.integers(-3, 4, (2, 32, 48, 48)).astype(np.float32)
    w = rng.integers(-3, 4, (32, 32, 3, 3)).astype(np.float32)
    expected = convx.conv2d(x, w, padding=1, num_threads=2)
    depthwise = convx.depthwise_conv2d(x, w[:, :1], padding=2, dilation=2, num_threads=2)

    def child_work():
        same = np.array_equal(convx.conv2d(x, w, padding=1, num_threads=2), expected)
        same &= np.array_equal(convx.depthwise_conv2d(x, w[:, :1], padding=2, dilation=2), depthwise)
        return same and convx.get_config()["forked_child"] and convx.get_config()["num_threads"] == 1
""")

SCENARIOS = {
    "os_fork": """
        pid = os.fork()
        if pid == 0:
            os._exit(0 if child_work() else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
    """,
    "multiprocessing_fork_pool": """
        def task(_):
            return child_work()

        with multiprocessing.get_context("fork").Pool(2) as pool:
            assert all(pool.map(task, range(4)))
    """,
    "grandchild": """
        pid = os.fork()
        if pid == 0:
            inner = os.fork()
            if inner == 0:
                os._exit(0 if child_work() else 3)
            _, status = os.waitpid(inner, 0)
            os._exit(os.waitstatus_to_exitcode(status))
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
    """,
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_forked_child_completes(scenario):
    script = PARENT + textwrap.dedent(SCENARIOS[scenario]) + textwrap.dedent("""
        assert not convx.get_config()["forked_child"]
        assert np.array_equal(convx.conv2d(x, w, padding=1, num_threads=2), expected)
        print("parent ok")
    """)
    # the parent's own thread settings must not hide the bug: let it use 2 threads
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "CONVX_NUM_THREADS")}
    result = run_python(script, timeout=60, env=env)
    assert result is not None, f"{scenario}: the forked child hung in a convx call"
    returncode, stdout, stderr = result
    assert returncode == 0, stdout + stderr
    assert "parent ok" in stdout
