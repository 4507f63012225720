"""Fuzz convx for a bounded time with hypothesis-driven argument combinations and small arrays.

Three targets, run in turn on fresh random examples until the time is up:

* valid: random valid calls (tests/strategies.py) must match the NumPy reference bit for bit
  and leave their inputs alone;
* invalid: a valid call with one argument spoiled must raise ValueError or TypeError naming it;
* wild: any function with arguments of any kind (odd dtypes and shapes, huge, negative, float,
  string, bytes and nested values) must either return a float array or raise ValueError or
  TypeError naming a parameter, and leave its inputs alone. A crash ends the process.

    python tools/fuzz.py --seconds 300

Hypothesis shrinks a failure to a minimal example and prints it; the exit status is then 1.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from strategies import invalid_calls, valid_calls, wild_calls  # noqa: E402
from test_properties import check_invalid_call, check_valid_call, check_wild_call  # noqa: E402

TARGETS = {"valid": (valid_calls, check_valid_call), "invalid": (invalid_calls, check_invalid_call),
           "wild": (wild_calls, check_wild_call)}


def run(target, examples, counter):
    strategy, check = TARGETS[target]

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(strategy())
    def fuzz(drawn):
        counter[target] += 1
        outcome = check(drawn)
        if outcome:
            counter[f"{target} {outcome}"] = counter.get(f"{target} {outcome}", 0) + 1

    fuzz()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    parser.add_argument("--batch", type=int, default=500, help="examples per target per round (default 500)")
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), default=list(TARGETS))
    options = parser.parse_args()
    counter = dict.fromkeys(options.targets, 0)
    start = time.perf_counter()
    rounds = 0
    while time.perf_counter() - start < options.seconds:
        for target in options.targets:
            run(target, options.batch, counter)
        rounds += 1
    elapsed = time.perf_counter() - start
    total = sum(counter[t] for t in options.targets)
    print(f"fuzz: {total} examples in {elapsed:.0f} s ({rounds} rounds): "
          + ", ".join(f"{k} {v}" for k, v in counter.items()) + "; no failure")


if __name__ == "__main__":
    main()
