"""The quality report as data: what `report.render_report` shows, and how it is computed.

`ReportInputs` is what a run's log holds (items, verdicts, judgements, reviews, model
scores); `summarise` turns it into a `QualityReport`, computing every statistic with
`replay.quality.stats` and the judge table with `replay.quality.judge_table`. Both are pure:
the same inputs give the same report (the bootstrap is seeded).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec

from replay.quality import stats
from replay.quality.judge_table import JudgeTable, judge_table
from store.events import BenchmarkItem, Subtask
from store.quality import BenchmarkJudgement, HumanReview, ItemJudgement

ALL = "all"  # the scope name of whole-benchmark figures
ItemStatus = Literal["accepted", "rejected"]


class SourceSummary(msgspec.Struct, frozen=True, kw_only=True):
    dataset_id: str  # or "generator:<name>"
    name: str = ""
    subtasks: list[str] = []
    items: int = 0  # accepted items drawn from it


class ModelAnswer(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    answer: str
    score: float  # 0-1
    scorer: str = ""


class ReportItem(msgspec.Struct, frozen=True, kw_only=True):
    sample_id: str
    item: BenchmarkItem
    status: ItemStatus = "accepted"
    rejected_by: str = ""  # the failed check, for a rejected item
    rejection_reason: str = ""
    source: str = ""  # dataset id or generator
    judgement: ItemJudgement | None = None
    review: HumanReview | None = None
    answers: list[ModelAnswer] = []

    @property
    def complexity(self) -> float | None:
        """A generated item's complexity (BenchAgents' task-specific metric), if it has one."""
        value = self.item.metadata.get("complexity")
        if "generator" not in self.item.metadata or isinstance(value, bool):
            return None
        return float(value) if isinstance(value, int | float) else None


class ReportInputs(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    requirement: str
    builder: str  # the backbone that built the benchmark
    subtasks: list[Subtask]
    items: list[ReportItem]  # accepted and (optionally) rejected
    media: dict[str, bytes] = {}  # name → bytes, for the items' media
    sources: list[SourceSummary] = []
    rejections: dict[str, int] = {}  # check → rejected samples (all attempts, not only shown)
    benchmark_judgement: BenchmarkJudgement | None = None
    expected_order: list[str] = []  # models, weakest first (--expect-order)
    seed: int = 0  # of the bootstrap
    notes: list[str] = []


class ScopedAccuracy(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    scope: str  # a subtask name, or ALL
    accuracy: stats.Interval


class ComplexityCurve(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    bins: list[stats.ComplexityBin]


class Consistency(msgspec.Struct, frozen=True, kw_only=True):
    scope: str  # a subtask name, or ALL
    order: stats.OrderConsistency
    separations: list[stats.Separation]


class RejectionCount(msgspec.Struct, frozen=True, kw_only=True):
    check: str
    count: int
    example: str = ""  # one shown item's reason


class QualityReport(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    requirement: str
    builder: str
    subtasks: list[Subtask]
    sources: list[SourceSummary]
    items: list[ReportItem]
    media: dict[str, bytes]
    accepted: int
    rejected: int
    rejections: list[RejectionCount]
    benchmark_judgement: BenchmarkJudgement | None
    judge: JudgeTable | None
    human: stats.HumanAgreement | None
    models: list[str]
    accuracies: list[ScopedAccuracy]
    complexity: list[ComplexityCurve]
    consistency: list[Consistency]
    notes: list[str] = []


def summarise(inputs: ReportInputs) -> QualityReport:
    accepted = [it for it in inputs.items if it.status == "accepted"]
    rejected = [it for it in inputs.items if it.status == "rejected"]
    counts = Counter(inputs.rejections) if inputs.rejections else Counter(
        it.rejected_by for it in rejected)
    examples = {it.rejected_by: it.rejection_reason for it in reversed(rejected)}
    rejections = [RejectionCount(check=c, count=n, example=examples.get(c, ""))
                  for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    judgements = {it.sample_id: it.judgement for it in accepted if it.judgement is not None}
    table = None
    if inputs.benchmark_judgement is not None and judgements:
        table = judge_table(inputs.benchmark_judgement, list(judgements.values()),
                            builder=inputs.builder)
    reviews = [it.review for it in accepted if it.review is not None]
    human = stats.human_agreement(reviews, judgements, seed=inputs.seed) if reviews else None

    models = _models(accepted, inputs.expected_order)
    scopes = [ALL, *[s.name for s in inputs.subtasks]]
    scores = _scores_by_scope(accepted, scopes)
    accuracies = [
        ScopedAccuracy(model=m, scope=scope,
                       accuracy=stats.accuracy_interval(list(scores[scope][m].values()),
                                                        seed=inputs.seed))
        for scope in scopes for m in models if scores[scope].get(m)
    ]
    consistency: list[Consistency] = []
    if len(inputs.expected_order) >= 2:
        for scope in scopes:
            by_model = scores[scope]
            if not all(by_model.get(m) for m in inputs.expected_order):
                continue
            means = {m: sum(v.values()) / len(v) for m, v in by_model.items()}
            consistency.append(Consistency(
                scope=scope, order=stats.order_consistency(inputs.expected_order, means),
                separations=stats.adjacent_separability(inputs.expected_order, by_model,
                                                        seed=inputs.seed)))
    complexity = [
        ComplexityCurve(model=m, bins=stats.accuracy_by_complexity(
            [c for c, _ in pts], [s for _, s in pts]))
        for m in models
        if (pts := [(c, a.score) for it in accepted if (c := it.complexity) is not None
                    for a in it.answers if a.model == m])
    ]
    return QualityReport(
        run_id=inputs.run_id, requirement=inputs.requirement, builder=inputs.builder,
        subtasks=list(inputs.subtasks), sources=list(inputs.sources), items=list(inputs.items),
        media=dict(inputs.media), accepted=len(accepted),
        rejected=sum(counts.values()) if counts else len(rejected), rejections=rejections,
        benchmark_judgement=inputs.benchmark_judgement, judge=table, human=human,
        models=models, accuracies=accuracies, complexity=complexity, consistency=consistency,
        notes=list(inputs.notes),
    )


def _models(items: Sequence[ReportItem], expected: Sequence[str]) -> list[str]:
    seen = {a.model for it in items for a in it.answers}
    return [m for m in expected if m in seen] + sorted(seen - set(expected))


def _scores_by_scope(
    items: Sequence[ReportItem], scopes: Sequence[str],
) -> dict[str, dict[str, dict[str, float]]]:
    """scope → model → sample id → score."""
    out: dict[str, dict[str, dict[str, float]]] = {s: {} for s in scopes}
    for it in items:
        for a in it.answers:
            out[ALL].setdefault(a.model, {})[it.sample_id] = a.score
            if it.item.subtask in out:
                out[it.item.subtask].setdefault(a.model, {})[it.sample_id] = a.score
    return out


def accuracy_lookup(report: QualityReport) -> Mapping[tuple[str, str], stats.Interval]:
    """(model, scope) → interval, for templates and tests."""
    return {(a.model, a.scope): a.accuracy for a in report.accuracies}
