"""Build the convx extension: Cython binding + C core, with OpenMP when the compiler has it.

CONVX_NO_OPENMP=1 builds without OpenMP (every call then runs on one thread). On macOS,
libomp is looked for in $LIBOMP_PREFIX and Homebrew's prefixes.
The whole extension is compiled for the baseline CPU; only the kernel files under
csrc/kernels/*_avx2.c and *_avx512.c switch on AVX2/FMA and AVX-512 themselves (via a target pragma), and are
selected at run time by csrc/dispatch.c. MSVC, which has no such pragma, builds the
portable kernels only.
"""

import os
import sys
import tempfile
from glob import glob

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


def openmp_flags(compiler):
    """Return (compile_args, link_args) enabling OpenMP, or None when it is unavailable."""
    if os.environ.get("CONVX_NO_OPENMP", "0") not in ("", "0"):
        return None
    if compiler.compiler_type == "msvc":
        return ["/openmp"], []
    candidates = [(["-fopenmp"], ["-fopenmp"])]
    if sys.platform == "darwin":
        # Apple clang has no OpenMP runtime of its own: it needs libomp's headers and library,
        # which Homebrew installs keg-only (off the default search paths).
        for prefix in _libomp_prefixes():
            candidates.append((["-Xpreprocessor", "-fopenmp", f"-I{prefix}/include"], [f"-L{prefix}/lib", "-lomp"]))
        candidates.append((["-Xpreprocessor", "-fopenmp"], ["-lomp"]))
    for compile_args, link_args in candidates:
        if _compiles(compiler, compile_args, link_args):
            return compile_args, link_args
    return None


def _libomp_prefixes():
    """Where libomp may be installed on macOS: $LIBOMP_PREFIX, then Homebrew's arm64 and x86_64 prefixes."""
    prefixes = [os.environ.get("LIBOMP_PREFIX", ""), "/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"]
    return [p for p in prefixes if p and os.path.isfile(os.path.join(p, "include", "omp.h"))]


def _compiles(compiler, compile_args, link_args):
    source = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "omp_check.c")
        with open(path, "w") as f:
            f.write(source)
        try:
            objects = compiler.compile([path], output_dir=tmp, extra_postargs=compile_args)
            compiler.link_executable(objects, "omp_check", output_dir=tmp, extra_postargs=link_args)
        except Exception:
            return False
    return True


class BuildExt(build_ext):
    def build_extensions(self):
        flags = openmp_flags(self.compiler)
        is_msvc = self.compiler.compiler_type == "msvc"
        base = ["/O2"] if is_msvc else ["-O3", "-std=gnu11", "-fno-math-errno"]
        for ext in self.extensions:
            ext.extra_compile_args = base + (flags[0] if flags else [])
            ext.extra_link_args = flags[1] if flags else []
        if flags is None:
            print("convx: building WITHOUT OpenMP (single-threaded)")
        super().build_extensions()


# *.template.c and *.instantiate.c are included by other sources, never compiled alone.
C_SOURCES = sorted(
    p for p in glob("csrc/*.c") + glob("csrc/kernels/*.c") if not p.endswith((".template.c", ".instantiate.c"))
)

extension = Extension(
    "convx._ext",
    sources=["src/convx/_ext.pyx", *C_SOURCES],
    include_dirs=["csrc", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
)

setup(
    ext_modules=cythonize([extension], compiler_directives={"language_level": "3"}),
    cmdclass={"build_ext": BuildExt},
)
