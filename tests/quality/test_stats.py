"""Statistics of the quality loop, against values known by hand or by theory."""

from __future__ import annotations

import math

import pytest

from replay.quality import stats
from store.quality import HumanMarks, HumanReview, ItemJudgement, ItemScores, MetricScore


def test_bootstrap_interval_is_seeded_and_close_to_the_normal_approximation() -> None:
    scores = [1.0, 0.0] * 200  # n = 400, accuracy 0.5
    first = stats.accuracy_interval(scores, seed=3)
    assert first == stats.accuracy_interval(scores, seed=3)  # deterministic
    assert first.estimate == 0.5 and first.n == 400 and first.warning is None
    half = 1.96 * math.sqrt(0.25 / 400)  # 0.049
    assert first.low == pytest.approx(0.5 - half, abs=0.01)
    assert first.high == pytest.approx(0.5 + half, abs=0.01)
    other = stats.accuracy_interval(scores, seed=4)
    assert other.low == pytest.approx(first.low, abs=0.01)


def test_small_or_wide_intervals_carry_a_warning_instead_of_false_precision() -> None:
    five = stats.accuracy_interval([1.0] * 5)
    assert (five.low, five.high) == (1.0, 1.0)  # the bootstrap cannot see what it did not
    assert five.warning and "only 5 items" in five.warning
    sixty = stats.accuracy_interval([1.0, 0.0] * 30)  # width ≈ 0.25
    assert sixty.warning and "spans" in sixty.warning
    with pytest.raises(ValueError):
        stats.accuracy_interval([])


def test_kendall_tau_and_its_exact_one_sided_p_value() -> None:
    order = ["2B", "4B", "9B", "27B"]
    # The paper's Table 1, Multi-Perspective (T): a perfect scaling trend.
    perfect = stats.order_consistency(order, {"2B": 71.06, "4B": 74.04, "9B": 81.28,
                                              "27B": 87.23})
    assert perfect.tau == 1.0 and perfect.p_value == pytest.approx(1 / 24)
    assert perfect.warning is None and perfect.observed == order
    swapped = stats.order_consistency(order, {"2B": 0.4, "4B": 0.6, "9B": 0.5, "27B": 0.7})
    assert swapped.tau == pytest.approx(4 / 6) and swapped.p_value == pytest.approx(4 / 24)
    assert swapped.observed == ["2B", "9B", "4B", "27B"] and "not significant" in swapped.warning
    reversed_ = stats.order_consistency(order, {"2B": 0.9, "4B": 0.8, "9B": 0.7, "27B": 0.6})
    assert reversed_.tau == -1.0 and reversed_.p_value == pytest.approx(1.0)
    three = stats.order_consistency(["a", "b", "c"], {"a": 0.1, "b": 0.2, "c": 0.3})
    assert three.tau == 1.0 and three.p_value == pytest.approx(1 / 6)
    assert "with 3 models no order can be" in three.warning
    tied = stats.order_consistency(["a", "b"], {"a": 0.5, "b": 0.5})
    assert tied.tau is None and tied.warning == "every model has the same accuracy"
    with pytest.raises(ValueError, match="no accuracy for: c"):
        stats.order_consistency(["a", "b", "c"], {"a": 0.1, "b": 0.2})


def _items(values: list[float]) -> dict[str, float]:
    return {f"s{i:03d}": v for i, v in enumerate(values)}


def test_paired_bootstrap_separates_what_overlapping_intervals_would_call_a_tie() -> None:
    # Both models get the same 50 items right; the larger one gets 8 more.
    small = [1.0] * 50 + [0.0] * 50
    large = [1.0] * 58 + [0.0] * 42
    a, b = stats.accuracy_interval(small), stats.accuracy_interval(large)
    assert a.high > b.low  # the per-model intervals overlap
    (sep,) = stats.adjacent_separability(["small", "large"],
                                         {"small": _items(small), "large": _items(large)})
    assert sep.difference == pytest.approx(0.08) and sep.n == 100
    assert sep.low > 0 and sep.direction == "as_expected" and sep.warning is None


