"""One conformance suite for both buses (bus/base.py is the contract): the in-process bus over
a SQLite file and the NATS bus on a real nats-server, running the same agents."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import structlog

from agents.base import Agent, AgentContext, ServiceUnavailable, on
from agents.registry import make_agents
from benchagent.run import resumed_event
from bus.base import ENDS_A_BUILD, Bus
from bus.inprocess import InProcessBus
from bus.nats_bus import NatsBus
from bus.pending import unreacted
from bus.wiring import RoleTable
from store.events import (
    BenchmarkItem,
    Envelope,
    Payload,
    QuotaShortfall,
    RunCompleted,
    RunFailed,
    RunRequested,
    RunStopped,
    SampleRealized,
    SlotAssigned,
    SpecFinalized,
    new_event,
)
from store.jetstream_log import JetStreamEventLog
from store.log import EventLog
from store.sqlite_log import SQLiteEventLog
from tests.bus.bus_pipeline import (
    DOUBLE,
    TASK,
    Checker,
    Planner,
    Worker,
    count_types,
    pipeline_agents,
    request,
)
from tests.nats_server import NatsServer
from tests.waiting import wait_until


class Buses:
    """Opens the store (`log()`) and buses on it (`bus(agents)`); closes all of them."""

    def __init__(self, kind: str, tmp_path: Path, server: NatsServer | None) -> None:
        self.kind, self._tmp, self._server = kind, tmp_path, server
        self._logs: list[EventLog] = []
        self._buses: list[Bus] = []

    async def log(self) -> EventLog:
        """A handle on the store the buses use (a second handle, for NATS)."""
        if self.kind == "inprocess":
            if not self._logs:
                self._logs.append(SQLiteEventLog(self._tmp / "events.db"))
            return self._logs[0]
        assert self._server is not None
        log = await JetStreamEventLog.connect(self._server.url)
        self._logs.append(log)
        return log

    async def bus(self, agents: Sequence[Agent]) -> Bus:
        if self.kind == "inprocess":
            bus: Bus = InProcessBus(await self.log(), agents)
        else:
            assert self._server is not None
            bus = NatsBus(self._server.url, agents, workers=4)
        await bus.start()
        self._buses.append(bus)
        return bus

    async def close(self) -> None:
        for bus in self._buses:
            await bus.stop()
        for log in self._logs:
            await log.close()


@pytest.fixture(params=["inprocess", "nats"])
async def buses(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Buses]:
    server = request.getfixturevalue("nats_server") if request.param == "nats" else None
    opened = Buses(str(request.param), tmp_path, server)
    yield opened
    await opened.close()


async def test_a_run_flows_through_every_role_to_completion(buses: Buses) -> None:
    worker = Worker()
    bus = await buses.bus([Planner(), worker, Checker()])
    await bus.submit(new_event("run1", "user", request(8, work_delay_s=0.02)))
    done = await bus.wait_for("run1", timeout=20)
    assert isinstance(done.payload, RunCompleted) and done.payload.accepted == 8
    assert count_types(await (await buses.log()).read("run1")) == {
        "RunRequested": 1, "SlotAssigned": 8, "SampleRealized": 8, "SampleAccepted": 8,
        "RunCompleted": 1}
    assert sorted(worker.handled) == [f"s{i:03d}" for i in range(8)]
    assert worker.max_running > 1  # one agent object handles several events at once


class DeliveryProbe(Agent):
    """Reads the log itself when an event arrives: was it stored before delivery? It handles
    slots and realized samples, and nothing else reaches it."""

    role = "evaluator"

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.seen: list[tuple[str, bool]] = []

    async def _probe(self, event: Envelope[Payload]) -> None:
        stored = {e.event_id for e in await self.log.read(event.run_id)}
        self.seen.append((event.type, event.event_id in stored))

    @on(SlotAssigned)
    async def slot(self, event: Envelope[SlotAssigned], ctx: AgentContext) -> None:
        await self._probe(event)

    @on(SampleRealized)
    async def sample(self, event: Envelope[SampleRealized], ctx: AgentContext) -> None:
        await self._probe(event)


async def test_events_are_stored_before_delivery_and_reach_only_their_handlers(
    buses: Buses,
) -> None:
    probe = DeliveryProbe(await buses.log())
    bus = await buses.bus([*pipeline_agents(), probe])
    await bus.submit(new_event("run2", "user", request(5)))
    await bus.wait_for("run2", timeout=20)
    await wait_until(lambda: len(probe.seen) >= 10, what="10 deliveries to the probe")
    assert sorted(probe.seen) == [("SampleRealized", True)] * 5 + [("SlotAssigned", True)] * 5
    events = await (await buses.log()).read("run2")
    by_id = {e.event_id: e for e in events}
    for e in events:  # each reaction names its role and points at a stored cause
        if e.type == "SampleRealized":
            assert e.agent == "orchestrator" and by_id[e.causation_id].type == "SlotAssigned"
        if e.type == "SampleAccepted":
            assert e.agent == "verifier" and by_id[e.causation_id].type == "SampleRealized"


async def test_a_handler_error_fails_the_run_visibly(buses: Buses) -> None:
    bus = await buses.bus(pipeline_agents())
    with structlog.testing.capture_logs() as logs:
        await bus.submit(new_event("run3", "user", request(4, fail_slot=2)))
        failed = await bus.wait_for("run3", timeout=20)
    assert any(entry["event"] == "handler_failed" and entry["role"] == "orchestrator"
               for entry in logs)
    assert isinstance(failed.payload, RunFailed)
    assert failed.payload.stage == "orchestrator"
    assert "orchestrator failed on SlotAssigned" in failed.payload.reason
    assert "ValueError: cannot realize slot 2" in failed.payload.reason
    events = await (await buses.log()).read("run3")
    cause = next(e for e in events if e.event_id == failed.causation_id)
    assert isinstance(cause.payload, SlotAssigned) and cause.payload.slot == 2


class FlakyService(ServiceUnavailable):
    pass


class OutageWorker(Worker):
    """A worker whose model server is down for slot 1 until `up` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.up = False
        self.tries: list[int] = []

    @on(SlotAssigned)
    async def work(self, event: Envelope[SlotAssigned], ctx: AgentContext) -> None:
        self.tries.append(event.payload.slot)
        if event.payload.slot == 1 and not self.up:
            raise FlakyService("the model server is unreachable")
        await super().work(event, ctx)


