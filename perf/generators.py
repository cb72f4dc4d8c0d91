"""Throughput of every registered procedural generator: instances per second, with verification.

    .venv/bin/python perf/generators.py [--only calendar,proofs] [--seconds 5] [--render]

For each generator: sample seeds 0, 1, 2, ... and run `verify` on each (every
check must pass) until the time budget is spent; prints instances/s against
the issue's target. `--render` adds rendering (with media files) to the loop.
The machine is shared, so next to wall-clock instances/s it also prints
instances per CPU-second (this process plus its children, e.g. the test
worker subprocess of code_debugging, which is ended after the loop so its CPU
time counts): what one free core would do.
speech_dialogue also prints seconds of audio per wall-clock second (its target),
which needs rendering, so it is always rendered.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from tools.generators.code_runner import close_workers
from tools.generators.registry import (
    GENERATORS,
    GeneratorUnavailable,
    get_generator,
)

TARGETS = {  # issue 5, "Performance"
    "calendar": "instances/s >= 1000",
    "causal_physics": "instances/s >= 20",
    "proofs": "instances/s >= 200",
    "code_debugging": "instances/s >= 20 (tests run)",
    "speech_dialogue": "audio-s per wall-s >= 5",
}


def _cpu() -> float:
    """CPU seconds used by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def bench(name: str, seconds: float, render: bool) -> None:
    try:
        gen = get_generator(name)
    except GeneratorUnavailable as exc:
        print(f"{name:16s} unavailable: {exc}")
        return
    render = render or name == "speech_dialogue"
    n, audio_s = 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        close_workers()  # RUSAGE_CHILDREN counts only children that have ended
        start, cpu0 = time.perf_counter(), _cpu()
        while time.perf_counter() - start < seconds or n < 3:
            instance = gen.sample(n)
            failed = [c for c in gen.verify(instance) if not c.passed]
            if failed:
                raise SystemExit(f"{name} seed {n}: verification failed: {failed}")
            if render:
                item = gen.render(instance, Path(tmp))
                audio_s += float(item.metadata.get("duration_s", 0.0))
            n += 1
        wall = time.perf_counter() - start
        close_workers()
        cpu = _cpu() - cpu0
    what = "sample+verify" + ("+render" if render else "")
    line = (f"{name:16s} {n:6d} in {wall:5.2f} s = {n / wall:8.1f}/s wall, "
            f"{n / cpu:8.1f}/s per CPU-s ({what})")
    if audio_s:
        line += f"; {audio_s / wall:.1f} audio-s per wall-s"
    print(f"{line}   target: {TARGETS.get(name, '-')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated generator names")
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget per generator")
    parser.add_argument("--render", action="store_true", help="render each instance too")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(GENERATORS)
    for name in names:
        bench(name, args.seconds, args.render)


if __name__ == "__main__":
    main()
