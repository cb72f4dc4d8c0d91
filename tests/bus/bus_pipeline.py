"""A small three-stage pipeline of test agents, built on the real event types.

    RunRequested --planner--> SlotAssigned x size --worker--> SampleRealized
                 --checker--> SampleAccepted, and RunCompleted once all are accepted.

The planner, worker and checker play the roles "allocation", "orchestrator" and
"verifier" (a role is one of the real six: `RunFailed.stage` names it).

Knobs come from `RunRequested.config` (so every process agrees on them):
`work_delay_s` (worker sleeps `work_delay_s * (slot + 1)`: work finishes slot
by slot, so a kill lands mid-run), `fail_slot` (the worker raises on that slot).
Agents keep no state of their own: they decide from `ctx.history()`, like the
real ones, so any process can take any event.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from agents.base import Agent, AgentContext, on
from store.events import (
    BenchmarkItem,
    Envelope,
    GeneratedBy,
    RunCompleted,
    RunRequested,
    SampleAccepted,
    SampleRealized,
    SlotAssigned,
)

TASK = "bus-test"
DOUBLE = GeneratedBy(name="double", version="1", seed=0)  # "the target is twice the slot"
BUS_TESTS = Path(__file__).resolve().parent
PYTHON = sys.executable


def request(size: int, **config: object) -> RunRequested:
    return RunRequested(requirement="bus pipeline test", size=size, seed=7, config=dict(config))


async def run_request(ctx: AgentContext) -> RunRequested:
    first = (await ctx.history())[0]
    assert isinstance(first.payload, RunRequested)
    return first.payload


class Planner(Agent):
    role = "allocation"

    @on(RunRequested)
    async def plan(self, event: Envelope[RunRequested], ctx: AgentContext) -> None:
        req = event.payload
        slots = [
            (
                SlotAssigned(sample_id=f"s{i:03d}", slot=i, subtask=TASK, dataset_id="d",
                             plan_id="p", source_item_id=f"item-{i}"),
                f"slot-{i}",
            )
            for i in range(req.size)
        ]
        await ctx.emit_many(slots, cause=event)


class Worker(Agent):
    role = "orchestrator"

    def __init__(self) -> None:
        self.running = 0
        self.max_running = 0
        self.handled: list[str] = []  # sample ids, in handling order
        self.pid = os.getpid()

    @on(SlotAssigned)
    async def work(self, event: Envelope[SlotAssigned], ctx: AgentContext) -> None:
        slot = event.payload
        config = (await run_request(ctx)).config
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            await asyncio.sleep(float(config.get("work_delay_s", 0.0)) * (slot.slot + 1))
            if config.get("fail_slot") == slot.slot:
                raise ValueError(f"cannot realize slot {slot.slot}")
            item = BenchmarkItem(id=slot.sample_id, subtask=TASK, input=f"q{slot.slot}",
                                 target=str(slot.slot * 2), metadata={"pid": self.pid})
            await ctx.emit(SampleRealized(sample_id=slot.sample_id, item=item,
                                          source=DOUBLE),
                           cause=event, key=slot.sample_id)
            self.handled.append(slot.sample_id)
        finally:
            self.running -= 1


class Checker(Agent):
    role = "verifier"

    @on(SampleRealized)
    async def check(self, event: Envelope[SampleRealized], ctx: AgentContext) -> None:
        sample = event.payload
        await ctx.emit(SampleAccepted(sample_id=sample.sample_id, subtask=TASK), cause=event,
                       key=sample.sample_id)
        # Emit first, then read: of two concurrent last checks, the later read sees both.
        history = await ctx.history()
        accepted = {e.payload.sample_id for e in history if isinstance(e.payload, SampleAccepted)}
        req = history[0]
        assert isinstance(req.payload, RunRequested)
        if len(accepted) == req.payload.size:
            # Caused by the request, not by this sample: whichever checker sees the
            # last acceptance emits the same event id.
            await ctx.emit(RunCompleted(accepted=len(accepted), rejected=0, content_hash=""),
                           cause=req)


def pipeline_agents() -> list[Agent]:
    return [Planner(), Worker(), Checker()]


def count_types(events: list[Envelope]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in events:
        counts[e.type] = counts.get(e.type, 0) + 1
    return counts
