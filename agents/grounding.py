"""The Grounding agent: can each subtask be realized from real data? (paper §3.1)

For every subtask of an accepted design round, one batch of events:
- `DatasetPreferencesSet` — modality, annotation structure, domain (LLM);
- `DatasetsSearched` — a BM25-ranked search over the pool's cards;
- per candidate dataset, `PlanProposed` (a transformation plan, LLM) and
  `PlanScored` (Score-and-Filter: alignment, robustness, signal preservation,
  plus non-LLM executability checks; kept only if all pass);
- `SubtaskGrounded` with the best plans, or `GroundingFailed` back to Design.
When no plan passes (or the run asks for it: `--synthesize`), a generator synthesized for
the subtask (`agents.synthesis`) is one more grounding: `GeneratorPlanned`, its attempts,
`GeneratorSynthesized` and its `PlanProposed`.
When every subtask is grounded, `SubtasksGrounded` hands the round to Allocation.
After a `--plan-only` run's approval (`SpecApproved`), the generators the developer edited
are checked again (re-synthesized where needed), then `GeneratorsRevised` lets Allocation
finalize the spec.

Ablation `grounding-scoring`: the first search hit with the card's default plan,
no plan scoring.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from agents.base import Agent, AgentContext, Batch, on
from agents.keys import slug
from agents.plans import (
    card_summary,
    default_plan,
    executability_problems,
    generator_plan_from_answer,
    plan_from_answer,
    tools_for,
)
from agents.prompts import grounding as prompts
from agents.settings import RunSettings, settings_of
from agents.sources import PoolCache
from agents.synthesis.grounding import synthesized_grounding, when_to_synthesize
from agents.synthesis.revision import revise_generators
from store.events import (
    DatasetPreferencesSet,
    DatasetsSearched,
    DesignAccepted,
    Envelope,
    Grounding,
    GroundingFailed,
    PlanProposed,
    PlanScored,
    RunRequested,
    SearchHit,
    SpecApproved,
    Subtask,
    SubtaskGrounded,
    SubtasksGrounded,
    TransformationPlan,
)
from tools.cards import DatasetCard
from tools.pool import SEARCH_METHOD, Pool

log = structlog.get_logger(__name__)


class GroundingAgent(Agent):
    role = "grounding"

    def __init__(self, pools: PoolCache) -> None:
        self._pools = pools

    @on(DesignAccepted)
    async def ground(self, event: Envelope[DesignAccepted], ctx: AgentContext) -> None:
        """Every subtask of the accepted round: preferences, search, plans and their scores."""
        state = await ctx.state()
        p = event.payload
        if state.status.finished:
            return
        if state.grounding.grounded.get(p.round) or state.grounding.failed.get(p.round):
            return  # this round was grounded already (a re-delivery)
        req = state.request.payload
        pool = self._pools.for_request(req)
        results = await asyncio.gather(
            *(self._ground(event, sub, p.round, req, pool, ctx) for sub in p.subtasks)
        )
        batch: Batch = [e for events, _ in results for e in events]
        groundings = [g for _, gs in results if gs is not None for g in gs]
        if all(gs is not None for _, gs in results):
            batch.append((SubtasksGrounded(groundings=groundings, round=p.round), f"r{p.round}"))
        await ctx.emit_many(batch, cause=event)

    async def _ground(
        self, event: Envelope[DesignAccepted], sub: Subtask, round_: int, req: RunRequested, pool: Pool,
        ctx: AgentContext,
    ) -> tuple[Batch, list[Grounding] | None]:
        settings = settings_of(req)
        key = f"r{round_}:{slug(sub.name)}"
        llm = ctx.llm(self.role)
        sub_doc = {"name": sub.name, "description": sub.description,
                   "capability": sub.capability, "answer_format": sub.answer_format}
        prefs = await llm.complete_json(
            prompts.PREFERENCES, prompts.preferences_messages(sub_doc), prompts.PREFERENCES_SCHEMA,
            cause=event,
        )
        modality = [m for m in prefs["modality"] if m in prompts.MODALITIES] or ["text"]
        batch: Batch = [(
            DatasetPreferencesSet(subtask=sub.name, modality=modality,
                                  annotation=prefs["annotation"], domain=prefs["domain"],
                                  reason=prefs["reason"]),
            key,
        )]
        query = " ".join([prefs["query"], sub.name, sub.description, sub.capability,
                          prefs["domain"], prefs["annotation"]])
        hits, how = search_candidates(pool, query, modality, settings.search_k, round_)
        batch.append((DatasetsSearched(
            subtask=sub.name, query=query, method=how,
            hits=[SearchHit(dataset_id=c.dataset_id, name=c.name, score=s) for c, s in hits],
        ), key))
        synthesis = when_to_synthesize(req, settings)
        if not hits:
            why = f"no dataset in the pool matches the query {prefs['query']!r}"
            if synthesis == "never":
                batch.append((GroundingFailed(subtask=sub.name, round=round_, reason=why), key))
                return batch, None
            return await self._with_synthesized(event, sub, round_, settings, ctx, batch, [],
                                                key, why)

        if "grounding-scoring" in req.disabled:
            card = hits[0][0]
            plan = default_plan(sub, card, round_)
            batch.append((PlanProposed(plan=plan, reason="grounding scoring disabled: first search "
                                       "hit, default plan from the card's fields"), plan.plan_id))
            grounding = Grounding(subtask=sub.name, dataset_id=card.dataset_id,
                                  plan_id=plan.plan_id, capacity=pool.capacity(card.dataset_id))
            batch.append((SubtaskGrounded(subtask=sub.name, groundings=[grounding],
                                          reason="grounding scoring disabled: first search hit"),
                          key))
            return batch, [grounding]

        scored = await asyncio.gather(
            *(self._plan_and_score(event, sub, sub_doc, card, round_, req, pool, settings, ctx)
              for card, _ in hits)
        )
        kept: list[tuple[float, int, Grounding]] = []
        verdicts = []
        for rank, ((plan, plan_reason, score), (card, _)) in enumerate(zip(scored, hits, strict=True)):
            batch.append((PlanProposed(plan=plan, reason=plan_reason), plan.plan_id))
            batch.append((score, plan.plan_id))
            verdicts.append(f"{card.name}: {'kept' if score.accepted else 'filtered'} "
                            f"({score.reason})")
            if score.accepted:
                mean = (score.alignment + score.robustness + score.signal_preservation) / 3
                kept.append((-mean, rank, Grounding(subtask=sub.name, dataset_id=card.dataset_id,
                                                    plan_id=plan.plan_id,
                                                    capacity=pool.capacity(card.dataset_id))))
        kept.sort(key=lambda t: (t[0], t[1]))
        chosen = [g for _, _, g in kept[: settings.groundings_per_subtask]]
        passed = f"{len(chosen)} of {len(hits)} candidate plans passed Score-and-Filter"
        if synthesis == "always" or (not chosen and synthesis == "fallback"):
            why = passed if chosen else ("no transformation plan passed Score-and-Filter: "
                                         + "; ".join(verdicts))
            return await self._with_synthesized(event, sub, round_, settings, ctx, batch,
                                                chosen, key, why)
        if not chosen:
            batch.append((GroundingFailed(subtask=sub.name, round=round_,
                                          reason="no transformation plan passed Score-and-Filter: "
                                                 + "; ".join(verdicts)), key))
            return batch, None
        batch.append((SubtaskGrounded(subtask=sub.name, groundings=chosen, reason=passed), key))
        return batch, chosen

    async def _with_synthesized(
        self, event: Envelope[DesignAccepted], sub: Subtask, round_: int,
        settings: RunSettings, ctx: AgentContext, batch: Batch, chosen: list[Grounding],
        key: str, why: str,
    ) -> tuple[Batch, list[Grounding] | None]:
        """The pool's groundings (`why` says how they went) plus a synthesized generator's;
        with neither, the subtask goes back to Design."""
        decisions, grounding, how = await synthesized_grounding(
            event, sub, round_, settings, ctx.llm(self.role), ctx)
        batch += decisions
        if grounding is None and not chosen:
            batch.append((GroundingFailed(subtask=sub.name, round=round_,
                                          reason=f"{why}; synthesis: {how}"), key))
            return batch, None
        groundings = chosen + ([grounding] if grounding is not None else [])
        batch.append((SubtaskGrounded(subtask=sub.name, groundings=groundings,
                                      reason=f"{why}; synthesis: {how}"), key))
        return batch, groundings

    @on(SpecApproved)
    async def approved(self, event: Envelope[SpecApproved], ctx: AgentContext) -> None:
        """The developer approved the plan: generators they edited are checked again."""
        state = await ctx.state()
        if state.status.finished or state.approval.revised is not None:
            return
        settings = settings_of(state.request.payload)
        batch = await revise_generators(event, state, settings, ctx.llm(self.role), ctx)
        await ctx.emit_many(batch, cause=event)

    async def _plan_and_score(
        self, event: Envelope[DesignAccepted], sub: Subtask, sub_doc: dict[str, Any], card: DatasetCard,
        round_: int, req: RunRequested, pool: Pool, settings: RunSettings, ctx: AgentContext,
    ) -> tuple[TransformationPlan, str, PlanScored]:
        llm = ctx.llm(self.role)
        summary = card_summary(card)
        if card.generator:
            answer = await llm.complete_json(
                prompts.GENERATOR_PLAN, prompts.generator_plan_messages(sub_doc, summary),
                prompts.GENERATOR_PLAN_SCHEMA, cause=event)
            plan, notes = generator_plan_from_answer(answer, sub, card, round_, req.seed)
        else:
            tools = tools_for(card)
            answer = await llm.complete_json(
                prompts.PLAN, prompts.plan_messages(sub_doc, summary, tools),
                prompts.plan_schema(list(card.meta.fields), [t["name"] for t in tools]),
                cause=event)
            plan, notes = plan_from_answer(answer, sub, card, round_)
        plan_reason = "; ".join([str(answer.get("reason", "")), *notes]).strip("; ")
        problems = executability_problems(plan, card, pool.capacity(card.dataset_id))
        plan_doc = {k: v for k, v in {
            "instructions": plan.instructions, "question_template": plan.question_template,
            "input_fields": plan.input_fields, "target_field": plan.target_field,
            "answer_format": plan.answer_format, "tools": plan.tools,
            "target_source": plan.target_source}.items()}
        score = await llm.complete_json(
            prompts.SCORE, prompts.score_messages(sub_doc, summary, plan_doc), prompts.SCORE_SCHEMA,
            cause=event)
        dims = [score["alignment"] / 5, score["robustness"] / 5, score["signal_preservation"] / 5]
        low = [name for name, v in zip(("alignment", "robustness", "signal preservation"), dims,
                                       strict=True) if v < settings.score_threshold]
        accepted = not low and not problems
        reason = str(score.get("reason", "")).strip()
        if low:
            reason += f" [below {settings.score_threshold:g}: {', '.join(low)}]"
        if problems:
            reason += f" [not executable: {'; '.join(problems)}]"
        return plan, plan_reason, PlanScored(
            plan_id=plan.plan_id, subtask=sub.name, dataset_id=card.dataset_id,
            alignment=dims[0], robustness=dims[1], signal_preservation=dims[2],
            accepted=accepted, reason=reason.strip(),
        )


def search_candidates(pool: Pool, query: str, modality: list[str], k: int,
                      round_: int) -> tuple[list[tuple[DatasetCard, float]], str]:
    """The candidate datasets of a subtask and how they were found.

    BM25 over the cards, kept to datasets offering the preferred modalities (the paper's
    preliminary compatibility filter). From the second design round on, the search widens
    by one unfiltered candidate per round: the preference may be what failed. With no
    dataset offering those modalities, the search is unfiltered.
    """
    def usable(found: list[tuple[DatasetCard, float]]) -> list[tuple[DatasetCard, float]]:
        return [(c, s) for c, s in found if pool.capacity(c.dataset_id) > 0]

    wanted = "+".join(modality)
    filtered = usable(pool.search(query, k, modality))
    widen = round_ - 1 if filtered else k
    hits = list(filtered)
    if widen > 0:
        seen = {c.dataset_id for c, _ in hits}
        hits += [(c, s) for c, s in usable(pool.search(query, k + widen))
                 if c.dataset_id not in seen][:widen]
    if not filtered:
        return hits, f"{SEARCH_METHOD} (no dataset offers {wanted}; unfiltered)"
    if len(hits) > len(filtered):
        return hits, (f"{SEARCH_METHOD} filtered on {wanted}, widened by "
                      f"{len(hits) - len(filtered)} unfiltered (round {round_})")
    return hits, f"{SEARCH_METHOD} filtered on {wanted}"
