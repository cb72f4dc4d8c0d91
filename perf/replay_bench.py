"""Replay speed: rebuild a synthetic 10,000-sample run from a SQLite log, and read speed.

    PYTHONPATH=. .venv/bin/python perf/replay_bench.py [--samples 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from benchagent.cli import main
from store.sqlite_log import SQLiteEventLog
from tests.replay.synthetic_run import store_synthetic_media, synthetic_run


async def fill(path: Path, samples: int) -> int:
    log = SQLiteEventLog(path)
    events = synthetic_run("perf-run", samples)
    await log.append(events, expected_seq=0)
    await log.close()
    await store_synthetic_media(path.parent, samples)  # media bytes: the home's blob store
    return len(events)


async def read_all(path: Path) -> tuple[int, float]:
    log = SQLiteEventLog(path)
    t = time.perf_counter()
    n = len(await log.read("perf-run"))
    dt = time.perf_counter() - t
    await log.close()
    return n, dt


def run() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        n_events = asyncio.run(fill(home / "events.db", args.samples))
        n, dt_read = asyncio.run(read_all(home / "events.db"))
        t = time.perf_counter()
        code = main(["replay", "perf-run", "--out", str(home / "out"), "--home", str(home)])
        dt_replay = time.perf_counter() - t
        assert code == 0
    print(f"events in run:         {n_events}")
    print(f"events read/s:         {n / dt_read:,.0f}")
    print(f"replay {args.samples} samples: {dt_replay:.2f} s (target < 5 s)")


if __name__ == "__main__":
    run()
