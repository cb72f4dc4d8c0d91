"""The Orchestrator agent: one handler per event class; the work is in the sibling modules."""

from __future__ import annotations

import asyncio

from agents.base import Agent, AgentContext, on
from agents.orchestrator.generated import realize_generated
from agents.orchestrator.repair import repaired
from agents.orchestrator.slots import first_assignments, next_attempt
from agents.orchestrator.sourced import realize_sourced
from agents.orchestrator.stalled import stalled_shortfalls
from agents.settings import settings_of
from agents.sources import PoolCache, get_generator
from replay.projections import RunState
from store.events import (
    Envelope,
    RepairRequested,
    ReplenishRequested,
    RunStalled,
    SlotAssigned,
    SpecFinalized,
    Subtask,
    TransformationPlan,
)
from tools.pool import Pool


class OrchestratorAgent(Agent):
    role = "orchestrator"

    def __init__(self, pools: PoolCache) -> None:
        self._pools = pools

    def _pool(self, state: RunState) -> Pool:
        return self._pools.for_request(state.request.payload)

    @on(SpecFinalized)
    async def assign_slots(self, event: Envelope[SpecFinalized], ctx: AgentContext) -> None:
        """Every slot of the spec gets its seeded source item (attempt 1)."""
        state = await ctx.state()
        if state.status.finished:
            return
        await ctx.emit_many(first_assignments(event.payload, state, self._pool(state)),
                            cause=event)

    @on(SlotAssigned)
    async def realize(self, event: Envelope[SlotAssigned], ctx: AgentContext) -> None:
        """The slot's source item (or generator instance) becomes a benchmark item."""
        state = await ctx.state()
        p = event.payload
        if state.status.finished or p.sample_id in state.samples.realized:
            return
        plan, subtask = spec_parts(state, p)
        request = state.request.payload
        pool = self._pool(state)
        synthesized = state.synthesis.for_dataset(p.dataset_id)
        if synthesized is not None:  # its sandbox may take a moment: off the event loop
            gen = get_generator(synthesized.name, state.synthesis)
            realization = await asyncio.to_thread(realize_generated, p, plan, gen, request.seed)
        elif (card := pool.card(p.dataset_id)).generator:
            realization = realize_generated(p, plan, get_generator(card.generator), request.seed)
        else:
            realization = await realize_sourced(event, plan, subtask, request,
                                                settings_of(request), pool, ctx.llm(self.role))
        # Blobs first, then the events naming them; media already in the log not again.
        await realization.emit(ctx, event, state.media)

    @on(ReplenishRequested)
    async def replenish(self, event: Envelope[ReplenishRequested], ctx: AgentContext) -> None:
        """A rejected sample's slot gets its next attempt, or is reported short."""
        state = await ctx.state()
        if state.status.finished:
            return
        payload, key = next_attempt(event.payload, state, self._pool(state))
        await ctx.emit(payload, cause=event, key=key)

    @on(RepairRequested)
    async def repair(self, event: Envelope[RepairRequested], ctx: AgentContext) -> None:
        """The sample's question is rewritten once; the Verifier judges it again."""
        state = await ctx.state()
        if state.status.finished:
            return
        realized = state.samples.realized.get(event.payload.sample_id)
        if realized is None or realized.payload.repair_of is not None:
            return
        settings = settings_of(state.request.payload)
        fixed = await repaired(event, realized.payload, settings, ctx.llm(self.role))
        await ctx.emit(fixed, cause=event, key=event.payload.sample_id)


    @on(RunStalled)
    async def stalled(self, event: Envelope[RunStalled], ctx: AgentContext) -> None:
        """Nothing can fill the open slots any more: each is reported short, saying which of
        its steps never happened. A stall a later `RunResumed` took up again is moot."""
        state = await ctx.state()
        if state.status.finished or state.status.resumed_seq > event.seq:
            return
        await ctx.emit_many(stalled_shortfalls(event.payload, state), cause=event)


def spec_parts(state: RunState, p: SlotAssigned) -> tuple[TransformationPlan, Subtask]:
    """The slot's plan and subtask in the spec (a subtask the spec lacks: named after it)."""
    spec = state.slots.spec_payload
    assert spec is not None
    plan = next(pl for pl in spec.plans if pl.plan_id == p.plan_id)
    subtask = next((s for s in spec.subtasks if s.name == p.subtask),
                   Subtask(name=p.subtask, description=p.subtask, capability=p.subtask,
                           answer_format=plan.answer_format))
    return plan, subtask
