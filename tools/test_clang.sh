#!/usr/bin/env bash
# Builds convx with Clang (as macOS wheels are) in a copy of the work tree and checks that the
# x86 kernel tables are really compiled for their ISA (Clang ignores GCC's target pragma, so the
# AVX2 table had silently been SSE code) and that the kernel-path and convolution tests pass on
# that build, on every table this CPU runs.
# Usage: PYTHON=/path/to/venv/bin/python tools/test_clang.sh   (needs clang, objdump; convx's
# build and test requirements installed in $PYTHON). Without libomp for Clang it builds without
# OpenMP, which the tests allow.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 cp --parents -t "$WORK")
(cd "$WORK" && CC=clang "$PYTHON" setup.py -q build_ext --inplace) > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
so="$(ls "$WORK"/src/convx/_ext*.so)"
objdump -d --no-show-raw-insn "$so" > "$WORK/disassembly"
# functions of a table that touch its vector registers: ymm for AVX2, zmm for AVX-512
count() { awk -v isa="_$1_" -v reg="$2" '/^[0-9a-f]+ <.*>:$/ { fn = $2; next }
    index(fn, isa) && $0 ~ reg { uses[fn] = 1 } END { print length(uses) }' "$WORK/disassembly"; }
for check in "avx2 %ymm" "avx512 %zmm"; do
    set -- $check
    n="$(count "$1" "$2")"
    echo "clang build: $n $1 kernel functions use $2"
    [ "$n" -gt 0 ] || { echo "FAIL: the $1 table was not compiled for $1" >&2; exit 1; }
done
cd "$WORK"
tests=(tests/test_kernel_paths.py tests/test_conv.py tests/test_depthwise_separable_pointwise.py)
PYTHONPATH="$WORK/src" "$PYTHON" -m pytest -p no:cacheprovider -x -q "${tests[@]}"
PYTHONPATH="$WORK/src" CONVX_ISA=avx2 "$PYTHON" -m pytest -p no:cacheprovider -x -q "${tests[@]}"
