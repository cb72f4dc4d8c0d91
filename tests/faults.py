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
                         recorded: Callable[[], int], *, when: Callable[[], bool] | None = None,
                         build: subprocess.Popen[bytes] | None = None,
                         timeout: float = 180.0) -> None:
    """SIGKILL `proc` once `when()` holds (default: at once) and every answer the server
    wrote is recorded, holding new answers back meanwhile (see the module doc). A call in
    flight stays in flight while answers are held, so `when` may test for one. `build`: the
    process whose exit means the moment will never come."""
    deadline = time.monotonic() + timeout
    while True:
        with server.holding_answers():
            if (when is None or when()) and server.answered_total() <= recorded():
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return
        watched = build or proc
        if watched.poll() is not None:
            raise AssertionError(f"the build exited ({watched.returncode}) before the moment "
                                 "to kill came")
        if time.monotonic() > deadline:
            raise AssertionError(f"no moment to kill within {timeout:g} s (answers written "
                                 f"{server.answered_total()}, recorded {recorded()})")
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
