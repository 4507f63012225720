"""The C core on its own: tests/c/test_core.c (a naive C reference, random problems of every
kind, integer data so results must match exactly) built with this machine's C compiler and run
on both kernel paths; and, where a cross compiler and qemu exist, built for aarch64 with the
NEON kernels and run under emulation (tools/test_aarch64.sh)."""

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [str(p) for p in sorted((ROOT / "csrc").rglob("*.c")) if not p.name.endswith((".template.c", ".instantiate.c"))]


def _compiler():
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) or shutil.which("cc") or shutil.which("gcc")


# The wheel builds run the tests from a copy of tests/ against the installed wheel: no C sources there.
needs_sources = pytest.mark.skipif(not (ROOT / "csrc").is_dir(),
                                   reason="the C sources are not beside the tests (tests run outside the source tree)")


@pytest.fixture(scope="module")
def core_test(tmp_path_factory):
    cc = _compiler()
    if cc is None:
        pytest.skip("no C compiler to build tests/c/test_core.c")
    exe = tmp_path_factory.mktemp("core") / "test_core"
    cmd = [cc, "-O2", "-std=gnu11", "-fopenmp", f"-I{ROOT / 'csrc'}", str(ROOT / "tests/c/test_core.c"), *SOURCES,
           "-lm", "-o", str(exe)]
    build = subprocess.run(cmd, capture_output=True, text=True)
    if build.returncode != 0:  # a compiler without OpenMP: the core builds single-threaded
        build = subprocess.run([c for c in cmd if c != "-fopenmp"], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    return exe


@needs_sources
@pytest.mark.parametrize("isa", ["native", "generic"])
def test_core_matches_naive_reference(core_test, isa):
    env = dict(os.environ)
    if isa == "generic":
        env["CONVX_ISA"] = "generic"
    run = subprocess.run([str(core_test), "400"], capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "800 passed, 0 failed" in run.stdout
    if isa == "generic":
        assert "kernels generic" in run.stdout


@needs_sources
@pytest.mark.skipif(not (shutil.which("aarch64-linux-gnu-gcc") and shutil.which("qemu-aarch64")),
                    reason="needs gcc-aarch64-linux-gnu and qemu-user (tools/test_aarch64.sh)")
def test_core_on_aarch64_under_qemu():
    env = {k: v for k, v in os.environ.items() if k != "CONVX_ISA"}  # the script sets it itself
    run = subprocess.run(["bash", str(ROOT / "tools/test_aarch64.sh"), "150"], capture_output=True, text=True,
                         timeout=900, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "kernels neon" in run.stdout and run.stdout.count("300 passed, 0 failed") == 2
