"""Statistics of the quality loop: accuracy intervals, order consistency, separability,
agreement between people and the judge, accuracy against complexity.

Choices (each one a documented default, not a hidden constant):

- **Accuracy interval**: a percentile bootstrap of the mean item score (`scipy.stats.bootstrap`,
  seeded, so a report is reproducible). Percentile, not BCa: BCa is undefined when every item
  has the same score, which small benchmarks often do.
- **Too few items**: below `MIN_ITEMS` items, or when the interval is wider than
  `MAX_WIDTH`, the result carries a warning to print next to the number. A bootstrap of five
  items that all passed gives the interval [1, 1]; that is false precision, and the warning
  says so.
- **Order consistency**: Kendall's τ-b (`scipy.stats.kendalltau`) between the expected order
  (weakest first) and the observed accuracies, with the exact one-sided p-value for "larger
  models score higher". With three models no τ is significant at 5 % (the smallest one-sided p
  is 1/3! ≈ 0.17); the warning says that too.
- **Separability of adjacent models**: a paired bootstrap of the difference in mean score over
  the items both models answered. Paired, because both answer the same items: the item
  difficulty they share cancels, so it separates models that non-overlapping per-model
  intervals would call tied. Separable when the interval of the difference excludes 0.
- **Human acceptance (the paper's Acc.)**: an item is accepted when every criterion (correct,
  clear, answerable, relevant) is marked at least `ACCEPT_AT` (3, the middle of the 1-5 scale).
- **Agreement with the judge (Cohen's κ, `sklearn.metrics.cohen_kappa_score`)**: on acceptance
  (the judge accepts when the four metrics that answer the same questions as the human
  criteria are all ≥ 3: correct ↔ QAC, clear ↔ FSQ, answerable ↔ CQC, relevant ↔ TSD) and per
  criterion on the 1-5 scale with quadratic weights (a 4 against a 5 is a near miss, a 1
  against a 5 is not). κ is undefined (None) when both raters give one single value
  throughout (chance agreement is then 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import msgspec
import numpy as np
from numpy.typing import NDArray
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from store.quality import (
    CRITERIA,
    Criterion,
    HumanMarks,
    HumanReview,
    ItemJudgement,
    ItemMetric,
    ItemScores,
)

CONFIDENCE = 0.95
RESAMPLES = 9999
BATCH = 2000  # resamples per vectorised call
MIN_ITEMS = 30
MAX_WIDTH = 0.20  # an interval wider than this (in accuracy, 0-1) cannot rank close models
ACCEPT_AT = 3
JUDGE_METRIC_OF: dict[Criterion, ItemMetric] = {
    "correct": "qac", "clear": "fsq", "answerable": "cqc", "relevant": "tsd",
}


class Interval(msgspec.Struct, frozen=True, kw_only=True):
    """A mean (e.g. accuracy, 0-1) with its bootstrap interval and what it rests on."""

    estimate: float
    low: float
    high: float
    n: int
    confidence: float = CONFIDENCE
    warning: str | None = None


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _percentile_bootstrap(
    data: tuple[NDArray[np.float64], ...], statistic: object, *, paired: bool, seed: int,
    confidence: float, n_resamples: int,
) -> tuple[float, float]:
    if all(np.ptp(d) == 0 for d in data) and not paired:
        value = float(data[0][0])  # every resample is the same: skip scipy's degeneracy warning
        return value, value
    # `batch` bounds memory at BATCH × n values (all 9999 resamples of 1,000 items at once
    # would be 80 MB per array).
    res = stats.bootstrap(data, statistic, paired=paired, vectorized=True,
                          n_resamples=n_resamples, batch=BATCH, confidence_level=confidence,
                          method="percentile", rng=_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def _mean(x: NDArray[np.float64], axis: int = -1) -> NDArray[np.float64]:
    return np.mean(x, axis=axis)


def _mean_difference(a: NDArray[np.float64], b: NDArray[np.float64],
                     axis: int = -1) -> NDArray[np.float64]:
    return np.mean(b - a, axis=axis)


def accuracy_interval(
    scores: Sequence[float], *, confidence: float = CONFIDENCE, seed: int = 0,
    n_resamples: int = RESAMPLES,
) -> Interval:
    """Mean of per-item scores (0-1) with a percentile-bootstrap interval; seeded."""
    data = np.asarray(scores, dtype=np.float64)
    if data.size == 0:
        raise ValueError("accuracy of no items")
    low, high = _percentile_bootstrap((data,), _mean, paired=False, seed=seed,
                                      confidence=confidence, n_resamples=n_resamples)
    estimate = float(data.mean())
    return Interval(estimate=estimate, low=low, high=high, n=int(data.size),
                    confidence=confidence, warning=small_sample_warning(data.size, low, high))


def small_sample_warning(n: int, low: float, high: float) -> str | None:
    """What to print next to an interval that should not be read as precise, or None."""
    if n < MIN_ITEMS:
        return (f"only {n} items: the interval is not reliable below {MIN_ITEMS}; "
                f"read this accuracy as indicative")
    if high - low > MAX_WIDTH:
        return (f"the interval spans {100 * (high - low):.0f} points: differences smaller "
                f"than that are not meaningful")
    return None


class OrderConsistency(msgspec.Struct, frozen=True, kw_only=True):
    """Kendall's τ between the expected order (weakest first) and the observed accuracies."""

    expected: list[str]
    observed: list[str]  # the models by observed accuracy, lowest first (ties: expected order)
    tau: float | None  # None when every model has the same accuracy
    p_value: float | None  # exact, one-sided: larger models score higher
    warning: str | None = None


