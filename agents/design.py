"""The Design agent: from a requirement to accepted subtasks, and back after grounding fails.

Steps (each its own event, each with its reason):
- RunRequested → the LLM proposes 2–6 candidate subtasks (`SubtasksProposed`); a proposal
  that is a near-duplicate of an earlier one (measured by `agents.subtask_overlap`, not
  asked) is dropped and named in the event's `near_duplicates`, and one that names a step
  of building a model ("Model training", `agents.build_steps`) in its `build_steps`; when
  every proposal is such a step, the requirement itself is the one candidate;
- SubtasksProposed → a second pass keeps, revises or discards each
  (`SubtaskReviewed`), then `DesignAccepted` with the surviving set; a revision that
  makes a subtask a near-duplicate of another, or a build step, is discarded, with the
  measured reason;
- GroundingFailed → the failed subtasks are revised or discarded with the
  grounding's reasons and the pool's datasets in view, and a new round is
  accepted; after `max_design_rounds` the ungroundable ones are dropped (or the
  run fails if none is left).

Ablation `design`: the requirement itself is the single subtask; no LLM call.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import msgspec
import structlog

from agents.base import Agent, AgentContext, on
from agents.build_steps import build_step, drop_build_steps, requirement_subtask
from agents.keys import slug
from agents.prompts import design as prompts
from agents.prompts.common import clip
from agents.settings import settings_of
from agents.sources import PoolCache
from agents.subtask_overlap import drop_near_duplicates, near_duplicate_of
from store.events import (
    ANSWER_FORMATS,
    REVIEW_DECISIONS,
    DesignAccepted,
    Envelope,
    GroundingFailed,
    ReviewDecision,
    RunFailed,
    RunRequested,
    Subtask,
    SubtaskReviewed,
    SubtasksProposed,
    closed_value,
)

log = structlog.get_logger(__name__)

class DesignAgent(Agent):
    role = "design"

    def __init__(self, pools: PoolCache) -> None:
        self._pools = pools

    # ----------------------------------------------------------------- steps

    @on(RunRequested)
    async def propose(self, event: Envelope[RunRequested], ctx: AgentContext) -> None:
        """The LLM proposes candidate subtasks for the requirement."""
        state = await ctx.state()
        if state.status.finished or state.lineage.refresh is not None:
            return  # a refresh inherits its parent's spec (recorded with its first event)
        req = event.payload
        if "design" in req.disabled:
            only = Subtask(
                name=slug(req.requirement, 40),
                description=req.requirement,
                capability=req.requirement,
                answer_format="any",
            )
            await ctx.emit(
                DesignAccepted(
                    subtasks=[only],
                    round=1,
                    reason="design agent disabled: the requirement is the single subtask",
                ),
                cause=event,
                key="r1",
            )
            return
        most = settings_of(req).max_subtasks
        answer = await ctx.llm(self.role).complete_json(
            prompts.PROPOSE, prompts.propose_messages(req.requirement, most),
            prompts.propose_schema(most), cause=event,
        )
        proposed = distinct_subtasks([to_subtask(s) for s in answer["subtasks"]])
        candidates, steps = drop_build_steps(proposed)
        candidates, duplicates = drop_near_duplicates(candidates)
        reason = str(answer.get("reason", ""))
        if not candidates:
            formats = Counter(s.answer_format for s in proposed if s.answer_format != "any")
            candidates = [requirement_subtask(
                req.requirement, formats.most_common(1)[0][0] if formats else "multiple_choice")]
            reason = ("every proposal names a step of building a model ("
                      + ", ".join(sorted({s.step for s in steps}))
                      + "), not a test item: the requirement itself is the subtask")
        await ctx.emit(
            SubtasksProposed(candidates=candidates[:most], reason=reason,
                             round=1, near_duplicates=duplicates, build_steps=steps),
            cause=event,
            key="r1",
        )

    @on(SubtasksProposed)
    async def review(self, event: Envelope[SubtasksProposed], ctx: AgentContext) -> None:
        """A second pass keeps, revises or discards each candidate; the survivors are accepted."""
        state = await ctx.state()
        if state.status.finished:
            return
        p = event.payload
        req = state.request.payload
        answer = await ctx.llm(self.role).complete_json(
            prompts.REVIEW,
            prompts.review_messages(req.requirement, [subtask_dict(c) for c in p.candidates]),
            prompts.REVIEW_SCHEMA,
            cause=event,
        )
        reviews = distinct_reviews(p.candidates, match_reviews(p.candidates, answer["reviews"]))
        out: list[tuple[Any, str]] = []
        accepted: list[Subtask] = []
        for cand, review in zip(p.candidates, reviews, strict=True):
            decision, reason, revised = as_test_item(review, cand)
            out.append((
                SubtaskReviewed(name=cand.name, decision=decision, reason=reason,
                                revised=revised if decision == "revise" else None, round=p.round),
                f"r{p.round}:{slug(cand.name)}",
            ))
            if decision == "keep":
                accepted.append(cand)
            elif decision == "revise" and revised is not None:
                accepted.append(revised)
        reason = f"{len(accepted)} of {len(p.candidates)} candidates kept or revised"
        if not accepted:
            accepted = [p.candidates[0]]
            reason = "the review discarded every candidate; keeping the first proposal"
        accepted = unique_subtasks(accepted)[: settings_of(req).max_subtasks]
        out.append((DesignAccepted(subtasks=accepted, round=p.round, reason=reason), f"r{p.round}"))
        await ctx.emit_many(out, cause=event)

    @on(GroundingFailed)
    async def revise(self, event: Envelope[GroundingFailed], ctx: AgentContext) -> None:
        """The round's ungroundable subtasks are revised or dropped; a new round is accepted."""
        state = await ctx.state()
        if state.status.finished:
            return
        p = event.payload
        failures = state.grounding.failed.get(p.round, [])
        # One revision per round: only the round's first failure triggers it.
        if not failures or failures[0].event_id != event.event_id:
            return
        design = state.design.accepted.get(p.round)
        if design is None or (p.round + 1) in state.design.accepted:
            return
        req = state.request.payload
        settings = settings_of(req)
        failed = {f.payload.subtask: f.payload.reason for f in failures}
        current: list[Subtask] = list(design.payload.subtasks)
        grounded = [s for s in current if s.name not in failed]
        next_round = p.round + 1

        if "design" in req.disabled or p.round >= settings.max_design_rounds:
            why = ("design agent disabled" if "design" in req.disabled
                   else f"{p.round} design rounds reached")
            if not grounded:
                await ctx.emit(
                    RunFailed(stage="grounding",
                              reason=f"no subtask could be grounded ({why}): "
                                     + "; ".join(f"{k}: {v}" for k, v in sorted(failed.items()))),
                    cause=event, key="grounding-failed",
                )
                return
            out: list[tuple[Any, str]] = [
                (SubtaskReviewed(name=name, decision="discard",
                                 reason=f"not groundable after {why}: {reason}", round=next_round),
                 f"r{next_round}:{slug(name)}")
                for name, reason in sorted(failed.items())
            ]
            out.append((DesignAccepted(subtasks=grounded, round=next_round,
                                       reason=f"dropped {len(failed)} ungroundable subtasks ({why})"),
                        f"r{next_round}"))
            await ctx.emit_many(out, cause=event)
            return

        pool = self._pools.for_request(req)
        datasets = [f"{c.name} ({'+'.join(c.modalities)}; {c.domain})" for c in pool.datasets]
        failures_doc = [
            {"subtask": subtask_dict(s), "reason": clip(failed[s.name], 300)}
            for s in current if s.name in failed
        ]
        answer = await ctx.llm(self.role).complete_json(
            prompts.REVISE, prompts.revise_messages(req.requirement, failures_doc, datasets),
            prompts.REVISE_SCHEMA, cause=event,
        )
        failed_subtasks = [s for s in current if s.name in failed]
        reviews = distinct_reviews(failed_subtasks, match_reviews(failed_subtasks,
                                                                  answer["reviews"]), grounded)
        out = []
        revised_set: list[Subtask] = []
        for sub, review in zip(failed_subtasks, reviews, strict=True):
            decision, reason, revised = as_test_item(review, sub)
            out.append((SubtaskReviewed(name=sub.name, decision=decision, reason=reason,
                                        revised=revised if decision == "revise" else None,
                                        round=next_round),
                        f"r{next_round}:{slug(sub.name)}"))
            if decision == "revise" and revised is not None:
                revised_set.append(revised)
            elif decision == "keep":  # unchanged: the next round's search is broader
                revised_set.append(sub)
        accepted = unique_subtasks(grounded + revised_set)[: settings.max_subtasks]
        if not accepted:
            out.append((RunFailed(stage="design",
                                  reason="every subtask was discarded after grounding failed: "
                                         + "; ".join(f"{k}: {v}" for k, v in sorted(failed.items()))),
                        "design-failed"))
        else:
            out.append((DesignAccepted(
                subtasks=accepted, round=next_round,
                reason=f"round {next_round}: revised {len(revised_set)} subtasks after grounding "
                       f"failed for {', '.join(sorted(failed))}"), f"r{next_round}"))
        await ctx.emit_many(out, cause=event)


