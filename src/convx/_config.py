"""Build and run-time configuration."""

from __future__ import annotations

import sys

from . import _ext
from ._validation import max_threads

__version__ = "0.1.0"


def get_config() -> dict[str, object]:
    """Version, OpenMP, thread count and CPU facts as a dict (what :func:`show_config` prints).

    ``forked_child`` is True in a process forked (POSIX ``fork``) after convx was imported: every
    call there runs on one thread, since GNU OpenMP's thread pool does not survive ``fork`` and a
    multi-threaded call could hang.
    """
    core = _ext.config()
    return {
        "version": __version__,
        "openmp": core["openmp"],
        "num_threads": max_threads(),
        "forked_child": core["forked_child"],
        "kernels": core["isa"],
        "cpu_features": core["cpu_features"],
    }


def show_config() -> None:
    """Print convx's version, OpenMP status and thread count, and the CPU features detected."""
    config = get_config()
    lines = [
        f"convx {config['version']}",
        f"  OpenMP:        {'on' if config['openmp'] else 'off (single-threaded build)'}",
        f"  threads:       {config['num_threads']}"
        + (" (a forked child: one thread, as GNU OpenMP does not survive fork)" if config["forked_child"] else ""),
        f"  kernels:       {config['kernels']}",
        f"  CPU features:  {config['cpu_features'] or 'none detected'}",
        f"  Python:        {sys.version.split()[0]}",
    ]
    print("\n".join(lines))
