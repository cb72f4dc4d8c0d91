"""Reading a watcher's store from a test, while the watcher writes it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from store.events import EventEnvelope
from store.sqlite_log import SQLiteEventLog

REPO = Path(__file__).resolve().parents[2]


async def events_of(home: Path, run_id: str) -> list[EventEnvelope]:
    log = SQLiteEventLog(home / "events.db")
    try:
        return await log.read(run_id)
    finally:
        await log.close()


def count(events: list[EventEnvelope], type_name: str) -> int:
    return sum(1 for e in events if e.type == type_name)


def per_model(events: list[EventEnvelope], type_name: str) -> Counter[str]:
    return Counter(str(getattr(e.payload, "model", "")) for e in events if e.type == type_name)


def start_watcher(*args: str, stderr: Path) -> subprocess.Popen[bytes]:
    """`benchagent watch ARGS` as its own process (the scripted brain importable)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "benchagent", "watch", *args], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=stderr.open("wb"))


def wait_sync(condition: Callable[[], bool], timeout: float, what: str,
              interval: float = 0.1) -> None:
    """`tests.waiting.wait_until` for a test without an event loop (the condition may run
    a command that starts its own)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout:g} s")
        time.sleep(interval)
