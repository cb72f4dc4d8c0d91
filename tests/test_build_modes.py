"""The same build in-process (SQLite) and over NATS JetStream gives the same bytes; a model
server failing 20% of its calls does not stop a build."""

from __future__ import annotations

from pathlib import Path

from replay.benchmark_files import directory_hash
from tests.agents.build_helpers import build, of_type, read_events
from tests.agents.scripted_brain import brain
from tests.nats_server import NatsServer
from tools.llm.scripted_server import ScriptedServer


def test_nats_mode_gives_the_same_bytes_as_in_process(tmp_path: Path, general_bench: Path,
                                                      capsys) -> None:
    code, local, err = build(capsys, tmp_path / "local", general_bench, size=10, seed=21,
                             llm="scripted:strict-brain")
    assert code == 0, err
    with NatsServer(tmp_path / "nats") as server:
        code, remote, err = build(capsys, tmp_path / "nats-home", general_bench, "--store",
                                  server.url, size=10, seed=21, llm="scripted:strict-brain")
    assert code == 0, err
    assert remote["content_hash"] == local["content_hash"]
    assert (remote["accepted"], remote["rejected"]) == (local["accepted"], local["rejected"])
    run = Path("runs") / "run-test"
    assert directory_hash(tmp_path / "local" / run) == directory_hash(tmp_path / "nats-home" / run)


def test_a_server_failing_20_percent_of_calls_is_survived(tmp_path: Path, general_bench: Path,
                                                          capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("llm_attempts: 12\nllm_backoff_s: 0.01\n")
    with ScriptedServer(brain, failure_rate=0.2, seed=5) as flaky:
        code, doc, err = build(capsys, tmp_path / "flaky", general_bench, "--config", str(config),
                               size=12, llm=f"openai:brain@{flaky.base_url}")
        outcomes = dict(flaky.outcomes)
    assert code == 0, err
    assert doc["status"] == "completed" and doc["accepted"] == 12
    assert sum(v for k, v in outcomes.items() if k != "ok") >= 5, outcomes
    events = read_events(tmp_path / "flaky")
    failed_attempts = [e for e in of_type(events, "LLMCallRecorded") if e.payload.error]
    # Every failed attempt is in the log, with its error, before the retry that succeeded.
    assert len(failed_attempts) == sum(v for k, v in outcomes.items() if k != "ok")
    for f in failed_attempts:
        later = [e for e in of_type(events, "LLMCallRecorded")
                 if e.payload.request_key == f.payload.request_key
                 and e.payload.attempt > f.payload.attempt]
        assert later, f.payload.error
    # Retries change nothing in the benchmark: same bytes as without faults.
    with ScriptedServer(brain) as steady:
        code, clean, err = build(capsys, tmp_path / "steady", general_bench, size=12,
                                 llm=f"openai:brain@{steady.base_url}")
    assert code == 0, err
    assert clean["content_hash"] == doc["content_hash"]
