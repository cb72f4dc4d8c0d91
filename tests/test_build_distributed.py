"""Six agent roles as six OS processes on NATS JetStream (`benchagent agent`), the build only
submitting and waiting (`--remote-agents`): same benchmark bytes as the in-process build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agents.registry import ALL_ROLES
from replay.benchmark_files import benchmark_hash
from tests.agents.build_helpers import build
from tests.agents.scripted_brain import brain
from tests.nats_server import NatsServer
from tools.llm.scripted_server import ScriptedServer

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_agents_in_separate_processes_build_the_same_benchmark(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with ScriptedServer(brain) as model, NatsServer(tmp_path / "nats") as nats:
        llm = f"openai:brain@{model.base_url}"
        workers = []
        try:
            for role in ALL_ROLES:
                many = ["--workers", "4"] if role in ("orchestrator", "verifier") else []
                workers.append(subprocess.Popen(
                    [sys.executable, "-m", "benchagent", "agent", "--role", role,
                     "--nats", nats.url, *many],
                    cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            code, remote, err = build(capsys, tmp_path / "remote", general_bench, "--store",
                                      nats.url, "--remote-agents", size=10, seed=8, llm=llm)
            assert code == 0, err
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()[-2000:]
        code, local, err = build(capsys, tmp_path / "local", general_bench, size=10, seed=8,
                                 llm=llm)
        assert code == 0, err
    assert remote["content_hash"] == local["content_hash"]
    run = Path("runs") / "run-test"
    assert benchmark_hash(tmp_path / "remote" / run) == benchmark_hash(tmp_path / "local" / run)