async def test_a_world_failure_stops_the_run_and_run_resumed_finishes_it(buses: Buses) -> None:
    worker = OutageWorker()
    bus = await buses.bus([Planner(), worker, Checker()])
    await bus.submit(new_event("run5", "user", request(3, work_delay_s=0.05)))
    stopped = await bus.wait_for("run5", ENDS_A_BUILD, timeout=20)
    assert isinstance(stopped.payload, RunStopped) and stopped.payload.stage == "orchestrator"
    assert stopped.payload.cause == "model_unavailable"
    log = await buses.log()
    events = await log.read("run5")
    cause = next(e for e in events if e.event_id == stopped.causation_id)
    assert isinstance(cause.payload, SlotAssigned) and cause.payload.slot == 1
    assert "RunFailed" not in count_types(events)
    worker.up = True
    resumed = await bus.submit(resumed_event(events, "run5"))
    done = await bus.wait_for("run5", ENDS_A_BUILD, timeout=20, after_seq=resumed.seq)
    assert isinstance(done.payload, RunCompleted) and done.payload.accepted == 3
    assert worker.tries.count(1) == 2  # the stopped event was delivered again
    counts = count_types(await log.read("run5"))
    assert counts["SampleRealized"] == 3 and counts["RunResumed"] == 1


class CountingPlanner(Planner):
    def __init__(self) -> None:
        self.calls = 0

    @on(RunRequested)
    async def plan(self, event: Envelope[RunRequested], ctx: AgentContext) -> None:
        self.calls += 1
        await super().plan(event, ctx)


async def test_resubmitting_a_stored_event_delivers_nothing(buses: Buses) -> None:
    planner = CountingPlanner()
    bus = await buses.bus([planner, Worker(), Checker()])
    first = new_event("run4", "user", request(3))
    stored = await bus.submit(first)
    await bus.wait_for("run4", timeout=20)
    again = await bus.submit(first)
    assert again.seq == stored.seq == 1
    log = await buses.log()
    before = await log.read("run4")
    # A second, different run goes through: whatever the bus had to deliver, it did.
    await bus.submit(new_event("run4b", "user", request(1)))
    await bus.wait_for("run4b", timeout=20)
    assert planner.calls == 2  # the request of run4 once, run4b's once
    assert await log.read("run4") == before


