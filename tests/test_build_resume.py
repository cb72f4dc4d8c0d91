"""kill -9 of a build process, then `--resume`: the run finishes, no answered LLM call is
paid again, and the benchmark is byte-identical to an uninterrupted run."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from replay.benchmark_files import benchmark_hash
from tests.agents.build_helpers import REQUIREMENT, of_type, read_events
from tests.agents.scripted_brain import brain
from tools.llm.scripted_server import ScriptedServer

REPO = Path(__file__).resolve().parents[1]
RUN = "run-kill"


def fingerprint(purpose: str | None, messages: list[dict]) -> str:
    text = "\x1f".join(str(m.get("content")) for m in messages)
    return hashlib.sha256(f"{purpose}\x1e{text}".encode()).hexdigest()


class CountingBrain:
    """The scripted brain, noting which requests were answered in which phase."""

    def __init__(self) -> None:
        self.phase = "first"
        self.answered: dict[str, list[str]] = {"first": [], "resume": [], "clean": []}
        self._lock = threading.Lock()

    def __call__(self, messages, schema, purpose=None):
        with self._lock:
            self.answered[self.phase].append(fingerprint(purpose, messages))
        return brain(messages, schema, purpose=purpose)


def cli(home: Path, *argv: str) -> list[str]:
    return [sys.executable, "-m", "benchagent", "build", *argv, "--home", str(home), "--json"]


def count(db: Path, type_: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM events WHERE type = ?", (type_,)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def recorded_answers(home: Path) -> set[str]:
    return {fingerprint(e.payload.purpose, e.payload.messages)
            for e in of_type(read_events(home, RUN), "LLMCallRecorded") if e.payload.error is None}


MID_HANDLER = pytest.param(("LLMCallRecorded", 20), id="mid-handler")


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [pytest.param(("SampleAccepted", 6), id="between-handlers"),
                                        MID_HANDLER])
def test_kill_9_then_resume_pays_nothing_twice_and_matches(tmp_path: Path, general_bench: Path,
                                                           kill_after: tuple[str, int]) -> None:
    counting = CountingBrain()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with ScriptedServer(counting, latency_s=0.03) as server:
        args = [REQUIREMENT, "--size", "16", "--seed", "4", "--llm",
                f"openai:brain@{server.base_url}", "--pool", str(general_bench),
                "--llm-concurrency", "4"]
        killed = tmp_path / "killed"
        proc = subprocess.Popen(cli(killed, *args, "--run-id", RUN), env=env, cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        type_, threshold = kill_after
        while count(killed / "events.db", type_) < threshold:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the build never got far enough"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert count(killed / "events.db", "RunCompleted") == 0

        paid_before = recorded_answers(killed)
        counting.phase = "resume"
        done = subprocess.run(cli(killed, "--resume", RUN), env=env, cwd=REPO,
                              capture_output=True, timeout=45)
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        resumed = json.loads(done.stdout)
        # Blind solves and the register check reject some of the sources: a slot whose
        # source runs out is reported short, the same in the clean run (checked below).
        assert resumed["status"] == "completed" and resumed["accepted"] >= 12

        repaid = [f for f in counting.answered["resume"] if f in paid_before]
        assert repaid == [], f"{len(repaid)} answered calls were paid again"

        counting.phase = "clean"
        clean = tmp_path / "clean"
        done = subprocess.run(cli(clean, *args, "--run-id", RUN), env=env, cwd=REPO,
                              capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr.decode()[-3000:]

    run_dir = Path("runs") / RUN
    assert benchmark_hash(killed / run_dir) == benchmark_hash(clean / run_dir)
    assert resumed["content_hash"] == json.loads(done.stdout)["content_hash"]
    assert resumed["accepted"] == json.loads(done.stdout)["accepted"]
    # Every call the interrupted run still needed was paid once, never more.
    assert len(counting.answered["first"]) + len(counting.answered["resume"]) <= \
        len(counting.answered["clean"]) + 4 + 1  # at most the calls in flight at the kill
