"""Several processes opening the same brand-new SQLite log at the same instant.

`open_together(paths, processes)` starts `processes` children (spawned, so
each is a real other process with its own SQLite connection); for every path
they all wait on one barrier, then open the path and append one event of their
own. It returns, per path, what each child saw: "ok" or the error line.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from store.sqlite_log import SQLiteEventLog
from tests.store.event_factory import make_events


async def _open_and_append(path: Path, worker: int) -> None:
    log = SQLiteEventLog(path)
    try:
        await log.append(make_events(f"run-{worker}", 1))
    finally:
        await log.close()


def _worker(worker: int, paths: list[Path], barrier: Barrier, results: Queue) -> None:
    for path in paths:
        barrier.wait(30)
        try:
            asyncio.run(_open_and_append(path, worker))
            outcome = "ok"
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which asserts
            outcome = f"{type(exc).__name__}: {exc}"
        results.put((str(path), worker, outcome))


def open_together(paths: list[Path], processes: int) -> dict[str, list[str]]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(processes)
    results: Queue = ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(w, paths, barrier, results)) for w in range(processes)
    ]
    for proc in procs:
        proc.start()
    outcomes: dict[str, list[str]] = {str(p): [] for p in paths}
    for _ in range(len(paths) * processes):
        path, _worker_n, outcome = results.get(timeout=60)
        outcomes[path].append(outcome)
    for proc in procs:
        proc.join(30)
    return outcomes
