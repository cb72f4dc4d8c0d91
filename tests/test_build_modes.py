"""The same build in-process (SQLite) and over NATS JetStream gives the same bytes; a model
server failing 20% of its calls (429, 500, a 200 whose body is garbled, truncated, empty or cut
off mid-body) does not stop a build; an error no retry can fix stops it at once, in one line."""

from __future__ import annotations

from pathlib import Path

from replay.benchmark_files import benchmark_hash
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
    assert benchmark_hash(tmp_path / "local" / run) == benchmark_hash(tmp_path / "nats-home" / run)


def test_a_server_failing_20_percent_of_calls_is_survived(tmp_path: Path, general_bench: Path,
                                                          capsys) -> None:
    config = tmp_path / "c.yaml"
    # File datasets only, every item judged: their items take the model calls, JSON ones
    # too, that meet every kind of fault (a judgement settled by the blind solve is not asked).
    config.write_text("llm_attempts: 12\nllm_backoff_s: 0.01\n"
                      "agents: {generators: false, judge_every_item: true}\n")
    kinds = ("429", "500", "garbled", "malformed", "truncated", "empty", "reset")
    size = 20  # enough calls (about 6 per item) for every kind of fault to be met
    with ScriptedServer(brain, failure_rate=0.2, seed=3, failure_kinds=kinds) as flaky:
        code, doc, err = build(capsys, tmp_path / "flaky", general_bench, "--config", str(config),
                               size=size, llm=f"openai:brain@{flaky.base_url}")
        outcomes = dict(flaky.outcomes)
    assert code == 0, err
    assert doc["status"] == "completed" and doc["accepted"] == size
    assert set(outcomes) == {"ok", *kinds}, outcomes  # every kind of fault was met
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
        code, clean, err = build(capsys, tmp_path / "steady", general_bench, "--config",
                                 str(config), size=size, llm=f"openai:brain@{steady.base_url}")
    assert code == 0, err
    assert clean["content_hash"] == doc["content_hash"]


def test_an_error_no_retry_can_fix_stops_the_build_at_once(tmp_path: Path, general_bench: Path,
                                                          capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("llm_attempts: 12\nllm_backoff_s: 0.01\n")
    with ScriptedServer(brain, failure_rate=1.0, failure_kinds=("401",)) as refusing:
        code, doc, err = build(capsys, tmp_path / "h", general_bench, "--config", str(config),
                               size=4, llm=f"openai:brain@{refusing.base_url}")
        calls = refusing.calls
    assert code == 1 and doc["status"] == "failed"
    assert calls == 1  # not retried
    line = next(x for x in err.splitlines() if x.startswith("benchagent:"))
    assert "AuthenticationError 401" in line and "--llm-key-env" in line
