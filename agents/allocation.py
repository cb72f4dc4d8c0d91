"""The Allocation agent: exact quotas per (subtask, dataset, plan) under global constraints.

On `SubtasksGrounded`: solve the integer program of `allocation_solver`
(size met exactly, dataset capacities respected, every subtask covered, as even
as possible). Each outcome is explained by `AllocationDiagnosed` (feasible or
not, and the binding constraint). When infeasible, the adjustment loop of the
paper runs within the grounded candidates: coverage is relaxed (subtasks left
without samples are named); if capacity binds, no adjustment can help and the
run fails with that reason. Then `QuotasAllocated` and `SpecFinalized` — or, for a
`--plan-only` run, `SpecProposed`: the spec waits for the developer's `SpecApproved`, and
once Grounding has re-checked the generators they edited (`GeneratorsRevised`), the spec
with their edits (`agents.plan_edits`) is finalized.
"""

from __future__ import annotations

from agents.allocation_solver import Candidate, Infeasible, allocate
from agents.base import Agent, AgentContext, on
from agents.plan_edits import EditError, approved_spec, proposal_of
from agents.settings import settings_of
from store.events import (
    AllocationDiagnosed,
    Envelope,
    GeneratorsRevised,
    Payload,
    Quota,
    QuotasAllocated,
    RunFailed,
    SpecFinalized,
    SpecProposed,
    SubtasksGrounded,
)


class AllocationAgent(Agent):
    role = "allocation"

    @on(SubtasksGrounded)
    async def allocate(self, event: Envelope[SubtasksGrounded], ctx: AgentContext) -> None:
        """Quotas per grounding from the integer program, explained; then the spec."""
        state = await ctx.state()
        p = event.payload
        if (state.status.finished or state.slots.spec is not None
                or state.approval.proposed is not None):
            return
        req = state.request.payload
        cands = [Candidate(g.subtask, g.dataset_id, g.plan_id, g.capacity) for g in p.groundings]
        batch: list[tuple[Payload, str]] = []
        try:
            result = allocate(cands, req.size, coverage=True)
            adjustment = ""
        except Infeasible as first:
            if first.binding != "coverage":
                batch.append((AllocationDiagnosed(feasible=False, binding_constraint=first.binding,
                                                  detail=first.detail,
                                                  adjustment="none possible within the grounded "
                                                             "datasets"), "diagnosis"))
                batch.append((RunFailed(stage="allocation",
                                        reason=f"infeasible allocation ({first.binding}): "
                                               f"{first.detail}"), "allocation-failed"))
                await ctx.emit_many(batch, cause=event)
                return
            try:
                result = allocate(cands, req.size, coverage=False)
            except Infeasible as second:
                batch.append((AllocationDiagnosed(feasible=False, binding_constraint=second.binding,
                                                  detail=second.detail,
                                                  adjustment="relaxing coverage did not help"),
                              "diagnosis"))
                batch.append((RunFailed(stage="allocation",
                                        reason=f"infeasible allocation ({second.binding}): "
                                               f"{second.detail}"), "allocation-failed"))
                await ctx.emit_many(batch, cause=event)
                return
            covered = {c.subtask for c, k in zip(cands, result.counts, strict=True) if k > 0}
            left = sorted({c.subtask for c in cands} - covered)
            adjustment = ("relaxed coverage: no samples for " + ", ".join(left)) if left else \
                "relaxed coverage"
            batch.append((AllocationDiagnosed(feasible=False, binding_constraint=first.binding,
                                              detail=first.detail, adjustment=adjustment),
                           "diagnosis"))

        quotas = [
            Quota(subtask=c.subtask, dataset_id=c.dataset_id, plan_id=c.plan_id, count=k)
            for c, k in zip(cands, result.counts, strict=True)
            if k > 0
        ]
        per_subtask: dict[str, int] = {}
        for q in quotas:
            per_subtask[q.subtask] = per_subtask.get(q.subtask, 0) + q.count
        split = ", ".join(f"{s}={n}" for s, n in per_subtask.items())
        if not adjustment:
            tight = ", ".join(result.tight_datasets)
            batch.append((AllocationDiagnosed(
                feasible=True,
                binding_constraint=f"capacity of {tight}" if tight else "none",
                detail=f"{req.size} samples over {len(quotas)} groundings ({split})"), "diagnosis"))
        batch.append((QuotasAllocated(
            quotas=quotas, method="milp",
            reason=f"exact integer program: sum = {req.size}, capacities respected, "
                   f"most even split ({split})" + (f"; {adjustment}" if adjustment else "")),
            "quotas"))
        design = state.design.accepted.get(p.round)
        subtasks = [s for s in design.payload.subtasks if s.name in per_subtask] if design else []
        used_plans = {q.plan_id for q in quotas}
        plans = [state.grounding.plans[pid] for pid in sorted(used_plans) if pid in state.grounding.plans]
        if settings_of(req).plan_only:  # the developer approves it first (`approve`)
            batch.append((SpecProposed(subtasks=subtasks, plans=plans, quotas=quotas),
                          "spec-proposed"))
        else:
            batch.append((SpecFinalized(subtasks=subtasks, plans=plans, quotas=quotas), "spec"))
        await ctx.emit_many(batch, cause=event)

    @on(GeneratorsRevised)
    async def finalize_approved(self, event: Envelope[GeneratorsRevised],
                                ctx: AgentContext) -> None:
        """The approved plan, with the developer's edits, becomes the spec."""
        state = await ctx.state()
        if state.status.finished or state.slots.spec is not None:
            return
        edits = [e.payload.edit for e in state.approval.edits]
        try:
            proposed, groundings, _ = proposal_of(state)
            subtasks, plans, quotas = approved_spec(
                proposed, edits, state.request.payload.size, groundings, state.grounding.plans)
        except EditError as exc:  # `approve` checked them: only a forged log gets here
            await ctx.emit(RunFailed(stage="allocation", reason=f"the approved edits do not "
                                     f"apply: {exc}"), cause=event, key="approval-failed")
            return
        await ctx.emit(SpecFinalized(subtasks=subtasks, plans=plans, quotas=quotas),
                       cause=event, key="spec")

