"""SIGTERM (docker stop, systemd, CI) stops a build like Ctrl-C: the bus stops taking events,
handlers in flight finish or are abandoned cleanly, the `--resume RUN_ID` line is printed and
the exit code is 143. A real subprocess, a real signal, a real HTTP model server."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agents.build_helpers import REQUIREMENT
from tests.agents.scripted_brain import brain
from tools.llm.scripted_server import ScriptedServer

REPO = Path(__file__).resolve().parents[1]
RUN = "run-term"


def count(db: Path, type_: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM events WHERE type = ?",
                                (type_,)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_a_build_like_ctrl_c_and_the_run_resumes(
        tmp_path: Path, general_bench: Path, sig: signal.Signals) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with ScriptedServer(brain, latency_s=0.05) as server:
        base = [sys.executable, "-m", "benchagent", "build", "--home", str(home), "--json"]
        proc = subprocess.Popen(
            [*base, REQUIREMENT, "--size", "16", "--seed", "4", "--run-id", RUN,
             "--llm", f"openai:brain@{server.base_url}", "--pool", str(general_bench)],
            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while count(home / "events.db", "LLMCallRecorded") < 15:  # mid-run, calls in flight
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the build never got far enough"
            time.sleep(0.02)
        proc.send_signal(sig)
        stdout, stderr = proc.communicate(timeout=60)
        err = stderr.decode()
        assert proc.returncode == 128 + sig.value, err[-2000:]  # 143 for SIGTERM
        assert err.rstrip().splitlines()[-1] == (
            f"benchagent: run {RUN} stopped by {sig.name}; resume it with "
            f"`benchagent build --resume {RUN}`")
        assert "Traceback" not in err and stdout == b""
        assert count(home / "events.db", "RunCompleted") == 0
        # Recorded as the world's doing, not the run's: a stop, resumable.
        assert count(home / "events.db", "RunStopped") == 1
        runs = subprocess.run([sys.executable, "-m", "benchagent", "runs", "--home", str(home),
                               "--json"], cwd=REPO, capture_output=True, timeout=60)
        (row,) = json.loads(runs.stdout)["runs"]
        assert (row["status"], row["resumable"]) == ("stopped", True)
        assert row["reason"] == f"interrupted by {sig.name}"

        # What it left is a consistent log: intact chain, and the run resumes to the end.
        check = subprocess.run([sys.executable, "-m", "benchagent", "verify", RUN, "--home",
                                str(home)], cwd=REPO, capture_output=True, timeout=60)
        assert check.returncode == 0, check.stdout.decode()
        done = subprocess.run([*base, "--resume", RUN], env=env, cwd=REPO, capture_output=True,
                              timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert json.loads(done.stdout)["status"] == "completed"
    assert count(home / "events.db", "RunResumed") == 1
