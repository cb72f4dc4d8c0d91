"""After the developer approved a plan: the generators their edits touched, checked again.

For each edited generator, a new revision of its plan (`GeneratorPlanned`, by the user) and
a first attempt that costs no model call when it can: the developer's own parts, or — after
a parameter range edit — the parts that passed before, checked over the new ranges. A check
the developer added or changed needs new code, so then the model revises the parts first.
Either way the attempts run the same checks in the same bounded rounds as the first
synthesis; a generator that passes none of them fails the run with the reason.
"""

from __future__ import annotations

from agents.base import LLM, AgentContext, Batch
from agents.plan_edits import revised_plan, touched_generators
from agents.settings import RunSettings
from agents.synthesis.flow import Synthesizer
from replay.projections import RunState
from store.events import (
    Author,
    Envelope,
    GeneratorsRevised,
    PlanEdit,
    RunFailed,
    SetCheck,
    SetParamRange,
    SetParts,
    SpecApproved,
)


def _described(edits: list[PlanEdit]) -> str:
    parts = []
    for e in edits:
        if isinstance(e, SetParamRange):
            value = e.choices if e.choices is not None else f"[{e.low}, {e.high}]"
            parts.append(f"parameter {e.param} → {value}")
        elif isinstance(e, SetCheck):
            parts.append(f"check {e.check} " + ("dropped" if e.description is None
                                                 else f"→ {e.description!r}"))
        elif isinstance(e, SetParts):
            parts.append("the developer's own parts")
    return "; ".join(parts)


async def revise_generators(event: Envelope[SpecApproved], state: RunState,
                            settings: RunSettings, llm: LLM, ctx: AgentContext) -> Batch:
    """The decisions after approval: each edited generator's new revision, then
    `GeneratorsRevised` (or `RunFailed` when an edited generator passes no attempt)."""
    edits = [e.payload.edit for e in state.approval.edits]
    names = touched_generators(edits)
    batch: Batch = []
    for name in names:
        record = state.synthesis.generators[name]
        planned = state.synthesis.latest_plan(name)
        assert planned is not None  # a synthesized generator was planned first
        mine = [e for e in edits if getattr(e, "generator", None) == name]
        plan = revised_plan(planned.payload.plan, mine)
        own = [e for e in mine if isinstance(e, SetParts)]
        checks_changed = any(isinstance(e, SetCheck) for e in mine)
        first_parts: str | None = None
        first_by: Author = "grounding"
        previous, feedback = "", ""
        if own:
            first_parts, first_by = own[-1].parts, "user"
        elif checks_changed:  # new checks need new code: the model revises first
            previous = record.parts
            feedback = ("- the developer changed the plan's checks: checks() must report "
                        + ", ".join(f"{c.name} ({c.description})" for c in plan.checks))
        else:
            first_parts = record.parts
        revision = max(record.revision, planned.payload.revision) + 1
        result = await Synthesizer(ctx, llm, event, settings).write(
            plan, round_=planned.payload.round, revision=revision, by="user",
            reason=f"the developer's edits: {_described(mine)}", first_parts=first_parts,
            first_by=first_by, previous=previous, feedback=feedback)
        if result.record is None:
            batch.append((RunFailed(stage="grounding",
                                    reason=f"after the developer's edits, {result.reason}"),
                          "revision-failed"))
            return batch
        batch.append((result.record, f"{name}:r{revision}"))
    batch.append((GeneratorsRevised(
        names=names, reason="no generator edited" if not names else
        f"{len(names)} generator(s) checked again after the developer's edits"), "revised"))
    return batch
