"""`benchagent leaderboard`: models ranked by accuracy with seeded bootstrap intervals, per
subtask, failed and pending models listed after, released and evaluated times."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from benchagent.cli import main
from replay.leaderboard import leaderboard
from replay.projections import RunState
from replay.quality.stats import accuracy_interval
from store import events as ev
from store.events import Envelope, Payload, new_event
from store.sqlite_log import SQLiteEventLog

RUN = "board"
SUBTASK = {"s1": "alpha", "s2": "alpha", "s3": "alpha", "s4": "alpha", "s5": "beta", "s6": "beta"}
SCORES = {"good": [1, 1, 1, 0, 1, 1], "poor": [0, 1, 0, 0, 0, 1]}


def board_events() -> list[Envelope[Payload]]:
    out: list[Envelope[Payload]] = [new_event(RUN, "cli", ev.RunRequested(
        requirement="r", size=6, seed=1))]
    for sid, subtask in SUBTASK.items():
        item = ev.BenchmarkItem(id=sid, subtask=subtask, input=f"q {sid}", target="A")
        out.append(new_event(RUN, "orchestrator", ev.SampleRealized(
            sample_id=sid, item=item, source=ev.SourceLabel(dataset_id="d", item_id=sid,
                                                            field_path="answer")), key=sid))
    out.append(new_event(RUN, "verifier", ev.BenchmarkPublished(
        sample_ids=list(SUBTASK), accepted=6, rejected=0, content_hash="h")))
    for model, scores in SCORES.items():
        out.append(new_event(RUN, "watcher", ev.ModelReleased(
            model=model, source="openai:http://h/v1", discovered_at=1_700_000_000.0), key=model))
        for sid, score in zip(SUBTASK, scores, strict=True):
            out.append(new_event(RUN, "evaluator", ev.ModelAnswered(
                model=model, sample_id=sid, answer="x", score=float(score), scorer="choice"),
                key=f"{model}:{sid}"))
        # a stray answer to an item that is not in the benchmark does not count
        out.append(new_event(RUN, "evaluator", ev.ModelAnswered(
            model=model, sample_id="rejected-one", answer="x", score=1.0, scorer="choice"),
            key=f"{model}:stray"))
        out.append(new_event(RUN, "evaluator", ev.EvaluationScored(
            model=model, accuracy=sum(scores) / 6, per_subtask={}, n=6), key=model))
    out.append(new_event(RUN, "watcher", ev.ModelReleased(model="dead"), key="dead"))
    out.append(new_event(RUN, "evaluator", ev.EvaluationFailed(
        model="dead", reason="all 6 calls failed; first: HTTP 404", n=6), key="dead"))
    out.append(new_event(RUN, "watcher", ev.ModelReleased(model="later"), key="later"))
    return out


@pytest.fixture
def home(tmp_path: Path) -> Path:
    async def write() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        try:
            await log.append(board_events())
        finally:
            await log.close()

    asyncio.run(write())
    return tmp_path


def test_models_are_ranked_with_bootstrap_intervals_per_subtask() -> None:
    table = leaderboard(RunState.of(board_events(), RUN))
    assert (table.items, table.subtasks) == (6, ["alpha", "beta"])
    ranked = [(s.rank, s.model, s.status) for s in table.standings]
    assert ranked == [(1, "good", "scored"), (2, "poor", "scored"), (None, "dead", "failed"),
                      (None, "later", "pending")]
    good = table.standings[0]
    expected = accuracy_interval([1, 1, 1, 0, 1, 1])
    assert good.overall is not None
    assert (good.overall.accuracy, good.overall.low, good.overall.high, good.overall.n) == (
        round(expected.estimate, 6), round(expected.low, 6), round(expected.high, 6), 6)
    assert good.overall.low < good.overall.accuracy < good.overall.high
    assert good.per_subtask["alpha"].accuracy == 0.75 and good.per_subtask["alpha"].n == 4
    assert good.per_subtask["beta"].accuracy == 1.0 and good.per_subtask["beta"].n == 2
    assert good.released_at == "2023-11-14T22:13:20Z"  # when its source first listed it
    assert table.standings[2].reason == "all 6 calls failed; first: HTTP 404"
    assert table.standings[3].overall is None
    # Seeded: the same log gives the same table.
    assert leaderboard(RunState.of(board_events(), RUN)) == table


def test_the_command_prints_the_table_and_json(home: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["leaderboard", RUN, "--home", str(home), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [s["model"] for s in doc["standings"]] == ["good", "poor", "dead", "later"]
    assert doc["standings"][0]["evaluated_at"].endswith("Z")
    assert main(["leaderboard", RUN, "--home", str(home)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == f"{RUN}: 6 items, 95% bootstrap intervals"
    assert lines[3].split()[:3] == ["1", "good", "0.833"]
    assert "failed" in text and "HTTP 404" in text and "pending" in text
    assert "note: only 6 items" in text


@pytest.mark.parametrize(("argv", "says"), [
    (["nosuchrun"], "unknown run id: nosuchrun"),
    ([RUN, "--confidence", "1.5"], "--confidence must be in (0, 1)"),
])
def test_bad_input(home: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                   says: str) -> None:
    assert main(["leaderboard", *argv, "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]
