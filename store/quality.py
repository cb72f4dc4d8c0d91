"""Value types of the quality loop: a judge's scores and a person's marks.

The judge events (`ItemJudged`, `BenchmarkJudged`) and `HumanReviewed` (store/events.py) carry these, so
they live with the domain language and both `agents/` (which produces them) and `replay/`
(which reports them) can use them without depending on each other.

Scores are the paper's 1-5 scale (Benchmark Agent, App. A.2): 1 = severe quality issues,
5 = high quality. Each judge score comes with the reason the judge wrote *before* it.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Score = Annotated[int, msgspec.Meta(ge=1, le=5)]

BenchmarkMetric = Literal["uia"]
ItemMetric = Literal["fsq", "qac", "cqc", "tsd", "ssc"]
Metric = Literal["uia", "fsq", "qac", "cqc", "tsd", "ssc"]
ITEM_METRICS: tuple[ItemMetric, ...] = ("fsq", "qac", "cqc", "tsd", "ssc")
METRICS: tuple[Metric, ...] = ("uia", *ITEM_METRICS)

Criterion = Literal["correct", "clear", "answerable", "relevant"]
CRITERIA: tuple[Criterion, ...] = ("correct", "clear", "answerable", "relevant")


class MetricScore(msgspec.Struct, frozen=True, kw_only=True):
    """One metric's score (1-5) and the reason given before it."""

    reason: str
    score: Score


class ItemScores(msgspec.Struct, frozen=True, kw_only=True):
    fsq: MetricScore  # Format & Schema Quality
    qac: MetricScore  # Question-Answer Coherence
    cqc: MetricScore  # Context-Question Correspondence
    tsd: MetricScore  # Target Signal Dependency
    ssc: MetricScore  # Skill-Specific Challenge

    def get(self, metric: ItemMetric) -> MetricScore:
        value: MetricScore = getattr(self, metric)
        return value


class ItemJudgement(msgspec.Struct, frozen=True, kw_only=True):
    """The judge's view of one benchmark item."""

    sample_id: str
    scores: ItemScores
    judge: str  # model spec as displayed (never a URL with credentials)
    # Media the judge was told it could not see (not vision-capable, or audio): the report
    # says so, because its CQC/TSD scores then rest on the text alone.
    unseen_media: list[str] = []


class BenchmarkJudgement(msgspec.Struct, frozen=True, kw_only=True):
    """The judge's view of the whole benchmark: User-Intention Alignment."""

    uia: MetricScore
    judge: str
    items_shown: list[str] = []  # sample ids of the items the judge was shown as examples


class HumanMarks(msgspec.Struct, frozen=True, kw_only=True):
    """A person's marks for one item, 1-5 on each of the paper's four criteria."""

    correct: Score
    clear: Score
    answerable: Score
    relevant: Score

    def get(self, criterion: Criterion) -> int:
        value: int = getattr(self, criterion)
        return value


class HumanReview(msgspec.Struct, frozen=True, kw_only=True):
    sample_id: str
    marks: HumanMarks
    comment: str = ""


class RubricVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """A judge's verdict on one criterion of an answer's rubric (BenchAgents' E-Agent)."""

    criterion: str  # the criterion's id in its rubric (e.g. "correct", or a constraint id)
    text: str  # the criterion as the judge read it
    reason: str  # written before the verdict
    satisfied: bool


class JudgedAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """An open-ended answer scored by a judge against the item's rubric."""

    judge: str  # model spec as displayed
    verdicts: list[RubricVerdict]
    score: float  # 0-1: the share of criteria satisfied (with a generator's own checks)
