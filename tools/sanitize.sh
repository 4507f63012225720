#!/usr/bin/env bash
# Build convx with AddressSanitizer + UndefinedBehaviorSanitizer and run the test suite under it.
#
#   bash tools/sanitize.sh [pytest arguments]      (default: the whole suite, tests/)
#
# The work tree is copied to a temporary directory and the extension built in place there, so
# the developer's own build is left alone. The sanitizer runtimes are preloaded into the ordinary
# Python running this script, which needs numpy, Cython, setuptools and the test extra
# (pytest, hypothesis, scipy). Leak detection is off (CPython keeps memory on purpose until
# exit); tests/test_memory_growth.py covers leaks. Any UBSan report or ASan error fails the run.
# GCC's runtimes: set CC to another gcc if needed (clang would need its own runtime paths).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CC="${CC:-gcc}"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# the work tree as it is (tracked and new files, not ignored ones such as builds)
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 cp --parents -t "$WORK")

SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -g"
echo "sanitize.sh: building in $WORK with $CC $SANITIZE"
# The flags go into CC itself: setup.py's OpenMP probe links an executable, which CFLAGS and
# LDFLAGS do not reach, and would then build without OpenMP.
(cd "$WORK" && CC="$CC $SANITIZE" \
    "$PYTHON" setup.py -q build_ext --inplace) > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }

for so in "$WORK"/src/convx/_ext*.so; do
    nm -D "$so" | grep __asan_init > /dev/null || { echo "sanitize.sh: $so is not instrumented"; exit 1; }
done

LIBASAN="$("$CC" -print-file-name=libasan.so)"
LIBUBSAN="$("$CC" -print-file-name=libubsan.so)"
export LD_PRELOAD="$LIBASAN:$LIBUBSAN"
# detect_leaks=0: CPython's own allocations at exit are not leaks; the OpenMP runtime is not
# instrumented, so no container-overflow checks across it.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_container_overflow=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export PYTHONPATH="$WORK/src"
if [ "${CONVX_NO_OPENMP:-0}" = "0" ]; then
    (cd "$WORK" && "$PYTHON" -c "import convx; assert convx.get_config()['openmp']") \
        || { echo "sanitize.sh: the sanitized build has no OpenMP"; exit 1; }
fi
export PYTHONMALLOC=malloc  # every Python allocation through malloc, where ASan watches it
cd "$WORK"
# Subprocesses the tests start (the C core test's compiler, fork checks) inherit the preload.
start=$(date +%s)
set +e
# --capture=sys: a report is written to file descriptor 2, which pytest's default capture would
# swallow when the sanitizer stops the process in the middle of a test.
"$PYTHON" -m pytest -p no:cacheprovider --capture=sys -q "${@:-tests}" 2>&1 | tee "$WORK/pytest.log"
status=${PIPESTATUS[0]}
set -e
echo "sanitize.sh: pytest exited with $status after $(( $(date +%s) - start )) s"
if grep -qE "runtime error:|ERROR: AddressSanitizer" "$WORK/pytest.log"; then
    echo "sanitize.sh: sanitizer reports found (above)"
    exit 1
fi
"$PYTHON" -c "import convx, os; assert os.path.dirname(convx.__file__).startswith('$WORK'), convx.__file__" \
    || { echo "sanitize.sh: the tests did not use the sanitized build"; exit 1; }
exit "$status"
