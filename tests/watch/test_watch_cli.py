"""`benchagent watch` from the command line: bad input refused in one line with nothing
recorded; as its own process, a model added to a watched server is on the leaderboard
within two poll intervals; SIGTERM lets the evaluation in flight finish and exits 0."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from benchagent.cli import main
from tests.waiting import wait_until
from tests.watch.answer_book import wrong
from tests.watch.conftest import BENCH
from tests.watch.store_reading import count, events_of, per_model, start_watcher, wait_sync
from tools.llm.scripted_server import ScriptedServer


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the command; assert exit 2 with one line on stderr; return that line."""
    code = main(["watch", *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("benchagent: error: "), err
    return lines[0]


@pytest.mark.parametrize(("argv", "says"), [
    (["--source", "catalogue", "--saturation", "0"], "--saturation must be in (0, 1]"),
    (["--source", "catalogue", "--saturation", "1.5"], "--saturation must be in (0, 1]"),
    (["--source", "catalogue", "--saturation", "-0.2"], "--saturation must be in (0, 1]"),
    (["--source", "openai:ftp://models.example/v1"], "not an http(s) URL"),
    (["--source", "openai:localhost:8000/v1"], "not an http(s) URL"),
    (["--source", "openai:http://user:secret@host/v1"], "--llm-key-env"),
    (["--source", "huggingface:qwen"], "unknown source kind 'huggingface'"),
    (["--source", "catalog"], "unknown source kind 'catalog'"),
    ([], "give at least one --source"),
    (["--source", "catalogue", "--interval", "0"], "--interval must be more than 0"),
    (["--source", "catalogue", "--budget-calls", "-1"], "--budget-calls must be at least 0"),
    (["--source", "catalogue", "--llm-key-env", "MY KEY"], "--llm-key-env"),
])
def test_bad_input_is_one_line_and_records_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], says: str) -> None:
    line = refused(capsys, *argv, "--home", str(tmp_path / "home"))
    assert says in line
    assert "secret" not in line
    assert not (tmp_path / "home").exists()  # not even an empty log


def test_an_unknown_benchmark_is_refused_and_nothing_recorded(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path) -> None:
    before = (home / "events.db").read_bytes()
    line = refused(capsys, "--source", "catalogue", "--benchmarks", BENCH, "nosuchrun",
                   "--home", str(home))
    assert line == "benchagent: error: unknown benchmark id: nosuchrun"
    assert (home / "events.db").read_bytes() == before
    line = refused(capsys, "--source", "catalogue", "--benchmarks", BENCH,
                   "--home", str(tmp_path / "empty"))
    assert "unknown benchmark id: bench1" in line
    assert not (tmp_path / "empty").exists()


def test_a_model_added_is_on_the_leaderboard_within_two_poll_intervals(
        tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    interval = 5.0
    heartbeat = tmp_path / "alive.json"
    with ScriptedServer(models={}) as server:
        watcher = start_watcher("--source", f"openai:{server.base_url}", "--interval",
                                str(interval), "--home", str(home), "--heartbeat",
                                str(heartbeat), stderr=tmp_path / "watch.err")
        try:
            wait_sync(lambda: heartbeat.exists(), 60, "the first poll")
            first = json.loads(heartbeat.read_text())
            assert first["sources"] == {f"openai:{server.base_url}": "up"}
            added = time.monotonic()
            server.add_model("newcomer", wrong)
            model = f"openai:newcomer@{server.base_url}"
            wait_sync(lambda: _on_leaderboard(capsys, home, model), 4 * interval, "on the board")
            elapsed = time.monotonic() - added
            assert elapsed <= 2 * interval, f"{elapsed:.1f} s: more than two poll intervals"
            assert json.loads(heartbeat.read_text())["cycles"] > first["cycles"]
        finally:
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=60) == 0, (tmp_path / "watch.err").read_text()[-3000:]


def _on_leaderboard(capsys: pytest.CaptureFixture[str], home: Path, model: str) -> bool:
    assert main(["leaderboard", BENCH, "--json", "--home", str(home)]) == 0
    table = json.loads(capsys.readouterr().out)
    return any(s["model"] == model and s["status"] == "scored" for s in table["standings"])


async def test_sigterm_lets_the_evaluation_in_flight_finish(tmp_path: Path, home: Path) -> None:
    with ScriptedServer(models={"slow": wrong}, latency_s=0.4) as server:
        watcher = start_watcher("--source", f"openai:{server.base_url}", "--interval", "1",
                                "--llm-concurrency", "2", "--home", str(home),
                                stderr=tmp_path / "watch.err")
        try:
            await wait_until(lambda: _eval_calls(home, 2), timeout=60, what="calls in flight")
            assert count(await events_of(home, BENCH), "EvaluationScored") == 0
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=60) == 0, (tmp_path / "watch.err").read_text()[-3000:]
        finally:
            if watcher.poll() is None:
                watcher.kill()
        events = await events_of(home, BENCH)
        assert per_model(events, "EvaluationScored") == {f"openai:slow@{server.base_url}": 1}
        assert server.calls_by_model["slow"] == 12


async def _eval_calls(home: Path, at_least: int) -> bool:
    events = await events_of(home, BENCH)
    return sum(1 for e in events if e.type == "LLMCallRecorded"
               and e.payload.role.startswith("eval:")) >= at_least
