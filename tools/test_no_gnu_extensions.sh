#!/usr/bin/env bash
# Builds the C core the way a compiler without GCC extensions sees it (MSVC's code path: no
# vector extensions, no target pragma, so only the portable kernels) and runs the core test.
# GCC stands in for MSVC here: the system headers are read first, then __GNUC__ is undefined.
# -Werror=vla because MSVC's C compiler has no variable-length arrays.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/convx-no-gnu"
mkdir -p "$out"
cat > "$out/prelude.h" <<'H'
#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#undef __GNUC__
H
sources=$(ls csrc/*.c csrc/kernels/*.c | grep -v -e '\.template\.c$' -e '\.instantiate\.c$')
gcc -O2 -std=gnu11 -fopenmp -Wall -Werror=vla -include "$out/prelude.h" -Icsrc tests/c/test_core.c $sources -lm \
    -o "$out/test_core"
"$out/test_core" "${1:-300}" | tee "$out/log"
grep -q "kernels generic" "$out/log"
