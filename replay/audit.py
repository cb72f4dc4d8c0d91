"""Why each sample ended as it did: fates (`replay.projections.SampleFates`) and causal
chains, from the log alone.

A sample's chain joins three threads of the log, ordered by seq:
- the causal ancestors (following `causation_id`) of every event about the sample,
  which leads back through the plan and the spec to the requirement;
- every event that names the sample (slot, planning, tools, realization, checks, verdict);
- the planning context of its subtask and plan (design review, search, plan scoring),
  and the LLM calls made on behalf of any of those events.
"""

from __future__ import annotations

from collections import Counter

import msgspec

from replay.projections import HumanReviews, Judgements, SampleFate, SampleFates
from replay.timeline import summarize, timestamp
from store import events as ev
from store.events import EventEnvelope
from store.quality import ITEM_METRICS, MetricScore

__all__ = ["AuditStep", "SampleFate", "SampleQuality", "rejection_counts", "sample_chain",
           "sample_fates", "sample_quality"]


class AuditStep(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    time: str
    agent: str
    type: str
    event_id: str
    causation_id: str | None
    summary: str
    reason: str = ""


def sample_fates(events: list[EventEnvelope]) -> list[SampleFate]:
    """Every sample slot attempt with its fate, sorted by sample id."""
    return SampleFates.of(events).fates()


def rejection_counts(fates: list[SampleFate]) -> dict[str, int]:
    """Rejections counted by `check: reason`."""
    counts = Counter(f"{f.check}: {f.reason}" for f in fates if f.fate == "rejected")
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _names_sample(p: ev.Payload, sample_id: str) -> bool:
    if getattr(p, "sample_id", None) == sample_id:
        return True
    if isinstance(p, ev.ReplenishRequested) and p.replaces == sample_id:
        return True
    return False


def sample_chain(events: list[EventEnvelope], sample_id: str) -> list[AuditStep]:
    """The causal chain of one sample, from the requirement to its verdict."""
    by_id = {e.event_id: e for e in events}
    about = [e for e in events if _names_sample(e.payload, sample_id)]
    if not about:
        raise KeyError(sample_id)
    chosen: dict[str, EventEnvelope] = {}

    def add_with_ancestors(start: EventEnvelope) -> None:
        env: EventEnvelope | None = start
        while env is not None and env.event_id not in chosen:
            chosen[env.event_id] = env
            env = by_id.get(env.causation_id) if env.causation_id else None

    for env in about:
        add_with_ancestors(env)

    # The planning context: the subtask's design decisions and its plan's scoring.
    slot = next((e.payload for e in about if isinstance(e.payload, ev.SlotAssigned)), None)
    if slot is not None:
        for env in events:
            p = env.payload
            if (
                (isinstance(p, ev.SubtaskReviewed) and p.name == slot.subtask)
                or (isinstance(p, ev.DatasetPreferencesSet | ev.DatasetsSearched) and p.subtask == slot.subtask)
                or (isinstance(p, ev.PlanProposed) and p.plan.plan_id == slot.plan_id)
                or (isinstance(p, ev.PlanScored) and p.plan_id == slot.plan_id)
                or (isinstance(p, ev.GroundingFailed) and p.subtask == slot.subtask)
            ):
                add_with_ancestors(env)

    # LLM calls made while handling any chosen event.
    for env in events:
        if isinstance(env.payload, ev.LLMCallRecorded) and env.causation_id in chosen:
            cause = chosen[env.causation_id].payload
            # A call caused by one of this sample's own events is about it, whatever its
            # prompt says (a blind solve is shown the item, not its id).
            if (getattr(cause, "sample_id", None) == sample_id
                    or _llm_call_concerns(env.payload, sample_id, slot)):
                chosen[env.event_id] = env

    return [_step(e) for e in sorted(chosen.values(), key=lambda e: e.seq)]


def _llm_call_concerns(p: ev.LLMCallRecorded, sample_id: str, slot: ev.SlotAssigned | None) -> bool:
    """An LLM call caused by a shared event (e.g. the spec) counts only if it is about this sample."""
    text = msgspec.json.encode(p.messages).decode()
    if sample_id in text or sample_id in p.purpose:
        return True
    return slot is not None and p.role in ("design", "grounding") and slot.subtask in text


def _step(env: EventEnvelope) -> AuditStep:
    reason = getattr(env.payload, "reason", "") or ""
    if isinstance(env.payload, ev.SlotAssigned) and env.payload.moved_from is not None:
        reason = env.payload.moved_from.reason
    return AuditStep(
        seq=env.seq,
        time=timestamp(env),
        agent=env.agent,
        type=env.type,
        event_id=env.event_id,
        causation_id=env.causation_id,
        summary=summarize(env),
        reason=reason if isinstance(reason, str) else "",
    )


class JudgementView(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    judge: str
    self_judged: bool
    scores: dict[str, MetricScore]  # metric -> score and the reason given before it
    unseen_media: list[str] = []


class ReviewView(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    marks: dict[str, int]
    comment: str = ""


class SampleQuality(msgspec.Struct, frozen=True, kw_only=True):
    """What the quality loop says of one sample: every judgement, the latest review."""

    judgements: list[JudgementView] = []
    review: ReviewView | None = None


def sample_quality(events: list[EventEnvelope], sample_id: str) -> SampleQuality:
    """The judge's scores (with reasons) of one sample, and a person's latest marks."""
    judged = Judgements.of(events).of_sample(sample_id)
    review = HumanReviews.of(events).latest.get(sample_id)
    return SampleQuality(
        judgements=[JudgementView(seq=env.seq, judge=env.payload.judge,
                                  self_judged=env.payload.self_judged,
                                  scores={m: env.payload.scores.get(m) for m in ITEM_METRICS},
                                  unseen_media=list(env.payload.unseen_media))
                    for env in judged],
        review=(ReviewView(seq=review.seq, marks=msgspec.structs.asdict(review.payload.marks),
                           comment=review.payload.comment) if review else None))
