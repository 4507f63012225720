#!/usr/bin/env bash
# Run a fast subset of the test suite under valgrind memcheck, against the installed convx.
#
#   bash tools/valgrind.sh [pytest arguments]
#
# Default subset: hostile inputs and the random property tests (every family, layout and padding
# mode on small arrays), and one conv/depthwise/transpose sweep. An error report (invalid read or
# write, use of uninitialised memory) with a frame in convx's extension fails the run, as does a
# failing test. Reports wholly inside the interpreter or NumPy are counted but not ours to fix
# (a CPython not built for valgrind reports some at start-up). Leaks are not checked (CPython
# keeps memory on purpose until exit; tests/test_memory_growth.py covers leaks).
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
LOGS="$(mktemp -d)"
set +e
valgrind --tool=memcheck --leak-check=no --track-origins=yes --num-callers=30 \
    --trace-children=no --log-file="$LOGS/valgrind.%p.log" \
    "$PYTHON" -m pytest -p no:cacheprovider -q -x "${@:-${DEFAULT[@]}}"
status=$?
set -e
echo "valgrind.sh: pytest exit status $status after $(( $(date +%s) - start )) s; logs in $LOGS"
"$PYTHON" - "$LOGS" <<'SCAN' || status=1
import pathlib, re, sys
reports = ours = 0
for log in pathlib.Path(sys.argv[1]).glob("valgrind.*.log"):
    for block in re.split(r"\n==\d+== \n", log.read_text()):
        if re.search(r"== (Invalid (read|write|free)|Use of uninitialised|Conditional jump|Syscall param|"
                     r"Mismatched free|Source and destination overlap)", block):
            reports += 1
            if re.search(r"(by|at) 0x[0-9A-F]+: .*(convx_|_ext\.cpython|csrc/)", block):
                ours += 1
                print(block)
print(f"valgrind.sh: {reports} error reports, {ours} with a frame in convx")
sys.exit(1 if ours else 0)
SCAN
exit $status
