"""The in-process bus (AutoGen SingleThreadedAgentRuntime) over a real SQLite log."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import structlog

from agents.base import Agent, AgentContext, on
from bus.context import BusContext, RunHistory
from bus.inprocess import InProcessBus
from store.events import (
    BenchmarkItem,
    Envelope,
    Payload,
    RunFailed,
    RunRequested,
    SampleAccepted,
    SampleRealized,
    SlotAssigned,
    new_event,
)
from store.log import CorruptEvent, EventLog
from store.sqlite_log import SQLiteEventLog
from tests.bus.bus_pipeline import (
    BUS_TESTS,
    DOUBLE,
    PYTHON,
    TASK,
    Checker,
    Planner,
    Worker,
    count_types,
    pipeline_agents,
    request,
)


class DeliveryProbe(Agent):
    """Reads the log itself when an event arrives: was it stored before delivery?"""

    role = "evaluator"

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.seen: list[tuple[str, bool]] = []

    async def _probe(self, event: Envelope[Payload]) -> None:
        stored = {e.event_id for e in await self.log.read(event.run_id)}
        self.seen.append((event.type, event.event_id in stored))

    @on(SlotAssigned)
    async def slot(self, event: Envelope[SlotAssigned], ctx: BusContext) -> None:
        await self._probe(event)

    @on(SampleRealized)
    async def sample(self, event: Envelope[SampleRealized], ctx: BusContext) -> None:
        await self._probe(event)


class CountingPlanner(Planner):
    def __init__(self) -> None:
        self.calls = 0

    @on(RunRequested)
    async def plan(self, event: Envelope[RunRequested], ctx: AgentContext) -> None:
        self.calls += 1
        await super().plan(event, ctx)


async def test_pipeline_runs_to_completion(sqlite_log: SQLiteEventLog) -> None:
    worker = Worker()
    bus = InProcessBus(sqlite_log, [Planner(), worker, Checker()])
    await bus.start()
    try:
        await bus.submit(new_event("run1", "user", request(8, work_delay_s=0.01)))
        done = await bus.wait_for("run1", timeout=10)
    finally:
        await bus.stop()
    assert done.type == "RunCompleted"
    assert done.payload.accepted == 8
    counts = count_types(await sqlite_log.read("run1"))
    assert counts == {"RunRequested": 1, "SlotAssigned": 8, "SampleRealized": 8,
                      "SampleAccepted": 8, "RunCompleted": 1}
    assert sorted(worker.handled) == [f"s{i:03d}" for i in range(8)]
    # AutoGen ran several SlotAssigned of the run at once on the one Worker object.
    assert worker.max_running > 1


async def test_events_are_appended_before_delivery(sqlite_log: SQLiteEventLog) -> None:
    probe = DeliveryProbe(sqlite_log)
    bus = InProcessBus(sqlite_log, [*pipeline_agents(), probe])
    await bus.start()
    try:
        await bus.submit(new_event("run2", "user", request(5)))
        await bus.wait_for("run2", timeout=10)
        await bus.idle()
    finally:
        await bus.stop()
    assert len(probe.seen) == 10
    assert all(stored for _, stored in probe.seen)
    events = await sqlite_log.read("run2")
    by_id = {e.event_id: e for e in events}
    for e in events:  # each reaction names its role and points at a stored cause
        if e.type == "SampleRealized":
            assert e.agent == "orchestrator" and by_id[e.causation_id].type == "SlotAssigned"
        if e.type == "SampleAccepted":
            assert e.agent == "verifier" and by_id[e.causation_id].type == "SampleRealized"


async def test_handler_error_fails_the_run_visibly(sqlite_log: SQLiteEventLog) -> None:
    bus = InProcessBus(sqlite_log, pipeline_agents())
    await bus.start()
    try:
        with structlog.testing.capture_logs() as logs:
            await bus.submit(new_event("run3", "user", request(4, fail_slot=2)))
            failed = await bus.wait_for("run3", timeout=10)
            await bus.idle()
    finally:
        await bus.stop()
    assert isinstance(failed.payload, RunFailed)
    assert failed.payload.stage == "orchestrator"
    assert "orchestrator failed on SlotAssigned" in failed.payload.reason
    assert "ValueError: cannot realize slot 2" in failed.payload.reason
    cause = next(e for e in await sqlite_log.read("run3") if e.event_id == failed.causation_id)
    assert cause.payload.slot == 2
    assert any(entry["event"] == "handler_failed" and entry["role"] == "orchestrator"
               for entry in logs)


async def test_resubmitting_a_stored_event_is_not_delivered_again(
    sqlite_log: SQLiteEventLog,
) -> None:
    planner = CountingPlanner()
    bus = InProcessBus(sqlite_log, [planner, Worker(), Checker()])
    await bus.start()
    try:
        first = new_event("run4", "user", request(3))
        stored = await bus.submit(first)
        await bus.wait_for("run4", timeout=10)
        again = await bus.submit(first)
        await bus.idle()
    finally:
        await bus.stop()
    assert again.seq == stored.seq == 1
    assert planner.calls == 1
    assert count_types(await sqlite_log.read("run4"))["RunCompleted"] == 1


async def test_context_emit_dedups_and_appends_before_delivering(
    sqlite_log: SQLiteEventLog,
) -> None:
    delivered: list[tuple[str, int]] = []

    async def deliver(envs: list[Envelope]) -> None:
        stored = {e.event_id for e in await sqlite_log.read("run5")}
        delivered.extend((e.event_id, e.event_id in stored) for e in envs)

    root = (await sqlite_log.append([new_event("run5", "user", request(1))]))[0]
    ctx = BusContext("run5", "verifier", sqlite_log, RunHistory(sqlite_log, "run5"), deliver)
    items = [(SampleAccepted(sample_id=f"x{i}", subtask="t"), f"x{i}") for i in range(3)]
    first = await ctx.emit_many(items, cause=root)
    second = await ctx.emit_many(items, cause=root)
    assert [e.seq for e in first] == [2, 3, 4]
    assert [e.seq for e in second] == [2, 3, 4]
    assert [stored for _, stored in delivered] == [True, True, True]  # only the first time
    assert [e.agent for e in first] == ["verifier"] * 3
    assert len(await ctx.history()) == 4
    with pytest.raises(RuntimeError, match="no LLM"):
        ctx.llm("verifier")


async def test_resume_delivers_only_events_without_reaction(sqlite_log: SQLiteEventLog) -> None:
    # A crash left: the request, the planner's three slots, and slot 0 realized.
    req = (await sqlite_log.append([new_event("run6", "user", request(3))]))[0]
    slots = await sqlite_log.append([
        new_event("run6", "allocation", SlotAssigned(sample_id=f"s{i:03d}", slot=i, subtask=TASK,
                  dataset_id="d", plan_id="p", source_item_id=f"item-{i}"), req.event_id,
                  f"slot-{i}")
        for i in range(3)
    ])
    item = BenchmarkItem(id="s000", subtask=TASK, input="q0", target="0")
    await sqlite_log.append([
        new_event("run6", "orchestrator", SampleRealized(sample_id="s000", item=item,
                  source=DOUBLE), slots[0].event_id, "s000")
    ])

    bus = InProcessBus(sqlite_log, pipeline_agents())
    await bus.start()
    try:
        # The planner reacted to the request, the worker to slot 0, the checker to nothing:
        # slots 1 and 2 go to the worker, s000's SampleRealized to the checker.
        assert await bus.resume() == 3
        completed = await bus.wait_for("run6", timeout=10)
        await bus.idle()
        assert completed.type == "RunCompleted"
        assert await bus.resume() == 0  # finished runs are left alone
    finally:
        await bus.stop()
    counts = count_types(await sqlite_log.read("run6"))
    assert counts == {"RunRequested": 1, "SlotAssigned": 3, "SampleRealized": 3,
                      "SampleAccepted": 3, "RunCompleted": 1}


async def test_wait_for_times_out(sqlite_log: SQLiteEventLog) -> None:
    bus = InProcessBus(sqlite_log, pipeline_agents())
    await bus.start()
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="no RunCompleted, RunFailed within 0.3 s"):
            await bus.wait_for("nobody", timeout=0.3)
        assert time.monotonic() - started < 2
    finally:
        await bus.stop()


@pytest.mark.slow
async def test_kill_9_mid_run_then_resume(tmp_path: Path, script_env: dict[str, str]) -> None:
    db = tmp_path / "events.db"
    size = 12
    proc = subprocess.Popen(
        [PYTHON, str(BUS_TESTS / "pipeline_process.py"), "inprocess", "--db", str(db),
         "--run-id", "killed", "--size", str(size), "--delay", "0.15"],
        env=script_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        # Only read the file once the child has created it (opening a fresh file from two
        # processes at once races on creating the schema).
        line = await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 20)
        assert line.strip() == b"submitted", line + proc.stderr.read()
        realized_before = await _wait_for_count(db, "killed", "SampleRealized", 3, proc)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    log = SQLiteEventLog(db)
    try:
        before = count_types(await log.read("killed"))
        assert "RunCompleted" not in before
        assert realized_before <= before["SampleRealized"] < size  # really mid-run
        bus = InProcessBus(log, pipeline_agents())
        await bus.start()
        try:
            assert await bus.resume("killed") > 0
            done = await bus.wait_for("killed", timeout=20)
            await bus.idle()
        finally:
            await bus.stop()
        assert done.type == "RunCompleted"
        counts = count_types(await log.read("killed"))
        assert counts == {"RunRequested": 1, "SlotAssigned": size, "SampleRealized": size,
                          "SampleAccepted": size, "RunCompleted": 1}
    finally:
        await log.close()


async def _wait_for_count(
    db: Path, run_id: str, type_: str, n: int, proc: subprocess.Popen[bytes]
) -> int:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        log = SQLiteEventLog(db)
        try:
            found = count_types(await log.read(run_id)).get(type_, 0)
        finally:
            await log.close()
        if found >= n:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{type_} never reached {n}")


async def test_resume_of_every_run_skips_a_run_that_cannot_be_read(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    log = SQLiteEventLog(db)
    try:
        await log.append([new_event("broken", "user", request(1))])
        await log.append([new_event("fine", "user", request(2))])
        with sqlite3.connect(db) as conn:  # a corrupt stored event in run "broken"
            conn.execute("UPDATE events SET data = x'7b7b' WHERE run_id = 'broken'")
        bus = InProcessBus(log, pipeline_agents())
        await bus.start()
        try:
            with structlog.testing.capture_logs() as logs:
                assert await bus.resume() == 1  # only "fine"'s request, to the planner
            assert (await bus.wait_for("fine", timeout=10)).type == "RunCompleted"
            await bus.idle()
            with pytest.raises(CorruptEvent):  # asked for by name, the error is the answer
                await bus.resume("broken")
        finally:
            await bus.stop()
        assert any(e["event"] == "resume_skipped_run" and e["run_id"] == "broken" for e in logs)
    finally:
        await log.close()
