"""Judge scores on the paper's 0-100 scale, and its Overall (Benchmark Agent, Table 1).

Each metric is reported as the mean over items of (score − 1) / 4 · 100, so 1 ↦ 0 and
5 ↦ 100. The paper does not state how Overall is computed. Fitted by least squares on every
row of its Tables 1-4 (40 rows), Overall is a fixed weighted mean of the six metrics:

    Overall = 0.30·UIA + 0.084·FSQ + 0.112·QAC + 0.196·CQC + 0.182·TSD + 0.126·SSC

i.e. 30 % benchmark-level and 70 % item-level, the item part weighting FSQ:QAC:CQC:TSD:SSC as
6:8:14:13:9 (grounding and signal dependency most). The weights sum to 1, so the same formula
holds on the 1-5 scale. It reproduces every row to within 0.0072 points (the tables round
to 0.01); the unweighted mean of the six misses by up to 8.9 points
(tests/quality/test_judge_table.py checks both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from store.quality import ITEM_METRICS, METRICS, BenchmarkJudgement, ItemJudgement, Metric

OVERALL_WEIGHTS: dict[Metric, float] = {
    "uia": 0.30, "fsq": 0.084, "qac": 0.112, "cqc": 0.196, "tsd": 0.182, "ssc": 0.126,
}


class JudgeTable(msgspec.Struct, frozen=True, kw_only=True):
    """One row of Table 1/4: the six metrics and Overall on 0-100, with what they rest on."""

    uia: float
    fsq: float
    qac: float
    cqc: float
    tsd: float
    ssc: float
    overall: float
    items: int  # items judged
    items_with_unseen_media: int  # items whose media the judge could not see
    judge: str
    builder: str
    self_judged: bool  # the judge is the backbone that built the benchmark

    def row(self) -> dict[str, float]:
        return {m: getattr(self, m) for m in (*METRICS, "overall")}


def percent(score: float) -> float:
    """A 1-5 score on the paper's 0-100 scale."""
    return (score - 1.0) / 4.0 * 100.0


def overall(scores: Mapping[Metric, float]) -> float:
    """The paper's Overall from the six metrics (any scale the metrics share)."""
    missing = [m for m in METRICS if m not in scores]
    if missing:
        raise ValueError(f"overall needs every metric; missing: {', '.join(missing)}")
    return sum(OVERALL_WEIGHTS[m] * scores[m] for m in METRICS)


def judge_table(
    benchmark: BenchmarkJudgement, items: Sequence[ItemJudgement], *, builder: str,
) -> JudgeTable:
    """The Table 1 row of a judged benchmark (item metrics are means over `items`)."""
    if not items:
        raise ValueError("no judged items: the item metrics need at least one")
    row: dict[Metric, float] = {"uia": percent(benchmark.uia.score)}
    for m in ITEM_METRICS:
        row[m] = sum(percent(j.scores.get(m).score) for j in items) / len(items)
    return JudgeTable(
        **{m: round(v, 2) for m, v in row.items()},
        overall=round(overall(row), 2),
        items=len(items),
        items_with_unseen_media=sum(1 for j in items if j.unseen_media),
        judge=benchmark.judge,
        builder=builder,
        self_judged=benchmark.judge == builder,
    )
