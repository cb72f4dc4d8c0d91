"""The Grounding agent: can each subtask be realized from real data? (paper §3.1)

For every subtask of an accepted design round, one batch of events:
- `DatasetPreferencesSet` — modality, annotation structure, domain (LLM);
- `DatasetsSearched` — a BM25-ranked search over the pool's cards, and the relevance of each
  hit (`agents.relevance`: do its sampled questions, or a built-in generator's rendered items,
  ask what the subtask tests?); a dataset or generator whose questions are mostly off-target
  is filtered here, before any plan is asked for;
- per relevant candidate dataset (at most `search_k`), `PlanProposed` (a transformation plan,
  LLM; an instruction that does not fit the items it would sit above is replaced by one that
  says what they are) and `PlanScored` (Score-and-Filter: the model's alignment, robustness
  and signal preservation, each combined with what `agents.plan_signals` measures on the
  dataset's own items; a failed signal or executability check rejects the plan, and then the
  model is not asked);
- `SubtaskGrounded` with the best plans, spread so that two subtasks share a dataset only when
  one has no other (`spread_groundings`), or `GroundingFailed` back to Design.
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
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog

from agents.base import Agent, AgentContext, Batch, on
from agents.cloze import needs_options
from agents.item_checks import unfillable_placeholders
from agents.keys import slug
from agents.plan_signals import (
    build_items,
    combined_scores,
    form_instruction,
    instruction_misfit,
    measure,
    sampled_items,
)
from agents.plans import (
    card_summary,
    default_plan,
    executability_problems,
    generator_plan_from_answer,
    plan_from_answer,
    tools_for,
)
from agents.prompts import grounding as prompts
from agents.prompts.common import clip
from agents.realize import as_text
from agents.relevance import named_modalities, relevance
from agents.settings import RunSettings, settings_of
from agents.sources import PoolCache
from agents.synthesis.grounding import synthesized_grounding, when_to_synthesize
from agents.synthesis.revision import revise_generators
from store.events import (
    DatasetPreferencesSet,
    DatasetRelevance,
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
        outcomes = await asyncio.gather(
            *(self._ground(event, sub, p.round, req, pool, ctx) for sub in p.subtasks)
        )
        spread = spread_groundings([(o.subtask, o.ranked) for o in outcomes
                                    if o.ranked is not None],
                                   settings_of(req).groundings_per_subtask)
        batch: Batch = []
        groundings: list[Grounding] = []
        for o in outcomes:
            batch += o.batch
            if o.ranked is not None:
                chosen, note = spread[o.subtask]
                batch.append((SubtaskGrounded(subtask=o.subtask, groundings=chosen,
                                              reason=o.reason + note), o.key))
                o.groundings = chosen
            groundings += o.groundings or []
        if all(o.groundings is not None for o in outcomes):
            batch.append((SubtasksGrounded(groundings=groundings, round=p.round), f"r{p.round}"))
        await ctx.emit_many(batch, cause=event)

    async def _ground(
        self, event: Envelope[DesignAccepted], sub: Subtask, round_: int, req: RunRequested, pool: Pool,
        ctx: AgentContext,
    ) -> _Outcome:
        batch, groundings = await self._ground_one(event, sub, round_, req, pool, ctx)
        if isinstance(groundings, _Ranked):
            return _Outcome(sub.name, f"r{round_}:{slug(sub.name)}", batch,
                            ranked=groundings.groundings, reason=groundings.reason)
        return _Outcome(sub.name, f"r{round_}:{slug(sub.name)}", batch, groundings=groundings)

    async def _ground_one(
        self, event: Envelope[DesignAccepted], sub: Subtask, round_: int, req: RunRequested,
        pool: Pool, ctx: AgentContext,
    ) -> tuple[Batch, list[Grounding] | _Ranked | None]:
        settings = settings_of(req)
        key = f"r{round_}:{slug(sub.name)}"
        llm = ctx.llm(self.role)
        sub_doc = {"name": sub.name, "description": sub.description,
                   "capability": sub.capability, "answer_format": sub.answer_format}
        prefs = await llm.complete_json(
            prompts.PREFERENCES, prompts.preferences_messages(sub_doc), prompts.PREFERENCES_SCHEMA,
            cause=event,
        )
        modality = named_modalities(
            [m for m in prefs["modality"] if m in prompts.MODALITIES],
            " ".join([req.requirement, sub.name, sub.description, sub.capability]))
        batch: Batch = [(
            DatasetPreferencesSet(subtask=sub.name, modality=modality,
                                  annotation=prefs["annotation"], domain=prefs["domain"],
                                  reason=prefs["reason"]),
            key,
        )]
        query = " ".join([prefs["query"], sub.name, sub.description, sub.capability,
                          prefs["domain"], prefs["annotation"]])
        found, how = search_candidates(pool, query, modality,
                                       settings.search_k + RELEVANCE_SPARE, round_)
        measured = {c.dataset_id: relevance(sub, c, pool, req.requirement) for c, _ in found}
        hits = [(c, s) for c, s in found if relevance_kept(measured[c.dataset_id])]
        hits = hits[: settings.search_k]
        batch.append((DatasetsSearched(
            subtask=sub.name, query=query, method=how,
            hits=[SearchHit(dataset_id=c.dataset_id, name=c.name, score=s) for c, s in found],
            relevance=[r for r in measured.values() if r is not None],
        ), key))
        synthesis = when_to_synthesize(req, settings)
        if "grounding-scoring" in req.disabled:
            hits = found[: settings.search_k]  # no scoring: the first search hit as it is
        if not hits:
            why = (off_target_reason([measured[c.dataset_id] for c, _ in found]) if found
                   else f"no dataset in the pool matches the query {prefs['query']!r}")
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
        flat = [(result, card) for results, (card, _) in zip(scored, hits, strict=True)
                for result in results]
        for rank, ((plan, plan_reason, score), card) in enumerate(flat):
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
        ranked = best_per_dataset([g for _, _, g in kept])
        chosen = ranked[: settings.groundings_per_subtask]
        passed = f"{len(kept)} of {len(flat)} candidate plans passed Score-and-Filter"
        if len(ranked) < len(kept):
            passed += f" ({len(kept) - len(ranked)} on a dataset a better plan of it already had)"
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
        return batch, _Ranked(ranked, passed)  # chosen once every subtask is scored

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
    ) -> list[tuple[TransformationPlan, str, PlanScored]]:
        """The model's plan and its score; when its instruction cannot be filled from the
        item's own fields, that plan is rejected and the same plan with an instruction that
        says what the items are is proposed and scored after it."""
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
                prompts.PLAN, prompts.plan_messages(sub_doc, summary, tools,
                                                    item_examples(pool, card)),
                prompts.plan_schema(list(card.meta.fields), [t["name"] for t in tools]),
                cause=event)
            plan, notes = plan_from_answer(answer, sub, card, round_)
        out: list[tuple[TransformationPlan, str, PlanScored]] = []
        if not card.generator:
            missing = unfillable_placeholders(plan.question_template, card.meta.fields)
            if missing:
                rejected = await self._score(event, sub, sub_doc, card, plan, answer, notes,
                                             pool, settings, ctx, req.requirement)
                out.append(rejected)
                fitted = form_instruction(plan, build_items(plan, card,
                                                            sampled_items(pool, card.dataset_id)))
                notes = [*notes, f"plan {plan.plan_id} was rejected: its instruction "
                                 f"{plan.question_template!r} leaves {', '.join(missing)} "
                                 f"unfilled; here it is with {fitted!r}"]
                plan = msgspec.structs.replace(plan, plan_id=f"{plan.plan_id}-fitted",
                                               question_template=fitted)
        out.append(await self._score(event, sub, sub_doc, card, plan, answer, notes, pool,
                                     settings, ctx, req.requirement))
        return out

    async def _score(
        self, event: Envelope[DesignAccepted], sub: Subtask, sub_doc: dict[str, Any],
        card: DatasetCard, plan: TransformationPlan, answer: dict[str, Any], notes: list[str],
        pool: Pool, settings: RunSettings, ctx: AgentContext, requirement: str,
    ) -> tuple[TransformationPlan, str, PlanScored]:
        """Score-and-Filter of one plan: measured signals, then (if none failed) the model."""
        llm = ctx.llm(self.role)
        summary = card_summary(card)
        signals = None
        notes = list(notes)
        if not card.generator:
            sources = sampled_items(pool, card.dataset_id)
            items = build_items(plan, card, sources)
            # A template that leaves placeholders unfilled is rejected as it is (its fitted
            # successor follows): replacing it here too grounded one subtask twice on one
            # dataset, and the two quotas' slots shared sample ids.
            misfit = (None if unfillable_placeholders(plan.question_template, card.meta.fields)
                      else instruction_misfit(plan, items))
            if misfit is not None:
                fitted = form_instruction(plan, items)
                notes.append(f"instruction {plan.question_template!r} replaced by {fitted!r}: "
                             f"{misfit}")
                plan = msgspec.structs.replace(plan, question_template=fitted)
            if why := needs_options(plan, sources):
                notes.append(f"answer format {plan.answer_format} replaced by multiple_choice: "
                             f"{why}")
                plan = msgspec.structs.replace(plan, answer_format="multiple_choice")
            signals = measure(plan, card, sources, relevance(sub, card, pool, requirement))
        plan_reason = "; ".join([str(answer.get("reason", "")), *notes]).strip("; ")
        problems = executability_problems(plan, card, pool.capacity(card.dataset_id))
        if problems or (signals is not None and signals.problems):
            # Rejected by what was measured: the model's score could not change that.
            reason = "; ".join([*(f"not executable: {p}" for p in problems),
                                *(signals.problems if signals is not None else [])])
            zero = (0.0, 0.0, 0.0)
            dims = combined_scores(signals, zero) if signals is not None else zero
            return plan, plan_reason, PlanScored(
                plan_id=plan.plan_id, subtask=sub.name, dataset_id=card.dataset_id,
                alignment=dims[0], robustness=dims[1], signal_preservation=dims[2],
                accepted=False, reason=f"rejected without a model score: {reason}",
                signals=signals)
        plan_doc = {k: v for k, v in {
            "instructions": plan.instructions, "question_template": plan.question_template,
            "input_fields": plan.input_fields, "target_field": plan.target_field,
            "answer_format": plan.answer_format, "tools": plan.tools,
            "target_source": plan.target_source}.items()}
        score = await llm.complete_json(
            prompts.SCORE, prompts.score_messages(sub_doc, summary, plan_doc), prompts.SCORE_SCHEMA,
            cause=event)
        llm_dims = (score["alignment"] / 5, score["robustness"] / 5,
                    score["signal_preservation"] / 5)
        dims = combined_scores(signals, llm_dims) if signals is not None else llm_dims
        low = [name for name, v in zip(("alignment", "robustness", "signal preservation"), dims,
                                       strict=True) if v < settings.score_threshold]
        reason = str(score.get("reason", "")).strip()
        if signals is not None:
            reason += (f" [measured: on-target {signals.on_target:.2f}, fields "
                       f"{signals.fields_present:.2f}, items pass {signals.items_pass:.2f}]")
        if low:
            reason += f" [below {settings.score_threshold:g}: {', '.join(low)}]"
        return plan, plan_reason, PlanScored(
            plan_id=plan.plan_id, subtask=sub.name, dataset_id=card.dataset_id,
            alignment=dims[0], robustness=dims[1], signal_preservation=dims[2],
            accepted=not low, reason=reason.strip(), signals=signals,
            llm_scores=[round(v, 3) for v in llm_dims],
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


# Datasets searched beyond `search_k`, so that the ones filtered as off-target leave others.
RELEVANCE_SPARE = 4


@dataclass
class _Ranked:
    """A subtask's plans that passed Score-and-Filter, best first, not yet spread."""

    groundings: list[Grounding]
    reason: str


