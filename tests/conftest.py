"""Shared pytest fixtures for the convx test suite.

Kernel paths: convx reads the CONVX_ISA environment variable once, at import time
(CONVX_ISA=generic forces the portable kernels).  A fixture cannot switch paths inside one
process, so to cover both, run the suite twice:

    python -m pytest tests                       # best ISA the CPU supports
    CONVX_ISA=generic python -m pytest tests     # portable kernels

(A parametrised fixture that re-runs tests in a subprocess per ISA is not needed yet.)

Helpers shared by the test modules (the convx-vs-reference comparison ``check_*`` functions,
data generators, tolerance rules) live in tests/helpers.py; the oracle is tests/reference.py.
"""

import os
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings


@pytest.fixture
def rng(request):
    """A NumPy Generator seeded from the test id: reproducible, different for every test."""
    seed = zlib.crc32(request.node.nodeid.encode())
    return np.random.default_rng(seed)


def pytest_report_header(config):
    lines = [f"CONVX_ISA={os.environ.get('CONVX_ISA', '<unset>')}"]
    try:
        import convx

        lines.append(f"convx {getattr(convx, '__version__', '?')} from {os.path.dirname(convx.__file__)}")
    except Exception as exc:  # noqa: BLE001 - header only; the tests themselves will fail loudly
        lines.append(f"convx not importable: {exc!r}")
    return lines


# Hypothesis: bounded and reproducible in the test suite (the same examples on every run, no
# example database written into the work tree); tools/fuzz.py draws fresh random examples.
# HYPOTHESIS_PROFILE=quick draws fewer (for slow runs such as valgrind).
settings.register_profile("convx", max_examples=400, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("quick", settings.get_profile("convx"), max_examples=50)  # tools/valgrind.sh
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "convx"))
