"""The watcher's poll cycle, one cycle at a time, in this process: a real SQLite log, the
in-process bus with the Evaluator, and a real OpenAI-compatible server whose model list
changes between cycles."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec

from agents.models import ModelRouter
from agents.recorded_llm import RetryPolicy
from agents.registry import make_agents
from benchagent.watch import WATCH_STREAM
from benchagent.watch.budget import DailyBudget
from benchagent.watch.daemon import Watcher, WatchSettings
from bus.inprocess import InProcessBus
from store.blobs import FolderBlobStore
from store.sqlite_log import SQLiteEventLog
from tests.waiting import wait_until
from tests.watch.answer_book import AnswerBook, sqlite_events, wrong
from tests.watch.benchmarks import copy_benchmark
from tests.watch.conftest import BENCH
from tests.watch.store_reading import count, events_of, per_model
from tools.llm.scripted_server import ScriptedServer
from tools.model_sources import OpenAISource

ITEMS = 12  # the benchmark of the fixture `home`


def settings(**changes: Any) -> WatchSettings:
    base = WatchSettings(interval_s=1.0, saturation=0.8,
                         budget=DailyBudget(runs=2, calls=10_000))
    return msgspec.structs.replace(base, **changes)


@asynccontextmanager
async def running_watcher(home: Path, server: ScriptedServer, *, roles: tuple[str, ...] = (
        "evaluator",), clock: Callable[[], float] = time.time, **changes: Any
        ) -> AsyncIterator[Watcher]:
    log = SQLiteEventLog(home / "events.db")
    router = ModelRouter(retry=RetryPolicy(max_attempts=2, base_delay_s=0.01))
    blobs = FolderBlobStore.beside(home / "events.db")
    bus = InProcessBus(log, make_agents(roles), router, blobs=blobs)
    watcher = Watcher(log, bus, [OpenAISource(server.base_url, "WATCH_TEST_KEY")],
                      settings(**changes), blobs, clock=clock)
    await bus.start()
    try:
        yield watcher
        await bus.idle()
    finally:
        await bus.stop()
        await router.close()
        await log.close()


def spec(server: ScriptedServer, name: str) -> str:
    return f"openai:{name}@{server.base_url}"


async def scored(home: Path, *models: str) -> bool:
    done = per_model(await events_of(home, BENCH), "EvaluationScored")
    return all(done[m] for m in models)


async def test_releases_follow_the_model_list_as_it_changes(home: Path) -> None:
    with ScriptedServer(models={"m1": wrong}) as server:
        async with running_watcher(home, server) as watcher:
            await watcher.cycle()
            await wait_until(lambda: scored(home, spec(server, "m1")), timeout=30,
                             what="m1 scored")
            server.add_model("m2", wrong)
            await watcher.cycle()
            # m2 answered before the outage below (an outage outlasting the retry budget
            # would record its evaluation failed)
            await wait_until(lambda: scored(home, spec(server, "m2")), timeout=30,
                             what="m2 scored")
            server.remove_model("m1")
            await watcher.cycle()
            stream = await events_of(home, WATCH_STREAM)
            assert [(e.type, e.payload.model) for e in stream] == [
                ("ModelDiscovered", spec(server, "m1")), ("ModelDiscovered", spec(server, "m2")),
                ("ModelWithdrawn", spec(server, "m1"))]

            # Down for a while: nothing is withdrawn, nothing fails; a model added meanwhile
            # is found once the server is back.
            server.go_down()
            server.add_model("m3", wrong)
            await watcher.cycle()
            assert len(await events_of(home, WATCH_STREAM)) == 3
            server.come_back()
            server.add_model("m1", wrong)  # listed again: a second appearance, no re-evaluation
            await watcher.cycle()
            await wait_until(lambda: scored(home, spec(server, "m3")),
                             timeout=30, what="m3 scored")
            await watcher.cycle()  # nothing new: nothing recorded
        stream = await events_of(home, WATCH_STREAM)
        assert [(e.type, e.payload.model, e.payload.appearance)
                for e in stream[3:]] == [("ModelDiscovered", spec(server, "m1"), 2),
                                         ("ModelDiscovered", spec(server, "m3"), 1)]
        events = await events_of(home, BENCH)
        for m in ("m1", "m2", "m3"):
            assert per_model(events, "ModelReleased")[spec(server, m)] == 1
            assert per_model(events, "EvaluationScored")[spec(server, m)] == 1
            assert server.calls_by_model[m] == ITEMS  # each item asked once
        released = next(e for e in events if e.type == "ModelReleased")
        assert released.payload.source == f"openai:{server.base_url}"
        assert released.payload.key_env == "WATCH_TEST_KEY"


async def test_a_model_that_fails_every_call_is_recorded_failed_once(home: Path) -> None:
    def broken(messages: list[dict[str, Any]], schema: Any) -> str:
        raise RuntimeError("weights missing")

    with ScriptedServer(models={"broken": broken}) as server:
        async with running_watcher(home, server) as watcher:
            await watcher.cycle()
            await wait_until(lambda: _has(home, "EvaluationFailed"), timeout=30,
                             what="the failure recorded")
            calls = server.calls_by_model["broken"]
            assert calls == ITEMS * 2  # two attempts per item (the router's retry policy)
            for _ in range(3):
                await watcher.cycle()
        events = await events_of(home, BENCH)
        (failed,) = [e for e in events if e.type == "EvaluationFailed"]
        assert failed.payload.model == spec(server, "broken")
        assert "all 12 calls failed" in failed.payload.reason
        assert "500" in failed.payload.reason
        assert count(events, "EvaluationScored") == 0
        assert count(events, "EvaluationRequested") == 1  # not retried
        assert server.calls_by_model["broken"] == calls


async def _has(home: Path, type_name: str, run_id: str = BENCH) -> bool:
    return count(await events_of(home, run_id), type_name) > 0


async def test_the_daily_call_budget_stops_evaluations_and_says_so_once(home: Path) -> None:
    day = [time.time()]
    with ScriptedServer(models={"m1": wrong, "m2": wrong}) as server:
        # 20 calls a day: one evaluation of 12 items fits, a second one does not.
        async with running_watcher(home, server, clock=lambda: day[0],
                                   budget=DailyBudget(runs=0, calls=20)) as watcher:
            await watcher.cycle()
            await wait_until(lambda: scored(home, spec(server, "m1")), timeout=30,
                             what="m1 scored")
            await watcher.cycle()
            await watcher.cycle()
            stops = [e.payload for e in await events_of(home, WATCH_STREAM)
                     if e.type == "BudgetExhausted"]
            assert len(stops) == 1  # recorded once a day, however many cycles it stops
            stop = stops[0]
            assert (stop.kind, stop.limit) == ("calls", 20)
            assert stop.stopped == f"evaluate {spec(server, 'm2')} on {BENCH}"
            assert server.calls_by_model["m2"] == 0
            # The next day has a budget of its own.
            day[0] += 86_400
            await watcher.cycle()
            await wait_until(lambda: scored(home, spec(server, "m2")), timeout=30,
                             what="m2 scored the next day")


async def test_saturation_is_recorded_with_its_evidence_and_the_run_budget_holds(
        home: Path) -> None:
    book = AnswerBook(sqlite_events(home / "events.db"))
    with ScriptedServer(models={"oracle": book.oracle, "wrong": wrong}) as server:
        async with running_watcher(home, server, budget=DailyBudget(runs=0, calls=10_000),
                                   saturation=0.9) as watcher:
            await watcher.cycle()
            await wait_until(lambda: scored(home, spec(server, "oracle"), spec(server, "wrong")),
                             timeout=30, what="both scored")
            await watcher.cycle()
            await watcher.cycle()
        events = await events_of(home, BENCH)
        (saturated,) = [e for e in events if e.type == "BenchmarkSaturated"]
        p = saturated.payload
        assert (p.scope, p.model, p.accuracy, p.threshold, p.n) == (
            "benchmark", spec(server, "oracle"), 1.0, 0.9, ITEMS)
        assert p.evidence == {spec(server, "oracle"): 1.0,
                              spec(server, "wrong"): 0.0}
        cause = next(e for e in events if e.event_id == saturated.causation_id)
        assert cause.type == "EvaluationScored" and cause.payload.model == p.model
        stops = [e.payload for e in await events_of(home, WATCH_STREAM)
                 if e.type == "BudgetExhausted"]
        assert [(s.kind, s.stopped) for s in stops] == [
            ("runs", f"refresh {BENCH}")]
        assert await events_of(home, f"{BENCH}-v2") == []  # no refresh started


async def test_only_the_named_benchmarks_are_watched(home: Path) -> None:
    await copy_benchmark(home, BENCH, "other")
    with ScriptedServer(models={"m1": wrong}) as server:
        async with running_watcher(home, server, benchmarks=["other"]) as watcher:
            await watcher.cycle()
            await wait_until(lambda: _has(home, "EvaluationScored", "other"), timeout=30,
                             what="scored on other")
        assert count(await events_of(home, BENCH), "ModelReleased") == 0
        async with running_watcher(home, server) as watcher:  # every published run
            await watcher.cycle()
            await wait_until(lambda: _has(home, "EvaluationScored", BENCH), timeout=30,
                             what="scored on bench1")
        assert count(await events_of(home, "other"), "ModelReleased") == 1
        assert server.calls_by_model["m1"] == 2 * ITEMS


async def test_a_released_model_is_called_with_its_sources_key_which_is_never_recorded(
        home: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("WATCH_TEST_KEY", "sk-watch-secret-123")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-runs-own-key")
    with ScriptedServer(models={"m1": wrong}) as server:
        async with running_watcher(home, server) as watcher:
            await watcher.cycle()
            await wait_until(lambda: scored(home, spec(server, "m1")), timeout=30,
                             what="m1 scored")
        # The list and every evaluation call carried the key of the watcher's source, not
        # the key the run was built with.
        assert server.keys["sk-watch-secret-123"] == 1 + ITEMS
        assert server.keys["sk-the-runs-own-key"] == 0
    assert b"sk-watch-secret-123" not in (home / "events.db").read_bytes()
    assert all(b"sk-watch-secret-123" not in p.read_bytes() for p in home.glob("events.db*"))
