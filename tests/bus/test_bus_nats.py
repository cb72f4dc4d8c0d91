"""The NATS bus on a real nats-server with JetStream, what only it does: shared work, ack
after append, kill -9 of a worker process mid-run, bad URLs, server restarts (the contract
both buses keep is tested in test_conformance.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time

import nats
import nats.js.errors
import pytest
from nats.aio.msg import Msg

from agents.base import Agent, AgentContext, on
from bus.nats_bus import NatsBus, consumer_name
from store.events import Envelope, RunRequested, RunResumed, SlotAssigned, new_event
from store.jetstream_log import JetStreamEventLog
from store.log import StoreUnavailable
from store.subjects import type_filter
from tests.bus.bus_pipeline import (
    BUS_TESTS,
    PYTHON,
    Checker,
    Planner,
    Worker,
    count_types,
    pipeline_agents,
    request,
)
from tests.nats_server import NatsServer
from tests.waiting import wait_until

FULL_RUN = {"RunRequested": 1, "SlotAssigned": 0, "SampleRealized": 0, "SampleAccepted": 0,
            "RunCompleted": 1}


def full_run(size: int) -> dict[str, int]:
    return {k: (size if v == 0 else v) for k, v in FULL_RUN.items()}


async def test_two_workers_of_one_role_share_the_work(nats_server: NatsServer) -> None:
    mine, theirs = Worker(), Worker()
    main = NatsBus(nats_server.url, [Planner(), mine, Checker()], workers=1)
    other = NatsBus(nats_server.url, [theirs], roles=["orchestrator"], workers=1)
    await main.start()
    await other.start()
    try:
        await main.submit(new_event("nrun2", "user", request(12, work_delay_s=0.01)))
        done = await main.wait_for("nrun2", timeout=30)
        events = await main.log.read("nrun2")
    finally:
        await other.stop()
        await main.stop()
    assert done.type == "RunCompleted"
    assert count_types(events) == full_run(12)
    assert mine.handled and theirs.handled, (mine.handled, theirs.handled)
    assert sorted(mine.handled + theirs.handled) == [f"s{i:03d}" for i in range(12)]


class Gate(Agent):
    """Emits one slot for a request, then holds its handler open until released."""

    role = "allocation"

    def __init__(self) -> None:
        self.emitted = asyncio.Event()
        self.release = asyncio.Event()

    @on(RunRequested)
    async def hold(self, event: Envelope[RunRequested], ctx: AgentContext) -> None:
        await ctx.emit(SlotAssigned(sample_id="g", slot=0, subtask="t", dataset_id="d",
                                    plan_id="p", source_item_id="i"), cause=event)
        self.emitted.set()
        await self.release.wait()


async def test_ack_only_after_handler_returned_and_events_appended(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    pings = 0
    in_progress = Msg.in_progress

    async def counted(msg: Msg) -> None:
        nonlocal pings
        pings += 1
        await in_progress(msg)

    monkeypatch.setattr(Msg, "in_progress", counted)
    gate = Gate()
    bus = NatsBus(nats_server.url, [gate], ack_wait_s=1.5)  # in-progress pings every 0.5 s
    await bus.start()
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    try:
        await bus.submit(new_event("nrun3", "user", request(1)))
        await asyncio.wait_for(gate.emitted.wait(), 10)
        assert [e.type for e in await bus.log.read("nrun3")] == ["RunRequested", "SlotAssigned"]
        # Four pings, 0.5 s apart: the handler has run longer than ack_wait (1.5 s), and
        # the message is kept alive, neither redelivered nor acked.
        await wait_until(lambda: pings >= 4, timeout=15, what="four in-progress pings")
        info = await js.consumer_info("BENCH", consumer_name("allocation"))
        assert info.num_ack_pending == 1 and info.ack_floor.stream_seq == 0
        assert info.num_redelivered == 0
        gate.release.set()

        async def acked() -> bool:
            info = await js.consumer_info("BENCH", consumer_name("allocation"))
            return info.num_ack_pending == 0 and info.ack_floor.stream_seq == 1

        await wait_until(acked, what="the ack once the handler returned")
    finally:
        gate.release.set()
        await nc.close()
        await bus.stop()


def start_worker(url: str, env: dict[str, str], *roles: str) -> subprocess.Popen[bytes]:
    cmd = [PYTHON, str(BUS_TESTS / "pipeline_process.py"), "nats", "--url", url,
           "--workers", "2", "--ack-wait", "3"]
    for role in roles:
        cmd += ["--role", role]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.slow
async def test_kill_9_worker_mid_run_then_a_new_worker_finishes(
    nats_server: NatsServer, script_env: dict[str, str]
) -> None:
    size = 10
    bus = NatsBus(nats_server.url, [Planner(), Checker()], workers=4)
    await bus.start()
    first = start_worker(nats_server.url, script_env, "orchestrator")
    second = None
    try:
        await bus.submit(new_event("nkill", "user", request(size, work_delay_s=0.12)))
        before = await _wait_realized(bus.log, "nkill", 3, first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        assert first.returncode == -signal.SIGKILL
        counts = count_types(await bus.log.read("nkill"))
        assert before <= counts["SampleRealized"] < size and "RunCompleted" not in counts

        second = start_worker(nats_server.url, script_env, "orchestrator")
        done = await bus.wait_for("nkill", timeout=40)
        assert done.type == "RunCompleted"
        # The killed worker's unacked messages are redelivered after ack_wait (3 s) to the
        # second worker: once it has acked them all, no decision may have been taken twice.
        nc = await nats.connect(nats_server.url)
        try:
            js = nc.jetstream()

            async def all_acked() -> bool:
                info = await js.consumer_info("BENCH", consumer_name("orchestrator"))
                return info.num_pending == 0 and info.num_ack_pending == 0

            await wait_until(all_acked, timeout=30, what="every slot acked by a worker")
        finally:
            await nc.close()
        events = await bus.log.read("nkill")
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(15)
        await bus.stop()
    assert second.returncode == 0  # SIGTERM: clean shutdown
    assert count_types(events) == full_run(size)  # no decision taken twice
    pids = {e.payload.item.metadata["pid"] for e in events if e.type == "SampleRealized"}
    assert pids == {first.pid, second.pid}  # both processes did part of the run


async def _wait_realized(
    log: JetStreamEventLog, run_id: str, n: int, proc: subprocess.Popen[bytes]
) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"worker exited early ({proc.returncode}): {out[-2000:]}")
        found = count_types(await log.read(run_id)).get("SampleRealized", 0)
        if found >= n:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"SampleRealized never reached {n}")


async def test_unreachable_nats_url_fails_fast_with_a_clear_error() -> None:
    started = time.monotonic()
    bus = NatsBus("nats://127.0.0.1:1", pipeline_agents(), connect_timeout_s=3)
    with pytest.raises(StoreUnavailable, match="cannot reach NATS at nats://127.0.0.1:1"):
        await bus.start()
    assert time.monotonic() - started < 5


def test_agent_command_on_an_unreachable_url_fails_fast(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from benchagent.cli import main

    started = time.monotonic()
    assert main(["agent", "--role", "verifier", "--nats", "nats://127.0.0.1:1"]) == 2
    assert time.monotonic() - started < 6
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("benchagent: error: cannot reach NATS at nats://127.0.0.1:1")
    assert "Traceback" not in "\n".join(err)


async def test_workers_survive_a_nats_server_restart(nats_server: NatsServer) -> None:
    bus = NatsBus(nats_server.url, pipeline_agents(), workers=2)
    await bus.start()
    try:
        await bus.submit(new_event("before", "user", request(2)))
        assert (await bus.wait_for("before", timeout=20)).type == "RunCompleted"
        nats_server.restart()
        # The client reconnects on its own.
        await wait_until(lambda: bus.log.nc.is_connected, what="the reconnect")
        await bus.submit(new_event("after", "user", request(3)))
        assert (await bus.wait_for("after", timeout=30)).type == "RunCompleted"
        assert count_types(await bus.log.read("after")) == full_run(3)
    finally:
        await bus.stop()


def test_agent_command_rejects_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    from benchagent.cli import main

    assert main(["agent", "--role", "verifier", "--nats", "http://x", "--workers", "2"]) == 2
    assert "expected nats://HOST:PORT" in capsys.readouterr().err
    assert main(["agent", "--role", "verifier", "--nats", "nats://x:1", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["agent", "--role", "nobody", "--nats", "nats://127.0.0.1:1"])


async def test_agent_command_serves_its_role_until_sigterm(
    nats_server: NatsServer, script_env: dict[str, str]
) -> None:
    from agents.registry import make_agents

    cmd = [PYTHON, "-m", "benchagent", "agent", "--role", "verifier", "--nats", nats_server.url,
           "--workers", "3"]
    env = {**script_env, "BENCHAGENT_LOG_LEVEL": "info"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        info = None
        deadline = time.monotonic() + 90  # imports, connects, binds: slow on a loaded machine
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                info = await js.consumer_info("BENCH", consumer_name("verifier"))
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.05)
        assert info is not None
        (verifier,) = make_agents(["verifier"])
        # Its handlers' event classes, and RunResumed (its share of `build --resume`).
        assert info.config.filter_subjects == sorted(
            type_filter(t) for t in (*verifier.handled_types(), RunResumed))
        assert info.config.filter_subjects == [
            "bench.*.QuotaShortfall", "bench.*.RunResumed", "bench.*.SampleRealized",
            "bench.*.SpecFinalized"]
        proc.send_signal(signal.SIGTERM)  # its handlers are installed before the consumer
        out = (await asyncio.to_thread(proc.communicate, timeout=20))[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
        await nc.close()
    assert proc.returncode == 0, out
    assert "agent_stopping" in out and "nats_bus_stopped" in out