def test_separability_reports_reversed_and_inseparable_pairs() -> None:
    base = [1.0] * 50 + [0.0] * 50
    worse = [0.0] * 20 + [1.0] * 30 + [0.0] * 50
    mixed = [0.0] * 10 + [1.0] * 40 + [1.0] * 10 + [0.0] * 40  # 10 lost, 10 gained
    seps = stats.adjacent_separability(
        ["a", "b", "c"], {"a": _items(base), "b": _items(worse), "c": _items(mixed)})
    assert [s.direction for s in seps] == ["reversed", "as_expected"]
    (tie,) = stats.adjacent_separability(["a", "c"], {"a": _items(base), "c": _items(mixed)})
    assert tie.difference == 0.0 and tie.direction == "inseparable"
    # Only the items both answered count.
    (few,) = stats.adjacent_separability(["a", "b"], {"a": {"x": 0.0, "y": 1.0},
                                                      "b": {"x": 1.0, "z": 0.0}})
    assert few.n == 1 and few.difference == 1.0 and few.warning and "only 1 items" in few.warning


def test_cohen_kappa_known_values() -> None:
    # 50 cases: both yes 20, A yes/B no 5, A no/B yes 10, both no 15 → po 0.7, pe 0.5, κ 0.4.
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert stats.cohen_kappa(a, b) == pytest.approx(0.4)
    assert stats.cohen_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], weights="quadratic") == 1.0
    # Off by one step four times: observed weighted disagreement 4/16/5 = 0.05 against 0.25
    # expected from the margins, so κ = 1 − 0.05/0.25 = 0.8; a full reversal is −1.
    near = stats.cohen_kappa([1, 2, 3, 4, 5], [2, 3, 4, 5, 5], weights="quadratic")
    far = stats.cohen_kappa([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], weights="quadratic")
    assert near == pytest.approx(0.8) and far == pytest.approx(-1.0)
    assert stats.cohen_kappa([4, 4, 4], [4, 4, 4]) is None  # chance agreement 1: undefined


def _review(sid: str, *marks: int) -> HumanReview:
    return HumanReview(sample_id=sid, marks=HumanMarks(correct=marks[0], clear=marks[1],
                                                       answerable=marks[2], relevant=marks[3]))


def _judged(sid: str, fsq: int, qac: int, cqc: int, tsd: int) -> ItemJudgement:
    def s(v: int) -> MetricScore:
        return MetricScore(reason="r", score=v)

    return ItemJudgement(sample_id=sid, judge="j", scores=ItemScores(
        fsq=s(fsq), qac=s(qac), cqc=s(cqc), tsd=s(tsd), ssc=s(1)))


def test_human_acceptance_and_agreement_with_the_judge() -> None:
    reviews = [
        _review("s1", 5, 5, 5, 5),  # accepted
        _review("s2", 4, 3, 3, 3),  # accepted: every criterion at least 3
        _review("s3", 2, 5, 5, 5),  # rejected: the answer is wrong
        _review("s4", 5, 5, 5, 5),  # accepted, not judged
    ]
    judged = {
        # correct ↔ QAC, clear ↔ FSQ, answerable ↔ CQC, relevant ↔ TSD
        "s1": _judged("s1", fsq=5, qac=5, cqc=5, tsd=5),
        "s2": _judged("s2", fsq=3, qac=4, cqc=3, tsd=3),
        "s3": _judged("s3", fsq=5, qac=2, cqc=5, tsd=5),
    }
    agreement = stats.human_agreement(reviews, judged)
    assert agreement.reviewed == 4 and agreement.acceptance.estimate == 0.75
    assert agreement.mean_marks["correct"] == pytest.approx((100 + 75 + 25 + 100) / 4)
    assert agreement.judged_and_reviewed == 3
    assert agreement.kappa_acceptance == 1.0  # the judge accepts exactly what people accept
    assert agreement.kappa_by_criterion["correct"] == 1.0  # identical marks on 1-5
    assert agreement.warning and "3 items" in agreement.warning
    assert stats.judge_accepts(judged["s2"].scores) and not stats.judge_accepts(
        judged["s3"].scores)


def test_accuracy_by_complexity_bins() -> None:
    complexity = [0.0, 0.1, 0.25, 0.5, 0.55, 0.9, 1.0]
    scores = [1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0]
    bins = stats.accuracy_by_complexity(complexity, scores, bins=4)
    assert [(b.low, b.high, b.n, b.accuracy) for b in bins] == [
        (0.0, 0.25, 2, 1.0), (0.25, 0.5, 1, 1.0), (0.5, 0.75, 2, 0.5), (0.75, 1.0, 2, 0.0)]
    assert stats.accuracy_by_complexity([], []) == []
    (one,) = stats.accuracy_by_complexity([0.3, 0.3], [1.0, 0.0])
    assert (one.n, one.accuracy) == (2, 0.5)
