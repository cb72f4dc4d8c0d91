"""kill -9 of the watcher (a real process) in the middle of evaluations, then a restart:
no release missed, no model evaluated twice, every request paid once (counted at the
server; a call in flight at the kill is the only one that may be paid again)."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from benchagent.watch import WATCH_STREAM
from tests.waiting import wait_until
from tests.watch.answer_book import wrong
from tests.watch.conftest import BENCH
from tests.watch.store_reading import count, events_of, per_model, start_watcher
from tools.llm.scripted_server import ScriptedServer

ITEMS = 12
CONCURRENCY = 2


async def _eval_calls(home: Path) -> int:
    return sum(1 for e in await events_of(home, BENCH)
               if e.type == "LLMCallRecorded" and e.payload.role.startswith("eval:"))


@pytest.mark.slow
async def test_kill_9_mid_evaluation_then_restart(tmp_path: Path, home: Path) -> None:
    with ScriptedServer(models={"a": wrong, "b": wrong}, latency_s=0.3) as server:
        args = ("--source", f"openai:{server.base_url}", "--interval", "1",
                "--llm-concurrency", str(CONCURRENCY), "--home", str(home))
        first = start_watcher(*args, stderr=tmp_path / "first.err")
        try:
            await wait_until(lambda: _at_least(home, 4), timeout=90, what="evaluations begun")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        events = await events_of(home, BENCH)
        assert count(events, "EvaluationScored") < 2  # killed mid-evaluation
        recorded_before = await _eval_calls(home)
        assert recorded_before < 2 * ITEMS

        # A model released while the watcher was down is found at the restart.
        server.add_model("c", wrong)
        second = start_watcher(*args, stderr=tmp_path / "second.err")
        try:
            await wait_until(lambda: _scored(home, 3), timeout=120, what="three models scored")
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=60) == 0, (tmp_path / "second.err").read_text()[-3000:]

    events = await events_of(home, BENCH)
    models = {f"openai:{m}@{server.base_url}" for m in "abc"}
    for type_name in ("ModelReleased", "EvaluationScored"):
        assert per_model(events, type_name) == {m: 1 for m in models}, type_name
    requests = [e.payload.models for e in events
                if e.type == "EvaluationRequested"]
    assert sorted(m for r in requests for m in r) == sorted(models) and len(requests) == 3
    answered = {(e.payload.model, e.payload.sample_id)
                for e in events if e.type == "ModelAnswered"}
    assert count(events, "ModelAnswered") == len(answered) == 3 * ITEMS
    keys = [e.payload.request_key for e in events
            if e.type == "LLMCallRecorded" and e.payload.role.startswith("eval:")
            and e.payload.error is None]
    assert len(keys) == len(set(keys)) == 3 * ITEMS  # every answer recorded once
    stream = await events_of(home, WATCH_STREAM)
    assert per_model(stream, "ModelDiscovered") == {m: 1 for m in models}
    # At the server: every request asked; asked again only if it was in flight at the kill.
    for name in "abc":
        asked = {d: n for (m, d), n in server.requests.items() if m == name}
        assert len(asked) == ITEMS
    repeats = sum(n - 1 for n in server.requests.values())
    assert repeats <= CONCURRENCY
    assert server.calls == 3 * ITEMS + repeats


async def _at_least(home: Path, n: int) -> bool:
    return await _eval_calls(home) >= n


async def _scored(home: Path, n: int) -> bool:
    return count(await events_of(home, BENCH), "EvaluationScored") >= n
