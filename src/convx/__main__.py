"""``python -m convx``: time convx against NumPy on typical layers and print a table.

See ``python -m convx --help``; the machinery lives in :mod:`convx._benchmark`.
"""

from convx._benchmark import main

if __name__ == "__main__":
    raise SystemExit(main(prog="python -m convx"))
