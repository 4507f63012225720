"""How the built extension meets its run-time environment: the OpenMP runtime is one that
threadpoolctl finds and controls, and the module keeps the GIL off on free-threaded CPython.

CONVX_REQUIRE_OPENMP=1 (set by the wheel builds and by CI legs built with OpenMP) turns
"convx was built without OpenMP" from a skip into a failure, so a wheel that silently lost
OpenMP cannot pass.
"""

import os
import subprocess
import sys
import sysconfig

import pytest

import convx

OPENMP = convx.get_config()["openmp"]
REQUIRED = os.environ.get("CONVX_REQUIRE_OPENMP", "0") not in ("", "0")
needs_openmp = pytest.mark.skipif(not OPENMP and not REQUIRED,
                                  reason="convx was built without OpenMP (CONVX_NO_OPENMP=1 or no OpenMP in the "
                                         "compiler): it always runs one thread and has no runtime to control")


def test_openmp_present_when_required():
    if not REQUIRED:
        pytest.skip("CONVX_REQUIRE_OPENMP is not set: a build without OpenMP is allowed here")
    assert OPENMP, "convx was built without OpenMP, but CONVX_REQUIRE_OPENMP=1 says this build must have it"


@needs_openmp
def test_threadpoolctl_finds_the_openmp_runtime(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.delenv("CONVX_NUM_THREADS", raising=False)
    assert OPENMP
    openmp = [info for info in threadpoolctl.threadpool_info() if info["user_api"] == "openmp"]
    assert openmp, f"threadpoolctl lists no OpenMP runtime: {threadpoolctl.threadpool_info()}"
    assert convx.get_config()["num_threads"] in {info["num_threads"] for info in openmp}


@needs_openmp
def test_threadpool_limits_sets_the_default_thread_count(monkeypatch):
    """threadpool_limits calls omp_set_num_threads in the runtime it found; num_threads=None
    (what get_config reports) follows it only when that runtime is the one convx runs on."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    monkeypatch.delenv("CONVX_NUM_THREADS", raising=False)
    assert OPENMP
    default = convx.get_config()["num_threads"]
    for limit in (1, default + 1):  # one of the two differs from the default, whatever it is
        with threadpoolctl.threadpool_limits(limits=limit, user_api="openmp"):
            assert convx.get_config()["num_threads"] == limit
    assert convx.get_config()["num_threads"] == default


@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"), reason="needs a free-threaded CPython build")
def test_import_keeps_the_gil_disabled():
    """A module not declared free-threading compatible re-enables the GIL (with a warning) on import."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    code = "import sys, convx; print(sys._is_gil_enabled())"
    run = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True,
                         env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"
