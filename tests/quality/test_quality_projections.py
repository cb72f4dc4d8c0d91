"""The quality loop's projections and the report's inputs, folded from a synthetic log."""

from __future__ import annotations

from replay.projections import RunState
from replay.quality.from_run import quality_json, report_inputs
from replay.quality.report_model import summarise
from store import events as ev
from store.events import Envelope, new_event
from store.quality import HumanMarks, ItemScores, MetricScore
from tests.replay.synthetic_run import synthetic_run

RUN = "proj"


def _scores(v: int) -> ItemScores:
    return ItemScores(**{m: MetricScore(reason=f"{m} {v}", score=v)
                         for m in ("fsq", "qac", "cqc", "tsd", "ssc")})


def _sequenced(events: list[Envelope]) -> list[Envelope]:
    import msgspec

    return [msgspec.structs.replace(e, seq=i) for i, e in enumerate(events, 1)]


def _judging(pub: Envelope, judge: str, ids: list[str], score: int, *, fail: bool = False,
             key: str = "") -> list[Envelope]:
    request = new_event(RUN, "cli", ev.JudgeRequested(judge=judge, vision=False,
                                                      sample_ids=ids), pub.event_id, key)
    if fail:
        return [request, new_event(RUN, "evaluator", ev.JudgingFailed(reason="down"),
                                   request.event_id, "failed")]
    items = [new_event(RUN, "evaluator", ev.ItemJudged(sample_id=s, scores=_scores(score),
                                                       judge=judge), request.event_id, s)
             for s in ids]
    bench = new_event(RUN, "evaluator", ev.BenchmarkJudged(
        uia=MetricScore(reason="fits", score=score), judge=judge, builder="b",
        self_judged=False, items_judged=len(ids)), request.event_id, "benchmark")
    return [request, *items, bench]


def test_the_latest_closed_judgement_is_the_runs_and_every_one_stays() -> None:
    events = synthetic_run(RUN, 10, reject_every=5, with_media=False)
    pub = events[-1]
    ids = pub.payload.sample_ids
    log = [*events, *_judging(pub, "j1", ids[:3], 4, key="a"),
           *_judging(pub, "j2", ids[:3], 2, fail=True, key="b")]
    state = RunState.of(_sequenced(log), RUN)
    assert state.judgements.latest.payload.judge == "j1"  # a failed request changes nothing
    assert len(state.judgements.failed) == 1
    log += _judging(pub, "j3", ids[1:4], 5, key="c")
    state = RunState.of(_sequenced(log), RUN)
    assert state.judgements.latest.payload.judge == "j3"
    assert sorted(state.judgements.latest_items()) == sorted(ids[1:4])
    assert [e.payload.judge for e in state.judgements.of_sample(ids[1])] == ["j1", "j3"]

    review = [new_event(RUN, "cli", ev.HumanReviewed(sample_id=ids[1], marks=HumanMarks(
        correct=m, clear=m, answerable=m, relevant=m)), pub.event_id, f"r{m}") for m in (2, 5)]
    state = RunState.of(_sequenced([*log, *review]), RUN)
    assert state.reviews.latest[ids[1]].payload.marks.correct == 5  # the later marks count

    inputs = report_inputs(state, seed=1)
    accepted = [it for it in inputs.items if it.status == "accepted"]
    rejected = [it for it in inputs.items if it.status == "rejected"]
    assert len(accepted) == len(ids) == 8 and len(rejected) == 2
    assert {it.rejected_by for it in rejected} == {"answerable"}
    assert inputs.rejections == {"answerable": 2}
    assert sum(it.judgement is not None for it in accepted) == 3
    assert inputs.benchmark_judgement.judge == "j3" and inputs.builder == state.request.payload.llm
    report = summarise(inputs)
    assert report.judge.uia == 100.0 and report.judge.fsq == 100.0
    assert report.human.reviewed == 1
    assert quality_json(report) == quality_json(summarise(report_inputs(state, seed=1)))
