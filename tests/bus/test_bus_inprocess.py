"""The in-process bus (AutoGen SingleThreadedAgentRuntime) over a real SQLite log: what only
it does (the contract both buses keep is tested in test_conformance.py)."""

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

from bus.context import BusContext, RunHistory
from bus.inprocess import InProcessBus
from store.events import (
    Envelope,
    SampleAccepted,
    new_event,
)
from store.log import CorruptEvent
from store.sqlite_log import SQLiteEventLog
from tests.bus.bus_pipeline import (
    BUS_TESTS,
    PYTHON,
    count_types,
    pipeline_agents,
    request,
)


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