def order_consistency(expected: Sequence[str], accuracy: Mapping[str, float]) -> OrderConsistency:
    """τ-b between the expected ranks and the observed accuracies of `expected`'s models."""
    if len(expected) < 2 or len(set(expected)) != len(expected):
        raise ValueError("an expected order needs at least two distinct models")
    missing = [m for m in expected if m not in accuracy]
    if missing:
        raise ValueError(f"no accuracy for: {', '.join(missing)}")
    values = [accuracy[m] for m in expected]
    observed = [m for _, m in sorted(zip(values, range(len(expected)), strict=True))]
    observed_names = [expected[i] for i in observed]
    if len(set(values)) == 1:
        return OrderConsistency(expected=list(expected), observed=observed_names, tau=None,
                                p_value=None, warning="every model has the same accuracy")
    method = "exact" if len(set(values)) == len(values) else "auto"  # exact needs no ties
    res = stats.kendalltau(range(len(values)), values, alternative="greater", method=method)
    tau, p = float(res.statistic), float(res.pvalue)
    warning = None
    if p > 1 - CONFIDENCE:
        warning = (f"τ = {tau:.2f} is not significant at {100 * (1 - CONFIDENCE):.0f}% "
                   f"(p = {p:.2f} with {len(values)} models")
        if len(values) <= 3:
            warning += f"; with {len(values)} models no order can be"
        warning += ")"
    return OrderConsistency(expected=list(expected), observed=observed_names, tau=tau,
                            p_value=p, warning=warning)


Direction = Literal["as_expected", "reversed", "inseparable"]


class Separation(msgspec.Struct, frozen=True, kw_only=True):
    """Adjacent models in the expected order: higher − lower in mean score, paired."""

    lower: str  # expected to score lower
    higher: str
    difference: float
    low: float
    high: float
    n: int  # items both answered
    direction: Direction
    warning: str | None = None


def adjacent_separability(
    expected: Sequence[str], item_scores: Mapping[str, Mapping[str, float]], *,
    confidence: float = CONFIDENCE, seed: int = 0, n_resamples: int = RESAMPLES,
) -> list[Separation]:
    """For each adjacent pair of `expected` (weakest first): the paired-bootstrap interval of
    the difference in mean score over the items both answered (`item_scores`: model → sample
    id → score), and whether it excludes 0."""
    out: list[Separation] = []
    for lower, higher in zip(expected, expected[1:], strict=False):
        for m in (lower, higher):
            if m not in item_scores:
                raise ValueError(f"no item scores for {m}")
        shared = sorted(item_scores[lower].keys() & item_scores[higher].keys())
        if not shared:
            raise ValueError(f"{lower} and {higher} answered no item in common")
        a = np.array([item_scores[lower][s] for s in shared], dtype=np.float64)
        b = np.array([item_scores[higher][s] for s in shared], dtype=np.float64)
        diff = float(np.mean(b - a))
        if np.ptp(b - a) == 0:  # identical differences everywhere: no spread to resample
            low = high = diff
        else:
            low, high = _percentile_bootstrap((a, b), _mean_difference, paired=True, seed=seed,
                                              confidence=confidence, n_resamples=n_resamples)
        direction: Direction = ("as_expected" if low > 0 else "reversed" if high < 0
                                else "inseparable")
        warning = small_sample_warning(len(shared), low, high) if len(shared) < MIN_ITEMS else None
        out.append(Separation(lower=lower, higher=higher, difference=diff, low=low, high=high,
                              n=len(shared), direction=direction, warning=warning))
    return out


