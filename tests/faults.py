"""Helpers of the fault tests: killing a process at a moment when no model answer is between
the server and the log, and counting what the log recorded.

An answer the server wrote but the client never recorded (the client killed in those few
milliseconds) is lost with the process and asked again: a real second payment no design
can avoid. `kill_between_answers` therefore holds the server's answers back, waits until
every answer it wrote is in the log, and only then kills: the calls in flight are cut
before their answers go out (the server sees the client gone and counts them `abandoned`).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tools.llm.scripted_server import ScriptedServer


def recorded_answers_sqlite(db: Path) -> Callable[[], int]:
    """How many answered LLM calls a SQLite log holds (read-only, while it is written)."""
    def count() -> int:
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        except sqlite3.OperationalError:
            return 0
        try:
            rows = conn.execute("SELECT data FROM events WHERE type = 'LLMCallRecorded'")
            return sum(1 for (data,) in rows if b'"error":null' in bytes(data)
                       and b'"answer":null' not in bytes(data))
        except sqlite3.OperationalError:  # no table yet
            return 0
        finally:
            conn.close()

    return count


def kill_between_answers(proc: subprocess.Popen[bytes], server: ScriptedServer,
                         recorded: Callable[[], int], *, timeout: float = 60.0) -> None:
    """SIGKILL `proc` once every answer the server wrote is recorded, holding new answers
    back meanwhile (see the module doc)."""
    deadline = time.monotonic() + timeout
    while True:
        with server.holding_answers():
            if server.answered_total() <= recorded():
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return
        if time.monotonic() > deadline:
            raise AssertionError(f"answers written {server.answered_total()}, recorded "
                                 f"{recorded()}: never equal within {timeout:g} s")
        time.sleep(0.01)


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str,
             proc: subprocess.Popen[bytes] | None = None, interval: float = 0.05) -> None:
    """Return once `condition()` holds; `AssertionError` naming `what` after `timeout` s (or
    at once with its stderr if `proc` exits meanwhile)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode()[-3000:] if proc.stderr else ""
            raise AssertionError(f"{what}: the process exited with {proc.returncode}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout:g} s")
        time.sleep(interval)
