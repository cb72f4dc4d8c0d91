"""`benchagent judge` over a real HTTP judge and a real SQLite log: every judgement an event,
judging again costs no model call, the table on 0-100, self-judging and unseen media said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import RecordingJudge, add_unpublished_run, cli, cli_json, events_of, types_of

from replay.quality.judge_table import judge_table
from store.quality import BenchmarkJudgement
from tools.llm.scripted_server import ScriptedServer

RUN = "media"


def test_judging_records_every_judgement_and_judging_again_calls_no_model(
    media_home: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    judge = RecordingJudge()
    with ScriptedServer(judge) as server:
        spec = f"openai:judge@{server.base_url}"
        doc = cli_json(capsys, "judge", RUN, "--judge", spec, "--home", str(media_home))
        assert server.calls == 5 and doc["new_llm_calls"] == 5  # four items, then UIA
        events = events_of(media_home, RUN)
        (request,) = [e for e in events if e.type == "JudgeRequested"]
        items = [e for e in events if e.type == "ItemJudged"]
        (bench,) = [e for e in events if e.type == "BenchmarkJudged"]
        assert request.payload.judge == spec and request.payload.vision is True
        assert {e.causation_id for e in (*items, bench)} == {request.event_id}
        assert sorted(e.payload.sample_id for e in items) == sorted(request.payload.sample_ids)
        calls = [e.payload for e in events if e.type == "LLMCallRecorded"
                 and e.payload.role == f"judge:{spec}"]
        assert sorted(c.purpose for c in calls) == ["judge.benchmark"] + ["judge.item"] * 4

        # The table is the paper's: the recorded scores on 0-100, Overall weighted.
        table = judge_table(BenchmarkJudgement(uia=bench.payload.uia, judge=spec),
                            [e.payload.judgement() for e in items], builder="x")
        assert doc["table"]["uia"] == 75.0 == table.uia  # the scripted judge says UIA 4
        for metric in ("fsq", "qac", "cqc", "tsd", "ssc", "overall"):
            assert doc["table"][metric] == getattr(table, metric)
        assert doc["self_judged"] is False and bench.payload.builder == "scripted:media-brain"

        # A vision judge gets the physics frames as images (both next-frame items are physics
        # scenes: proofs is off-target for that subtask); the dialogue audio it cannot hear.
        physics = [r for r in judge.requests if r["purpose"] == "judge.item" and r["images"]]
        assert len(physics) == 2 and all(r["images"] == 8 for r in physics)
        wavs = {sid: media for sid, media in doc["unseen_media"].items()}
        assert len(wavs) == 2 and all(m[0].endswith(".wav") for m in wavs.values())
        for e in items:
            assert e.payload.unseen_media == wavs.get(e.payload.sample_id, [])

        # Judging again: the recorded judgement, not one model call, no new request.
        again = cli_json(capsys, "judge", RUN, "--judge", spec, "--home", str(media_home))
        assert server.calls == 5 and again == {**doc, "new_llm_calls": 0}
        assert len(types_of(media_home, RUN, "JudgeRequested")) == 1

        # A sample of the same items is a new request whose answers are all recorded already.
        code, out, err = cli(capsys, "judge", RUN, "--judge", spec, "--items", "2",
                             "--home", str(media_home))
        assert code == 0, err
        assert server.calls == 5 and "0 new model call(s)" in out
        sampled = types_of(media_home, RUN, "JudgeRequested")[-1].payload
        assert len(sampled.sample_ids) == 2 and sampled.items == 2


def test_the_text_output_says_self_judged_and_what_the_judge_could_not_see(
    media_home: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "judge", RUN, "--home", str(media_home))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[2].split() == ["UIA", "FSQ", "QAC", "CQC", "TSD", "SSC", "Overall"]
    assert len(lines[4].split()) == 7 and lines[4].split()[0] == "75.00"
    assert "judged by scripted:media-brain" in out
    assert "it grades its own work" in out  # the default judge is the backbone
    assert "could not see the media of 2 item(s) (wav" in out
    (bench,) = types_of(media_home, RUN, "BenchmarkJudged")
    assert bench.payload.self_judged and bench.payload.judge == "scripted:media-brain"


def test_the_item_sample_is_seeded(media_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    picks = []
    for seed in ("1", "1", "2", "3", "4"):
        assert cli(capsys, "judge", RUN, "--items", "2", "--seed", seed,
                   "--home", str(media_home))[0] == 0
        picks.append(types_of(media_home, RUN, "JudgeRequested")[-1].payload.sample_ids)
    assert picks[0] == picks[1] and len(picks[0]) == 2
    assert len({tuple(p) for p in picks}) > 1  # other seeds, other samples
    # The same seed is the same request: it was judged once.
    seeds = [e.payload.seed for e in types_of(media_home, RUN, "JudgeRequested")]
    assert seeds.count(1) == 1


def test_audit_and_log_show_the_judgements(media_home: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "judge", RUN, "--home", str(media_home))[0] == 0
    item = types_of(media_home, RUN, "ItemJudged")[0].payload
    doc = cli_json(capsys, "audit", RUN, "--sample", item.sample_id, "--home", str(media_home))
    (judged,) = doc["quality"]["judgements"]
    assert judged["judge"] == "scripted:media-brain" and judged["self_judged"] is True
    for metric in ("fsq", "qac", "cqc", "tsd", "ssc"):
        assert judged["scores"][metric] == {"score": item.scores.get(metric).score,
                                            "reason": item.scores.get(metric).reason}
    assert "ItemJudged" in {s["type"] for s in doc["chain"]}
    code, out, _ = cli(capsys, "audit", RUN, "--sample", item.sample_id,
                       "--home", str(media_home))
    assert f"FSQ {item.scores.fsq.score}/5  {item.scores.fsq.reason}" in out
    rows = cli_json(capsys, "log", RUN, "--home", str(media_home))["events"]
    summaries = {r["type"]: r["summary"] for r in rows}
    assert summaries["BenchmarkJudged"].startswith("UIA 4 by scripted:media-brain (self-judged)")
    expected = f"{item.sample_id}: " + " ".join(
        f"{m.upper()} {item.scores.get(m).score}" for m in ("fsq", "qac", "cqc", "tsd", "ssc"))
    judged_rows = [r["summary"] for r in rows if r["type"] == "ItemJudged"]
    assert any(s.startswith(expected) for s in judged_rows)


@pytest.mark.parametrize("argv, message", [
    (["judge", "no-such-run"], "unknown run id: no-such-run"),
    (["judge", "draft"], "run draft has not published a benchmark yet"),
    (["judge", RUN, "--judge", "gpt4"], "--judge: unknown model spec 'gpt4'"),
    (["judge", RUN, "--judge", "local:no-such-model"], "--judge: unknown model spec"),
    (["judge", RUN, "--items", "0"], "--items '0': give a positive number"),
    (["judge", RUN, "--items", "some"], "--items 'some'"),
])
def test_bad_input_is_one_line_and_writes_nothing(
    media_home: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str,
) -> None:
    add_unpublished_run(media_home)
    before = {run: len(events_of(media_home, run)) for run in (RUN, "draft")}
    code, out, err = cli(capsys, *argv, "--home", str(media_home))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"benchagent: error: {err.split('error: ', 1)[1].strip()}"]
    assert message in err
    assert {run: len(events_of(media_home, run)) for run in (RUN, "draft")} == before


def test_the_json_output_is_one_document(media_home: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "judge", RUN, "--json", "--home", str(media_home))
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"table", "judge", "builder", "self_judged", "unseen_media", "unjudged",
                        "new_llm_calls", "request_id"}