async def test_resume_delivers_only_what_got_no_reaction(buses: Buses) -> None:
    # A crash left: the request, the planner's three slots, and slot 0 realized.
    log = await buses.log()
    req = (await log.append([new_event("run6", "user", request(3))]))[0]
    slots = await log.append([
        new_event("run6", "allocation", SlotAssigned(
            sample_id=f"s{i:03d}", slot=i, subtask=TASK, dataset_id="d", plan_id="p",
            source_item_id=f"item-{i}"), req.event_id, f"slot-{i}")
        for i in range(3)
    ])
    item = BenchmarkItem(id="s000", subtask=TASK, input="q0", target="0")
    await log.append([new_event("run6", "orchestrator", SampleRealized(
        sample_id="s000", item=item, source=DOUBLE), slots[0].event_id, "s000")])
    agents = pipeline_agents()
    # The planner reacted to the request, the worker to slot 0, the checker to nothing:
    # slots 1 and 2 go to the worker, s000's SampleRealized to the checker.
    pending = unreacted(await log.read("run6"), RoleTable(agents).roles_by_type)
    assert sorted((role, env.type, env.seq) for role, env in pending) == [
        ("orchestrator", "SlotAssigned", 3), ("orchestrator", "SlotAssigned", 4),
        ("verifier", "SampleRealized", 5)]
    bus = await buses.bus(agents)
    # The in-process bus delivers nothing stored until resumed; a NATS consumer also serves
    # the stream from its start, so it may get there first: resume then finds less to do.
    assert await bus.resume() <= 3
    completed = await bus.wait_for("run6", timeout=20)
    assert isinstance(completed.payload, RunCompleted)
    assert await bus.resume() == 0  # finished runs are left alone
    assert count_types(await log.read("run6")) == {
        "RunRequested": 1, "SlotAssigned": 3, "SampleRealized": 3, "SampleAccepted": 3,
        "RunCompleted": 1}


async def test_wait_for_names_what_it_waited_for(buses: Buses) -> None:
    bus = await buses.bus(pipeline_agents())
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="no RunCompleted, RunFailed within 0.3 s"):
        await bus.wait_for("nobody", timeout=0.3)
    assert time.monotonic() - started < 2
    await bus.submit(new_event("run7", "user", request(2)))
    first_slot = await bus.wait_for("run7", [SlotAssigned], timeout=20)
    assert isinstance(first_slot.payload, SlotAssigned) and first_slot.seq == 2


class Slow(Agent):
    """Takes its time over each request, then completes the run."""

    role = "allocation"

    def __init__(self) -> None:
        self.started = asyncio.Event()

    @on(RunRequested)
    async def finish_slowly(self, event: Envelope[RunRequested], ctx: AgentContext) -> None:
        self.started.set()
        await asyncio.sleep(0.3)
        await ctx.emit(RunCompleted(accepted=0, rejected=0, content_hash=""), cause=event)


async def test_stop_lets_a_handler_in_flight_finish(buses: Buses) -> None:
    slow = Slow()
    bus = await buses.bus([slow])
    await bus.submit(new_event("run8", "user", request(1)))
    await asyncio.wait_for(slow.started.wait(), 20)
    await bus.stop()
    assert count_types(await (await buses.log()).read("run8")) == {
        "RunRequested": 1, "RunCompleted": 1}


class Gate(Agent):
    """Holds each request until released, then completes the run."""

    role = "design"

    def __init__(self) -> None:
        self.started, self.release = asyncio.Event(), asyncio.Event()

    @on(RunRequested)
    async def hold(self, event: Envelope[RunRequested], ctx: AgentContext) -> None:
        self.started.set()
        await self.release.wait()
        await ctx.emit(RunCompleted(accepted=0, rejected=0, content_hash=""), cause=event)


async def test_busy_while_an_event_is_handled_also_seen_from_a_bus_serving_no_role(
    buses: Buses,
) -> None:
    gate = Gate()
    bus = await buses.bus([gate])
    assert not await bus.busy()
    await bus.submit(new_event("run9", "user", request(1)))
    await asyncio.wait_for(gate.started.wait(), 20)
    assert await bus.busy()
    if buses.kind == "nats":  # a --remote-agents build: the worker's un-acked event shows
        driver = await buses.bus([])
        assert await driver.busy()
    gate.release.set()
    await bus.wait_for("run9", timeout=20)
    await wait_until(lambda: _idle(bus), what="the bus idle after the handler acked")
    if buses.kind == "nats":
        assert not await driver.busy()


async def _idle(bus: Bus) -> bool:
    return not await bus.busy()


def test_both_buses_serve_the_same_roles_from_the_same_handlers() -> None:
    table = RoleTable(make_agents())
    assert table.roles_by_type[SampleRealized] == ["verifier"]
    assert table.roles_by_type[SpecFinalized] == ["orchestrator", "verifier"]
    assert set(table.handled("verifier")) == {SampleRealized, QuotaShortfall, SpecFinalized}
    with pytest.raises(ValueError, match="two agents with role 'orchestrator'"):
        RoleTable([Worker(), Worker()])
    with pytest.raises(ValueError, match="no agent for role"):
        RoleTable([Worker()], roles=["verifier"])

