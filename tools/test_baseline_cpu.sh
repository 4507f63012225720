#!/usr/bin/env bash
# Proves the installed convx runs on an x86-64 CPU without AVX (a Nehalem: SSE4.2, no AVX, AVX2
# or FMA), as a wheel must: only the dispatched AVX2 and AVX-512 kernels may use AVX instructions.
#   1. qemu traps AVX on that CPU model: a canary AVX2 instruction dies there with SIGILL and
#      runs under -cpu Haswell (otherwise steps 3-4 would prove nothing).
#   2. Static check: in convx's extension module, every function that uses a VEX/EVEX-encoded
#      (AVX) instruction is an AVX2 or AVX-512 kernel (its name says avx2 or avx512).
#   3. Under qemu-x86_64 -cpu Nehalem, convx imports and picks the generic kernels.
#   4. Under the same emulation, a test subset passes (by default the convolution families and
#      layers: about 4 minutes).
#   5. Under qemu-x86_64 -cpu Haswell (AVX2 and FMA, no AVX-512), convx picks the AVX2 kernels
#      and the exact kernel-path tests pass: no AVX-512 instruction runs outside its table.
# OPENBLAS_CORETYPE is unset inside the emulation: a core type forced for the host (Haswell)
# would run NumPy's AVX2 BLAS kernels on the emulated CPU.
# Usage: PYTHON=/path/to/venv/bin/python tools/test_baseline_cpu.sh [pytest args...]
# Needs: qemu-user (apt-get install qemu-user), binutils, gcc; convx and pytest installed in $PYTHON.
# Run it from anywhere: the tests are run from the repository's tests/ against the installed convx.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
cpu="${CONVX_QEMU_CPU:-Nehalem}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
emulate() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE qemu-x86_64 "$@"; }

echo "== 1. canary: an AVX2 instruction must trap under qemu-x86_64 -cpu $cpu"
# Inline assembly: the compiler can neither fold nor drop the instruction.
cat > "$work/canary.c" <<'C'
int main(void) { __asm__ volatile("vpaddd %%ymm0, %%ymm0, %%ymm0" ::: "xmm0"); return 0; }
C
gcc -O1 "$work/canary.c" -o "$work/canary"
qemu-x86_64 -cpu Haswell "$work/canary" 2>/dev/null  # control: the canary itself is fine where AVX2 exists
if qemu-x86_64 -cpu "$cpu" "$work/canary" 2>/dev/null; then
    echo "FAIL: qemu ran an AVX2 instruction on -cpu $cpu, so this test could not catch one" >&2
    exit 1
fi
echo "ok: the canary died (AVX2 is illegal on this CPU model)"

echo "== 2. static check of convx's extension module"
ext="$("$python" -c 'import convx._ext as e; print(e.__file__)')"
echo "module: $ext"
# Functions containing an instruction on ymm/zmm registers or with a VEX-only mnemonic (v...).
objdump -d --no-show-raw-insn "$ext" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $2; next }
    NF >= 2 && ($2 ~ /^v[a-z]/ || $0 ~ /%[yz]mm/) { uses[fn] = 1 }
    END { for (f in uses) print f }' | sort > "$work/avx_functions"
echo "functions using AVX: $(wc -l < "$work/avx_functions")"
if grep -v -i -E 'avx2|avx512' "$work/avx_functions"; then
    echo "FAIL: the functions above use AVX but are not dispatched AVX2 or AVX-512 kernels" >&2
    exit 1
fi
for isa in avx2 avx512; do
    grep -q -i "_${isa}_" "$work/avx_functions" || { echo "FAIL: no $isa kernel found: is the module stripped?" >&2; exit 1; }
done
echo "ok: only AVX2 and AVX-512 kernels use AVX"

echo "== 3. convx under qemu-x86_64 -cpu $cpu"
emulate -cpu "$cpu" "$python" -c '
import convx
c = convx.get_config()
print(c)
assert c["kernels"] == "generic", c
assert "avx" not in c["cpu_features"].split(), c'

echo "== 4. tests under qemu-x86_64 -cpu $cpu"
if [ "$#" -eq 0 ]; then
    set -- -x -q tests/test_conv.py tests/test_depthwise_separable_pointwise.py tests/test_transpose.py tests/test_layers.py
fi
start=$(date +%s)
emulate -cpu "$cpu" "$python" -m pytest -p no:cacheprovider "$@"
echo "tests under qemu took $(( $(date +%s) - start )) s"

echo "== 5. convx under qemu-x86_64 -cpu Haswell (no AVX-512)"
emulate -cpu Haswell "$python" -c '
import convx
c = convx.get_config()
print(c)
assert c["kernels"] == "avx2_fma", c
assert "avx512" not in c["cpu_features"].split(), c'
emulate -cpu Haswell "$python" -m pytest -p no:cacheprovider -x -q tests/test_kernel_paths.py
