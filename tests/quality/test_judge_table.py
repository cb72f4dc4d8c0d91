"""The 0-100 scale and the paper's Overall, checked against every row of its Tables 1-4."""

from __future__ import annotations

import numpy as np
import pytest
from paper_tables import rows

from replay.quality.judge_table import OVERALL_WEIGHTS, judge_table, overall, percent
from store.quality import METRICS, BenchmarkJudgement, ItemJudgement, ItemScores, MetricScore


def test_the_fitted_overall_reproduces_every_row_of_tables_1_to_4() -> None:
    table = rows()
    assert len(table) == 40
    errors = [abs(overall(dict(zip(METRICS, m, strict=True))) - o) for _, m, o in table]
    # The tables round to 0.01, so the inputs carry up to 0.005 of error each: 0.0072 is noise.
    assert max(errors) < 0.0075, max(errors)


def test_the_weights_are_the_least_squares_fit_and_simpler_formulas_fail() -> None:
    x = np.array([m for _, m, _ in rows()])
    y = np.array([o for _, _, o in rows()])
    fitted, *_ = np.linalg.lstsq(x, y, rcond=None)
    ours = np.array([OVERALL_WEIGHTS[m] for m in METRICS])
    assert np.allclose(fitted, ours, atol=0.001)
    assert sum(ours) == pytest.approx(1.0)
    assert np.abs(x.mean(axis=1) - y).max() > 8  # the plain mean of the six is far off
    half = (x[:, 0] + x[:, 1:].mean(axis=1)) / 2  # nor is "benchmark and items half each"
    assert np.abs(half - y).max() > 6


def test_percent_maps_the_1_to_5_scale_onto_0_to_100() -> None:
    assert [percent(s) for s in (1, 2, 3, 4, 5)] == [0.0, 25.0, 50.0, 75.0, 100.0]


def _scores(fsq: int, qac: int, cqc: int, tsd: int, ssc: int) -> ItemScores:
    return ItemScores(**{m: MetricScore(reason=f"{m} reason", score=v) for m, v in
                         zip(("fsq", "qac", "cqc", "tsd", "ssc"), (fsq, qac, cqc, tsd, ssc),
                             strict=True)})


def test_a_judge_table_row_averages_items_and_applies_overall() -> None:
    bench = BenchmarkJudgement(uia=MetricScore(reason="fits", score=4), judge="local:a")
    items = [
        ItemJudgement(sample_id="s1", scores=_scores(5, 5, 3, 1, 1), judge="local:a"),
        ItemJudgement(sample_id="s2", scores=_scores(5, 3, 5, 3, 2), judge="local:a",
                      unseen_media=["media/x.wav"]),
    ]
    row = judge_table(bench, items, builder="local:a")
    assert (row.uia, row.fsq, row.qac, row.cqc, row.tsd, row.ssc) == (
        75.0, 100.0, 75.0, 75.0, 25.0, 12.5)
    expected = (0.3 * 75 + 0.084 * 100 + 0.112 * 75 + 0.196 * 75 + 0.182 * 25 + 0.126 * 12.5)
    assert row.overall == round(expected, 2)
    assert row.items == 2 and row.items_with_unseen_media == 1 and row.self_judged
    assert not judge_table(bench, items, builder="openai:gpt").self_judged
    with pytest.raises(ValueError, match="at least one"):
        judge_table(bench, [], builder="local:a")
    with pytest.raises(ValueError, match="missing: ssc"):
        overall({m: 50.0 for m in METRICS if m != "ssc"})
