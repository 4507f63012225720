"""convx vs NumPy: the same benchmark as ``python -m convx``, optionally saved as Markdown.

    python benchmarks/bench_numpy.py                        # all default cases
    python benchmarks/bench_numpy.py --cases depthwise,sep  # a subset
    python benchmarks/bench_numpy.py --markdown results.md  # also write the table to a file

All options of ``python -m convx`` are accepted (see ``--help``); the cases, the NumPy
baselines and the timing live in :mod:`convx._benchmark`.
"""

import sys

from convx._benchmark import build_parser, run_cli


def main() -> int:
    parser = build_parser(prog="bench_numpy.py")
    parser.add_argument("--markdown", metavar="PATH", default=None,
                        help="also write the setup line and the table to this Markdown file")
    return run_cli(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
