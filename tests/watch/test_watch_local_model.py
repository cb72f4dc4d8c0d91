"""The watcher on the real embedded model: a spec file dropped into a watched folder
releases local:qwen2.5-coder-0.5b, which answers every item of a small benchmark (two
items: CPU inference) and lands on its leaderboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.models import ModelRouter
from agents.registry import make_agents
from benchagent.watch.budget import DailyBudget
from benchagent.watch.daemon import Watcher, WatchSettings
from bus.inprocess import InProcessBus
from replay.leaderboard import leaderboard
from replay.projections import RunState
from store.blobs import FolderBlobStore
from store.sqlite_log import SQLiteEventLog
from tests.test_build_local_model import MODEL, _model_ready
from tests.waiting import wait_until
from tests.watch.benchmarks import copy_benchmark
from tests.watch.conftest import BENCH
from tests.watch.store_reading import events_of
from tools.model_sources import parse_source

SMALL = "small"
ITEMS = 2


@pytest.mark.slow
@pytest.mark.local_model
@pytest.mark.timeout(1800)
async def test_a_local_model_dropped_in_a_folder_is_evaluated(tmp_path: Path,
                                                               home: Path) -> None:
    reason = _model_ready()
    if reason:
        pytest.skip(reason)
    folder = tmp_path / "models"
    folder.mkdir()
    await copy_benchmark(home, BENCH, SMALL, items=ITEMS)
    log = SQLiteEventLog(home / "events.db")
    router = ModelRouter(max_concurrency=1)
    blobs = FolderBlobStore.beside(home / "events.db")
    bus = InProcessBus(log, make_agents(["evaluator"]), router, blobs=blobs)
    watcher = Watcher(log, bus, [parse_source(f"folder:{folder}", "OPENAI_API_KEY")],
                      WatchSettings(interval_s=1, saturation=0.8, benchmarks=[SMALL],
                                    budget=DailyBudget(runs=0, calls=100)), blobs)
    await bus.start()
    try:
        await watcher.cycle()  # an empty folder: nothing to do
        assert RunState.of(await events_of(home, SMALL), SMALL).evaluations.released == {}
        (folder / "qwen.yaml").write_text(f"model: {MODEL}\n")
        await watcher.cycle()

        async def done() -> bool:
            state = RunState.of(await events_of(home, SMALL), SMALL)
            return bool(state.evaluations.scores or state.evaluations.failed)

        await wait_until(done, timeout=1500, interval=1.0, what="the local model evaluated")
    finally:
        await bus.stop()
        await router.close()
        await log.close()
    state = RunState.of(await events_of(home, SMALL), SMALL)
    (score,) = state.evaluations.scores
    assert score.model == MODEL and score.n == ITEMS
    calls = [e.payload for e in await events_of(home, SMALL) if e.type == "LLMCallRecorded"
             and e.payload.role == f"eval:{MODEL}"]
    assert len(calls) >= ITEMS and all(c.model == MODEL for c in calls)
    assert any(a.strip() for a in (c.answer or "" for c in calls))  # the model said something
    (standing,) = leaderboard(state).standings
    assert standing.model == MODEL and standing.rank == 1 and standing.overall is not None
    assert standing.overall.accuracy == score.accuracy
