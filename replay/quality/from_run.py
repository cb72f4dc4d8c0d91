"""A run's quality report from its projections: `ReportInputs` out of a `RunState`, and the
`quality.json` summary written beside a benchmark folder.

Everything comes from the log: the published items and the rejected ones (with the check
that rejected them), the judge's latest request (`ItemJudged`, `BenchmarkJudged`), people's
latest marks (`HumanReviewed`), every model's latest answers (`ModelAnswered`) and the
latest expected order (`EvaluationRequested.expected_order`). Media bytes are read through
`replay.quality.run_media` only. Pure: the same log gives the same report, byte for byte.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import msgspec

from replay.projections import RunState
from replay.quality import stats
from replay.quality.judge_table import JudgeTable
from replay.quality.report_model import (
    ComplexityCurve,
    Consistency,
    ModelAnswer,
    QualityReport,
    RejectionCount,
    ReportInputs,
    ReportItem,
    ScopedAccuracy,
    SourceSummary,
)
from store.events import GeneratedBy, SampleRealized, Subtask
from store.quality import BenchmarkJudgement, HumanReview, ItemScores

_json = msgspec.json.Encoder(order="deterministic")


class UnpublishedRun(ValueError):
    """The run has no published benchmark to report on."""


def source_of(sample: SampleRealized) -> str:
    """The item's source as the report names it: a dataset id, or `generator:<name>`."""
    src = sample.source
    return f"generator:{src.name}" if isinstance(src, GeneratedBy) else src.dataset_id


def report_inputs(state: RunState, *, models: Sequence[str] | None = None,
                  expected_order: Sequence[str] | None = None, seed: int = 0,
                  with_rejected: bool = True,
                  media: Mapping[str, bytes] | None = None) -> ReportInputs:
    """What the report shows of the run. `models`: the evaluated models to include (default
    every one); `expected_order`: weakest first (default the latest recorded one); `media`:
    the bytes of the run's media (`run_media.items_media`; None: figures that need none)."""
    pub = state.publication.payload
    if pub is None:
        raise UnpublishedRun(f"run {state.run_id} has not published a benchmark yet")
    request = state.request.payload
    judged = state.judgements.latest_items()
    answers = state.evaluations.answers
    wanted = list(models) if models is not None else sorted(answers)
    items: list[ReportItem] = []
    for sid in sorted(pub.sample_ids):
        sample = state.samples.realized[sid].payload
        review = state.reviews.latest.get(sid)
        items.append(ReportItem(
            sample_id=sid, item=sample.item, source=source_of(sample),
            judgement=judged[sid].judgement() if sid in judged else None,
            review=(HumanReview(sample_id=sid, marks=review.payload.marks,
                                comment=review.payload.comment) if review else None),
            answers=[ModelAnswer(model=m, answer=a.answer, score=a.score, scorer=a.scorer)
                     for m in wanted if (a := answers.get(m, {}).get(sid)) is not None]))
    published = set(pub.sample_ids)
    rejected = {sid: env.payload for sid, env in state.samples.rejected.items()
                if sid not in published}
    if with_rejected:
        for sid, verdict in sorted(rejected.items()):
            realized = state.samples.realized.get(sid)
            if realized is None:
                continue  # rejected before an item existed: counted, not shown
            items.append(ReportItem(
                sample_id=sid, item=realized.payload.item, status="rejected",
                rejected_by=verdict.check, rejection_reason=verdict.reason,
                source=source_of(realized.payload)))
    shown = {m: media[m] for it in items for m in it.item.media if media and m in media}
    order = list(expected_order) if expected_order is not None else [
        m for m in state.evaluations.expected_order if m in set(wanted)]
    latest = state.judgements.latest
    notes = []
    if latest is not None and latest.payload.unjudged:
        notes.append(f"The judge gave no usable answer for {len(latest.payload.unjudged)} "
                     f"item(s): {', '.join(sorted(latest.payload.unjudged)[:5])}.")
    return ReportInputs(
        run_id=state.run_id, requirement=request.requirement, builder=request.llm,
        subtasks=state.subtasks(), items=items, media=shown,
        sources=_sources(state, items),
        rejections=dict(Counter(v.check for v in rejected.values())),
        benchmark_judgement=(BenchmarkJudgement(uia=latest.payload.uia,
                                                judge=latest.payload.judge,
                                                items_shown=list(latest.payload.items_shown))
                             if latest is not None else None),
        expected_order=order if len(order) >= 2 else [], seed=seed, notes=notes)


def _sources(state: RunState, items: Sequence[ReportItem]) -> list[SourceSummary]:
    subtasks: dict[str, set[str]] = {}
    counts: Counter[str] = Counter()
    for it in items:
        subtasks.setdefault(it.source, set()).add(it.item.subtask)
        counts[it.source] += it.status == "accepted"
    names = state.grounding.dataset_names
    return [SourceSummary(dataset_id=src,
                          name=(f"{src.split(':', 1)[1]} generator"
                                if src.startswith("generator:") else names.get(src, "")),
                          subtasks=sorted(subtasks[src]), items=counts[src])
            for src in sorted(subtasks)]


# ---------------------------------------------------------------- quality.json


class ItemSummary(msgspec.Struct, frozen=True, kw_only=True):
    sample_id: str
    subtask: str
    status: str
    source: str
    rejected_by: str = ""
    judge_scores: ItemScores | None = None
    unseen_media: list[str] = []
    human_marks: dict[str, int] | None = None
    model_scores: dict[str, float] = {}


class QualitySummary(msgspec.Struct, frozen=True, kw_only=True):
    """`quality.json`: the report's figures without the items' text and media."""

    run_id: str
    requirement: str
    builder: str
    subtasks: list[Subtask]
    sources: list[SourceSummary]
    accepted: int
    rejected: int
    rejections: list[RejectionCount]
    judge: JudgeTable | None
    benchmark_judgement: BenchmarkJudgement | None
    human: stats.HumanAgreement | None
    models: list[str]
    accuracies: list[ScopedAccuracy]
    consistency: list[Consistency]
    complexity: list[ComplexityCurve]
    items: list[ItemSummary]
    notes: list[str] = []


def quality_summary(report: QualityReport) -> QualitySummary:
    return QualitySummary(
        run_id=report.run_id, requirement=report.requirement, builder=report.builder,
        subtasks=report.subtasks, sources=report.sources, accepted=report.accepted,
        rejected=report.rejected, rejections=report.rejections, judge=report.judge,
        benchmark_judgement=report.benchmark_judgement, human=report.human,
        models=report.models, accuracies=report.accuracies, consistency=report.consistency,
        complexity=report.complexity, notes=report.notes,
        items=[ItemSummary(
            sample_id=it.sample_id, subtask=it.item.subtask, status=it.status,
            source=it.source, rejected_by=it.rejected_by,
            judge_scores=it.judgement.scores if it.judgement else None,
            unseen_media=list(it.judgement.unseen_media) if it.judgement else [],
            human_marks=(msgspec.structs.asdict(it.review.marks) if it.review else None),
            model_scores={a.model: a.score for a in it.answers})
            for it in report.items])


def quality_json(report: QualityReport) -> bytes:
    """The summary as canonical JSON (sorted keys), newline-terminated."""
    return _json.encode(quality_summary(report)) + b"\n"


def has_quality_data(state: RunState) -> bool:
    """Whether the run holds anything the quality report is about (judge or human marks)."""
    return state.judgements.latest is not None or bool(state.reviews.latest)


__all__ = ["QualitySummary", "UnpublishedRun", "has_quality_data", "quality_json",
           "quality_summary", "report_inputs", "source_of"]