# ---------------------------------------------------------------------- helpers


_ENUMERATION = re.compile(r"^\s*(?:\d+|[a-zA-Z])[.):]\s+")


def to_subtask(raw: dict[str, Any]) -> Subtask:
    """A subtask from an LLM answer; a leading enumeration ("1. ") is not part of its name."""
    name = " ".join(_ENUMERATION.sub("", str(raw["name"])).split()) or str(raw["name"]).strip()
    return Subtask(
        name=name,
        description=str(raw["description"]).strip(),
        capability=str(raw["capability"]).strip(),
        answer_format=closed_value(raw["answer_format"], ANSWER_FORMATS),
        distinct_focus=" ".join(str(raw.get("distinct_focus", "")).split()),
    )


Review = tuple[ReviewDecision, str, Subtask | None]


def as_test_item(review: Review, sub: Subtask) -> Review:
    """A review whose kept or revised subtask is a step of building a model becomes a
    discard, with what it names."""
    decision, reason, revised = review
    result = revised if decision == "revise" else sub if decision == "keep" else None
    step = build_step(result) if result is not None else ""
    if not step:
        return review
    return "discard", f"{reason}; discarded: it names a step of building a model ({step}), " \
                      "not a test item", None


def subtask_dict(s: Subtask) -> dict[str, Any]:
    return msgspec.to_builtins(s)


