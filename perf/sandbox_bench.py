"""Overhead of the sandbox that runs synthesized generators.

    .venv/bin/python perf/sandbox_bench.py [--starts 20] [--calls 2000]

Prints:
- cold start: milliseconds from nothing to a loaded module answering its first call, for a
  module importing only the standard library and for one importing PIL (median and p90);
- warm calls/s: a reusable sandbox answering trivial calls, and the template example's
  `sample` (the per-call cost once a generator is loaded);
- one full check (`check_generator`, 16 seeds) of the template example, in seconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.sandbox.checks import CheckPlan, check_generator  # noqa: E402
from tools.sandbox.session import Sandbox  # noqa: E402
from tools.sandbox.template import EXAMPLE_PARAMS, EXAMPLE_PARTS, compose  # noqa: E402

PLAIN = "import math\n\ndef f(x):\n    return math.sqrt(x)\n"
WITH_PIL = "from PIL import Image\n\ndef f(x):\n    return x\n"


def cold_starts(source: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        with Sandbox(source) as box:
            assert box.start().ok
            assert box.call("f", 4).ok
            times.append((time.perf_counter() - t0) * 1000)
    return times


def warm_calls(source: str, function: str, args: list[object], n: int) -> float:
    with Sandbox(source) as box:
        assert box.start().ok
        box.call(function, *args)
        t0 = time.perf_counter()
        for _ in range(n):
            assert box.call(function, *args).ok
        return n / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    for label, source in (("stdlib module", PLAIN), ("PIL module", WITH_PIL)):
        times = sorted(cold_starts(source, args.starts))
        p90 = times[int(0.9 * (len(times) - 1))]
        print(f"cold start, {label}: median {statistics.median(times):.1f} ms, "
              f"p90 {p90:.1f} ms ({args.starts} starts)")
    print(f"warm calls/s, trivial call: {warm_calls(PLAIN, 'f', [4], args.calls):.0f}")
    example = compose(EXAMPLE_PARTS, EXAMPLE_PARAMS)
    rate = warm_calls(example, "sample", [3, {"max_seconds": 86399}], args.calls)
    print(f"warm calls/s, template example sample(): {rate:.0f}")
    t0 = time.perf_counter()
    report = check_generator(example, CheckPlan(name="hms", params=EXAMPLE_PARAMS, seeds=16))
    print(f"check_generator, 16 seeds: {time.perf_counter() - t0:.2f} s, "
          f"{report.stats.calls} calls, {report.stats.sandboxes} sandboxes, "
          f"passed={report.passed}")


if __name__ == "__main__":
    main()
