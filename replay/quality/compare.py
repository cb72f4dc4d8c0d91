"""Two runs side by side: what differs, and the settings that explain it (`benchagent compare`).

Pure folds of the two runs' projections: the request (requirement, seed, backbone,
ablations: the *why*), subtasks, groundings with their plan scores, quotas, the source items
both benchmarks drew on and those only one did, rejections by check, the judge's latest
table, and the accuracy of every model evaluated on both.
"""

from __future__ import annotations

from collections import Counter

import msgspec

from replay.projections import RunState
from replay.quality.judge_table import JudgeTable, judge_table
from store.events import GeneratedBy, SourceLabel
from store.quality import BenchmarkJudgement

SETTINGS = ("requirement", "size", "seed", "llm", "disabled", "pools", "role_models")


class SettingDiff(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    a: object
    b: object


class GroundingRow(msgspec.Struct, frozen=True, kw_only=True):
    subtask: str
    dataset_id: str
    plan_id: str
    alignment: float | None = None
    robustness: float | None = None
    signal_preservation: float | None = None
    quota: int = 0


class SourceOverlap(msgspec.Struct, frozen=True, kw_only=True):
    shared: int
    only_a: int
    only_b: int
    shared_examples: list[str] = []
    only_a_examples: list[str] = []
    only_b_examples: list[str] = []


class AccuracyPair(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    a: float | None
    b: float | None
    n_a: int = 0
    n_b: int = 0


class RunSide(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    accepted: int
    rejected: int
    llm_calls: int
    subtasks: list[str]
    groundings: list[GroundingRow]
    rejections: dict[str, int]
    judge: JudgeTable | None
    ablation: str = ""  # "variant of group" when the run is part of an ablation


class RunComparison(msgspec.Struct, frozen=True, kw_only=True):
    a: RunSide
    b: RunSide
    settings: list[SettingDiff]  # only the settings that differ
    subtasks_shared: list[str]
    subtasks_only_a: list[str]
    subtasks_only_b: list[str]
    sources: SourceOverlap
    accuracies: list[AccuracyPair]


def _source_key(source: SourceLabel | GeneratedBy) -> str:
    if isinstance(source, GeneratedBy):
        return f"generator:{source.name}@{source.version}#{source.seed}"
    return f"{source.dataset_id}#{source.item_id}"


def _published_sources(state: RunState) -> set[str]:
    pub = state.publication.payload
    ids = pub.sample_ids if pub is not None else []
    return {_source_key(state.samples.realized[s].payload.source) for s in ids
            if s in state.samples.realized}


def _side(state: RunState) -> RunSide:
    pub = state.publication.payload
    spec = state.slots.spec_payload
    quotas = {(q.subtask, q.dataset_id, q.plan_id): q.count for q in spec.quotas} if spec else {}
    plans = spec.plans if spec else []
    groundings = []
    for plan in plans:
        score = state.grounding.scores.get(plan.plan_id)
        groundings.append(GroundingRow(
            subtask=plan.subtask, dataset_id=plan.dataset_id, plan_id=plan.plan_id,
            alignment=score.alignment if score else None,
            robustness=score.robustness if score else None,
            signal_preservation=score.signal_preservation if score else None,
            quota=quotas.get((plan.subtask, plan.dataset_id, plan.plan_id), 0)))
    latest = state.judgements.latest
    table = None
    if latest is not None:
        items = [j.judgement() for j in state.judgements.latest_items().values()]
        if items:
            table = judge_table(BenchmarkJudgement(uia=latest.payload.uia,
                                                   judge=latest.payload.judge),
                                items, builder=latest.payload.builder)
    link = state.ablation.payload
    return RunSide(
        run_id=state.run_id, accepted=pub.accepted if pub else 0,
        rejected=pub.rejected if pub else 0, llm_calls=state.llm.calls,
        subtasks=[s.name for s in state.subtasks()], groundings=groundings,
        rejections=dict(sorted(Counter(e.payload.check
                                       for e in state.samples.rejected.values()).items())),
        judge=table, ablation=f"{link.variant} of {link.group}" if link else "")


def _accuracies(a: RunState, b: RunState) -> list[AccuracyPair]:
    def latest(state: RunState) -> dict[str, tuple[float, int]]:
        return {s.model: (s.accuracy, s.n) for s in state.evaluations.scores}

    la, lb = latest(a), latest(b)
    return [AccuracyPair(model=m, a=la[m][0] if m in la else None,
                         b=lb[m][0] if m in lb else None,
                         n_a=la[m][1] if m in la else 0, n_b=lb[m][1] if m in lb else 0)
            for m in sorted(la.keys() | lb.keys())]


def compare_runs(a: RunState, b: RunState, *, examples: int = 3) -> RunComparison:
    ra, rb = a.request.payload, b.request.payload
    settings = [SettingDiff(name=n, a=getattr(ra, n), b=getattr(rb, n)) for n in SETTINGS
                if getattr(ra, n) != getattr(rb, n)]
    sa, sb = _side(a), _side(b)
    src_a, src_b = _published_sources(a), _published_sources(b)
    return RunComparison(
        a=sa, b=sb, settings=settings,
        subtasks_shared=[s for s in sa.subtasks if s in sb.subtasks],
        subtasks_only_a=[s for s in sa.subtasks if s not in sb.subtasks],
        subtasks_only_b=[s for s in sb.subtasks if s not in sa.subtasks],
        sources=SourceOverlap(shared=len(src_a & src_b), only_a=len(src_a - src_b),
                              only_b=len(src_b - src_a),
                              shared_examples=sorted(src_a & src_b)[:examples],
                              only_a_examples=sorted(src_a - src_b)[:examples],
                              only_b_examples=sorted(src_b - src_a)[:examples]),
        accuracies=_accuracies(a, b))
