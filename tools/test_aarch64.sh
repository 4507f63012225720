#!/usr/bin/env bash
# Cross-builds the C core with its NEON kernels for aarch64 and runs the core test under
# qemu-aarch64, on both kernel paths. Needs: apt-get install gcc-aarch64-linux-gnu qemu-user
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/convx-aarch64"
mkdir -p "$out"
sources=$(ls csrc/*.c csrc/kernels/*.c | grep -v -e '\.template\.c$' -e '\.instantiate\.c$')
aarch64-linux-gnu-gcc -O2 -std=gnu11 -fopenmp -static -Icsrc tests/c/test_core.c $sources -lm -o "$out/test_core"
file "$out/test_core" | grep -q aarch64
cases="${1:-300}"
qemu-aarch64 "$out/test_core" "$cases"
CONVX_ISA=generic qemu-aarch64 "$out/test_core" "$cases"
