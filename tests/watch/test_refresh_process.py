"""Saturation and refresh, with the watcher as its own process: a model that answers
everything right saturates bench1; the watcher records the saturation, builds bench1-v2
from bench1's requirement and spec with items bench1 never used, keeps only items the two
known models do not both solve, publishes it verified, links it to its parent, and
evaluates the known models on it without paying for an answer twice."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import pytest

from benchagent.cli import main
from replay.benchmark_files import benchmark_hash
from replay.projections import RunState
from store.events import GeneratedBy, SourceLabel
from tests.waiting import wait_until
from tests.watch.answer_book import AnswerBook, sqlite_events
from tests.watch.conftest import BENCH
from tests.watch.store_reading import events_of, per_model, start_watcher

CHILD = f"{BENCH}-v2"


async def _refreshed_and_evaluated(home: Path) -> bool:
    state = RunState.of(await events_of(home, CHILD), CHILD)
    return state.status.completed is not None and len(state.evaluations.scores) == 2


@pytest.mark.slow
async def test_a_saturated_benchmark_is_refreshed_verified_and_linked(
        tmp_path: Path, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = AnswerBook(sqlite_events(home / "events.db"))
    from tools.llm.scripted_server import ScriptedServer

    with ScriptedServer(models={"oracle": book.oracle, "halfway": book.halfway}) as server:
        # One refresh a day: bench1-v2 saturates too (the oracle), but no v3 is started.
        watcher = start_watcher("--source", f"openai:{server.base_url}", "--interval", "1",
                                "--benchmarks", BENCH, "--budget-runs", "1", "--home", str(home),
                                stderr=tmp_path / "watch.err")
        try:
            await wait_until(lambda: _refreshed_and_evaluated(home), timeout=240,
                             what="bench1-v2 published and evaluated")
        finally:
            watcher.send_signal(signal.SIGTERM)
            assert watcher.wait(timeout=120) == 0, (tmp_path / "watch.err").read_text()[-3000:]
    oracle, halfway = (f"openai:{m}@{server.base_url}" for m in ("oracle", "halfway"))
    parent = RunState.of(await events_of(home, BENCH), BENCH)
    child_events = await events_of(home, CHILD)
    child = RunState.of(child_events, CHILD)

    # The saturation, with its evidence.
    (saturated,) = [s.payload for s in parent.lineage.saturations if s.payload.scope == "benchmark"]
    assert (saturated.model, saturated.accuracy) == (oracle, 1.0)
    assert saturated.evidence[halfway] < 0.8

    # The link and the inherited request and spec, recorded first, by the watcher.
    assert [e.type for e in child_events[:3]] == ["RunRequested", "RefreshRequested",
                                                  "SpecFinalized"]
    refresh = child.lineage.refresh
    assert refresh is not None
    link = refresh.payload
    assert (link.parent_run, link.root_run, link.version) == (BENCH, BENCH, 2)
    assert link.saturation == [s.event_id for s in parent.lineage.saturations]
    assert sorted(link.separate) == sorted([oracle, halfway])
    assert child.request.payload.requirement == parent.request.payload.requirement
    assert child.request.payload.seed != parent.request.payload.seed
    parent_spec, child_spec = parent.slots.spec_payload, child.slots.spec_payload
    assert parent_spec is not None and child_spec is not None
    assert (child_spec.subtasks, child_spec.quotas) == (parent_spec.subtasks, parent_spec.quotas)
    assert not {"SubtasksProposed", "DesignAccepted", "QuotasAllocated"} & {
        e.type for e in child_events}  # no design of its own: the parent's spec

    # Fresh items only.
    parent_items = {(s.payload.source.dataset_id, s.payload.source.item_id)
                    for s in parent.samples.realized.values()
                    if isinstance(s.payload.source, SourceLabel)}
    used = {(d, i) for d, ids in link.excluded.items() for i in ids}
    assert parent_items <= used
    pub = child.publication.payload
    assert pub is not None and pub.accepted >= 6
    parent_instances = {(s.payload.source.name, s.payload.source.seed)
                        for s in parent.samples.realized.values()
                        if isinstance(s.payload.source, GeneratedBy)}
    for sid in pub.sample_ids:
        source = child.samples.realized[sid].payload.source
        if isinstance(source, GeneratedBy):  # a generator's instance the parent never drew
            assert (source.name, source.seed) not in parent_instances
        else:
            assert (source.dataset_id, source.item_id) not in used

    # Verified, and separating: every published item passed every check, `separates` too;
    # items both models solved were rejected and replaced.
    for sid in pub.sample_ids:
        assert sid in child.samples.accepted
        checked = child.samples.checked[sid][-1]  # the last check (after a repair, if any)
        verdicts = {v.check: v.passed for v in checked.payload.verdicts}
        assert verdicts.get("separates") is True and all(verdicts.values()), verdicts
    rejected = [r.payload for r in child.samples.rejected.values()]
    assert any(r.check == "separates" for r in rejected)
    for sid in pub.sample_ids:
        assert not (child.leaderboard.answers[oracle][sid] == 1.0
                    and child.leaderboard.answers[halfway][sid] == 1.0)

    # Both known models evaluated on v2; no request was ever paid twice.
    assert per_model(child_events, "EvaluationScored") == {oracle: 1, halfway: 1}
    assert max(server.requests.values()) == 1

    # The lineage as `benchagent runs` shows it; the log of v2 is intact.
    assert await asyncio.to_thread(main, ["runs", "--json", "--home", str(home)]) == 0
    runs = {r["run_id"]: r for r in json.loads(capsys.readouterr().out)["runs"]}
    assert runs[CHILD]["lineage"] == [BENCH, CHILD]
    assert runs[CHILD]["parent"] == BENCH and runs[CHILD]["version"] == 2
    assert f"{BENCH}-v3" not in runs  # the run budget: one refresh a day
    assert await asyncio.to_thread(main, ["verify", CHILD, "--home", str(home)]) == 0
    # Its files, written like a build's, are the published ones.
    assert benchmark_hash(home / "runs" / CHILD) == pub.content_hash