@dataclass
class _Outcome:
    subtask: str
    key: str
    batch: Batch
    ranked: list[Grounding] | None = None  # to be chosen by `spread_groundings`
    reason: str = ""
    groundings: list[Grounding] | None = field(default=None)  # None: not grounded


def relevance_kept(measured: DatasetRelevance | None) -> bool:
    return measured is None or measured.kept


def off_target_reason(measured: list[DatasetRelevance | None]) -> str:
    def share(r: DatasetRelevance) -> str:
        register = "" if r.register is None else f", {r.register:.0%} in the everyday register"
        return f"{r.dataset_id} {r.on_target:.0%}{register}"

    said = [f"{share(r)} (e.g. {r.examples[0]!r})" if r.examples else share(r)
            for r in measured if r is not None]
    return ("no searched dataset's sampled questions ask what the subtask tests: "
            + "; ".join(said))


def best_per_dataset(ranked: list[Grounding]) -> list[Grounding]:
    """The best-ranked grounding of each dataset, in rank order: a subtask's slots are named
    by (subtask, dataset, slot), so two plans of one dataset would share sample ids."""
    best: dict[str, Grounding] = {}
    for g in ranked:
        best.setdefault(g.dataset_id, g)
    return list(best.values())


def spread_groundings(
    ranked: list[tuple[str, list[Grounding]]], per_subtask: int,
) -> dict[str, tuple[list[Grounding], str]]:
    """Per subtask, the groundings to use and a note: subtasks with fewer passing datasets
    choose first; a subtask takes the datasets no other subtask took, and shares one only
    when every dataset it passed on is taken."""
    taken: dict[str, str] = {}  # dataset id -> the subtask that took it
    out: dict[str, tuple[list[Grounding], str]] = {}
    order = sorted(range(len(ranked)),
                   key=lambda i: (len({g.dataset_id for g in ranked[i][1]}), i))
    for i in order:
        name, options = ranked[i]
        free = [g for g in options if g.dataset_id not in taken]
        if free:
            chosen = free[:per_subtask]
            left = sorted({g.dataset_id for g in options} - {g.dataset_id for g in free})
            note = (f"; spread: {', '.join(left)} left to "
                    f"{', '.join(sorted({taken[d] for d in left}))}" if left else "")
        else:
            chosen = options[:per_subtask]
            note = ("; shares " + ", ".join(f"{g.dataset_id} with {taken[g.dataset_id]}"
                                            for g in chosen)
                    + ": no other dataset passed for it")
        for g in chosen:
            taken.setdefault(g.dataset_id, name)
        out[name] = (chosen, note)
    return out


def item_examples(pool: Pool, card: DatasetCard, n: int = 2) -> list[dict[str, Any]]:
    """Two of the dataset's items as the plan will see them: its question and options."""
    out = []
    for source in sampled_items(pool, card.dataset_id, n):
        doc: dict[str, Any] = {role: clip_text(source.fields.get(role)) for role in ("question", "options")
               if role in source.fields}
        if doc:
            out.append(doc)
    return out


def clip_text(value: Any, limit: int = 160) -> str:
    return clip(as_text(value), limit)
