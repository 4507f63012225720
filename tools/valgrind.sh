#!/usr/bin/env bash
# Run a fast subset of the test suite under valgrind memcheck, against the installed convx.
#
#   bash tools/valgrind.sh [pytest arguments]
#
# Default subset: hostile inputs and the random property tests (every family, layout and padding
# mode on small arrays), and one conv/depthwise/transpose sweep. Reads of uninitialised memory
# and invalid reads or writes fail the run (exit status 99); leaks are not checked (CPython keeps
# memory on purpose until exit; tests/test_memory_growth.py covers leaks).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"
DEFAULT=(tests/test_hostile.py tests/test_properties.py
         "tests/test_conv.py::test_random_configurations" "tests/test_transpose.py")
# Small problems stay on one thread anyway; passive waiting keeps OpenMP from spinning under
# valgrind's serialised threads. The fork and subprocess tests run their own interpreters.
# The hypothesis tests draw 50 examples each (profile "quick" in tests/conftest.py).
export OMP_WAIT_POLICY=passive PYTHONMALLOC=malloc HYPOTHESIS_PROFILE=quick
start=$(date +%s)
set +e
valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --track-origins=yes --num-callers=30 \
    --trace-children=no --log-file=/tmp/convx-valgrind.%p.log \
    "$PYTHON" -m pytest -p no:cacheprovider -q -x "${@:-${DEFAULT[@]}}"
status=$?
set -e
echo "valgrind.sh: exit status $status after $(( $(date +%s) - start )) s; log: /tmp/convx-valgrind.*.log"
exit $status
