"""`benchagent judge` end to end on the real embedded model (local:qwen2.5-coder-0.5b): a small
published run judged by a text-only judge, told which media it cannot see; judging again asks
the model nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import cli_json, types_of
from test_judge_local_model import MODEL, _model_ready

RUN = "media"


@pytest.mark.slow
@pytest.mark.local_model
@pytest.mark.timeout(2400)
def test_the_local_model_judges_a_published_run(media_home: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    reason = _model_ready()
    if reason:
        pytest.skip(reason)
    doc = cli_json(capsys, "judge", RUN, "--judge", MODEL, "--items", "2",
                   "--llm-concurrency", "1", "--home", str(media_home))
    assert doc["judge"] == MODEL and doc["vision"] is False and not doc["self_judged"]
    table = doc["table"]
    assert table["items"] + len(doc["unjudged"]) == 2 and table["items"] >= 1
    for metric in ("uia", "fsq", "qac", "cqc", "tsd", "ssc", "overall"):
        assert 0 <= table[metric] <= 100
    (request,) = [e.payload for e in types_of(media_home, RUN, "JudgeRequested")]
    judged = [e.payload for e in types_of(media_home, RUN, "ItemJudged")]
    for item in judged:  # a text-only judge is told about every medium of the item
        assert item.sample_id in request.sample_ids
        assert item.unseen_media and item.unseen_media == doc["unseen_media"][item.sample_id]
        assert all(item.scores.get(m).reason for m in ("fsq", "qac", "cqc", "tsd", "ssc"))
    calls = [e.payload for e in types_of(media_home, RUN, "LLMCallRecorded")
             if e.payload.role == f"judge:{MODEL}"]
    assert {c.purpose for c in calls if c.error is None} == {"judge.item", "judge.benchmark"}
    again = cli_json(capsys, "judge", RUN, "--judge", MODEL, "--items", "2",
                     "--home", str(media_home))
    assert again["new_llm_calls"] == 0 and again["table"] == table