def distinct_subtasks(subtasks: list[Subtask]) -> list[Subtask]:
    """Proposals without repeats: a later subtask with the same name (as an id) is dropped."""
    seen: set[str] = set()
    out = []
    for s in subtasks:
        if slug(s.name, 32) not in seen:
            seen.add(slug(s.name, 32))
            out.append(s)
    return out


def unique_subtasks(subtasks: list[Subtask]) -> list[Subtask]:
    """Subtasks with distinct id slugs (later duplicates get a numeric suffix)."""
    seen: set[str] = set()
    out = []
    for s in subtasks:
        base = slug(s.name, 32)
        key, n = base, 1
        while key in seen:
            n += 1
            key = f"{base}-{n}"
        seen.add(key)
        out.append(s if n == 1 else msgspec.structs.replace(s, name=f"{s.name} {n}"))
    return out


def match_reviews(
    subtasks: list[Subtask], reviews: list[dict[str, Any]]
) -> list[tuple[ReviewDecision, str, Subtask | None]]:
    """(decision, reason, revised) per subtask: by name; the reviews naming no subtask go, in
    order, to the subtasks left; a subtask with no review is kept."""
    names = {slug(s.name): i for i, s in enumerate(subtasks)}
    found: dict[int, dict[str, Any]] = {}
    spare = []
    for r in reviews:
        i = names.get(slug(str(r.get("name", ""))))
        if i is not None and i not in found:
            found[i] = r
        else:
            spare.append(r)
    for i in range(len(subtasks)):
        if i not in found and spare:
            found[i] = spare.pop(0)
    out: list[tuple[ReviewDecision, str, Subtask | None]] = []
    for i in range(len(subtasks)):
        review = found.get(i)
        if review is None:
            out.append(("keep", "not reviewed; kept as proposed", None))
            continue
        revised = to_subtask(review["revised"]) if review.get("revised") else None
        out.append((closed_value(review["decision"], REVIEW_DECISIONS),
                    str(review.get("reason", "")), revised))
    return out


def distinct_reviews(
    subtasks: list[Subtask],
    reviews: list[tuple[ReviewDecision, str, Subtask | None]],
    already: list[Subtask] | None = None,
) -> list[tuple[ReviewDecision, str, Subtask | None]]:
    """The reviews with each survivor that is a near-duplicate of an earlier survivor (or of
    one of `already`) turned into a discard that says whose duplicate it is, and how close."""
    kept: list[Subtask] = list(already or [])
    out: list[tuple[ReviewDecision, str, Subtask | None]] = []
    for sub, (decision, reason, revised) in zip(subtasks, reviews, strict=True):
        survivor = sub if decision == "keep" else revised if decision == "revise" else None
        if survivor is None:
            out.append((decision, reason, revised))
            continue
        d = near_duplicate_of(survivor, kept)
        if d is not None:
            out.append(("discard", f"near-duplicate of {d.duplicate_of!r} (character n-gram "
                                   f"cosine {d.similarity:.2f}); {reason}".strip("; "), revised))
            continue
        kept.append(survivor)
        out.append((decision, reason, revised))
    return out