def cohen_kappa(
    a: Sequence[int], b: Sequence[int], *, weights: Literal["linear", "quadratic"] | None = None,
    labels: Sequence[int] | None = None,
) -> float | None:
    """Cohen's κ of two raters' labels; None when it is undefined (chance agreement 1)."""
    if len(a) != len(b) or not a:
        raise ValueError("κ needs two equally long, non-empty lists of labels")
    if len(set(a) | set(b)) == 1:
        return None
    value = float(cohen_kappa_score(list(a), list(b), weights=weights,
                                    labels=list(labels) if labels is not None else None))
    return None if math.isnan(value) else value


def human_accepts(marks: HumanMarks) -> bool:
    return all(marks.get(c) >= ACCEPT_AT for c in CRITERIA)


def judge_accepts(scores: ItemScores) -> bool:
    return all(scores.get(JUDGE_METRIC_OF[c]).score >= ACCEPT_AT for c in CRITERIA)


class HumanAgreement(msgspec.Struct, frozen=True, kw_only=True):
    """People's marks summarised, and how far the judge agrees with them."""

    reviewed: int
    acceptance: Interval  # the paper's Acc., as a rate 0-1 with its bootstrap interval
    mean_marks: dict[str, float]  # criterion → mean on 0-100 ((mark − 1) / 4 · 100)
    judged_and_reviewed: int
    kappa_acceptance: float | None  # binarised: accepted by both rules or not
    kappa_by_criterion: dict[str, float | None]  # 1-5 scale, quadratic weights
    warning: str | None = None


def human_agreement(
    reviews: Sequence[HumanReview], judgements: Mapping[str, ItemJudgement], *, seed: int = 0,
) -> HumanAgreement:
    """Acc. over `reviews`, and κ with the judge over the items both reviewed and judged."""
    if not reviews:
        raise ValueError("no human reviews")
    accepted = [1.0 if human_accepts(r.marks) else 0.0 for r in reviews]
    acceptance = accuracy_interval(accepted, seed=seed)
    mean_marks: dict[str, float] = {c: float(np.mean([(r.marks.get(c) - 1) / 4 * 100 for r in reviews]))
                  for c in CRITERIA}
    both = [r for r in reviews if r.sample_id in judgements]
    kappa_acc: float | None = None
    by_criterion: dict[str, float | None] = {c: None for c in CRITERIA}
    if both:
        kappa_acc = cohen_kappa([int(human_accepts(r.marks)) for r in both],
                                [int(judge_accepts(judgements[r.sample_id].scores))
                                 for r in both], labels=[0, 1])
        for c in CRITERIA:
            by_criterion[c] = cohen_kappa(
                [r.marks.get(c) for r in both],
                [judgements[r.sample_id].scores.get(JUDGE_METRIC_OF[c]).score for r in both],
                weights="quadratic", labels=[1, 2, 3, 4, 5])
    warning = acceptance.warning
    if both and len(both) < MIN_ITEMS:
        warning = f"κ rests on {len(both)} items reviewed and judged: read it as indicative"
    return HumanAgreement(reviewed=len(reviews), acceptance=acceptance, mean_marks=mean_marks,
                          judged_and_reviewed=len(both), kappa_acceptance=kappa_acc,
                          kappa_by_criterion=by_criterion, warning=warning)


class ComplexityBin(msgspec.Struct, frozen=True, kw_only=True):
    low: float
    high: float
    n: int
    accuracy: float


def accuracy_by_complexity(
    complexity: Sequence[float], scores: Sequence[float], *, bins: int = 5,
) -> list[ComplexityBin]:
    """Mean score in equal-width complexity bins over the observed range (BenchAgents Fig. 2b,
    3); empty bins are left out. `scipy.stats.binned_statistic` does the binning."""
    x = np.asarray(complexity, dtype=np.float64)
    y = np.asarray(scores, dtype=np.float64)
    if x.size != y.size:
        raise ValueError("one complexity per score")
    if x.size == 0:
        return []
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        return [ComplexityBin(low=lo, high=hi, n=int(x.size), accuracy=float(y.mean()))]
    means, edges, _ = stats.binned_statistic(x, y, statistic="mean", bins=bins, range=(lo, hi))
    counts, _, _ = stats.binned_statistic(x, y, statistic="count", bins=edges)
    return [ComplexityBin(low=float(edges[i]), high=float(edges[i + 1]), n=int(counts[i]),
                          accuracy=float(means[i]))
            for i in range(len(means)) if counts[i] > 0]
