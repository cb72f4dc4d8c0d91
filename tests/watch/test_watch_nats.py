"""The watcher on NATS JetStream, as its own process on a real nats-server: it survives a
NATS restart, a model added after it is evaluated, a saturating model triggers a verified
refresh linked to its parent, and a kill -9 of the watcher during the refresh loses
nothing and repeats nothing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import pytest

from benchagent.cli import main
from replay.projections import RunState
from store.events import EventEnvelope
from store.jetstream_log import JetStreamEventLog
from tests.agents.build_helpers import REQUIREMENT
from tests.nats_server import NatsServer
from tests.waiting import wait_until
from tests.watch.answer_book import AnswerBook, nats_events
from tests.watch.conftest import BENCH, BRAIN
from tests.watch.store_reading import per_model, start_watcher
from tools.llm.scripted_server import ScriptedServer

CHILD = f"{BENCH}-v2"


async def read(url: str, run_id: str) -> list[EventEnvelope]:
    log = await JetStreamEventLog.connect(url)
    try:
        return await log.read(run_id)
    finally:
        await log.close()


async def state(url: str, run_id: str) -> RunState:
    return RunState.of(await read(url, run_id), run_id)


@pytest.mark.slow
async def test_the_watcher_on_nats(tmp_path: Path, general_bench: Path) -> None:
    with NatsServer(tmp_path / "nats") as nats:
        code = await asyncio.to_thread(main, [
            "build", REQUIREMENT, "--size", "12", "--seed", "3", "--llm", BRAIN, "--pool",
            str(general_bench), "--store", nats.url, "--run-id", BENCH])
        assert code == 0
        book = AnswerBook(nats_events(nats.url))
        with ScriptedServer(models={"halfway": book.halfway}) as server:
            args = ("--source", f"openai:{server.base_url}", "--interval", "1", "--store",
                    nats.url, "--budget-runs", "1")
            oracle, halfway = (f"openai:{m}@{server.base_url}" for m in ("oracle", "halfway"))
            watcher = start_watcher(*args, stderr=tmp_path / "first.err")
            try:
                await wait_until(lambda: _scored(nats.url, BENCH, {halfway}), interval=0.5,
                                 timeout=120, what="halfway scored")
                await asyncio.to_thread(nats.restart)
                server.add_model("oracle", book.oracle)
                await wait_until(lambda: _scored(nats.url, BENCH, {halfway, oracle}),
                                 interval=0.5, timeout=120,
                                 what="oracle scored after the NATS restart")
                await wait_until(lambda: _started(nats.url, CHILD), interval=0.5, timeout=120,
                                 what="the refresh started")
            finally:
                watcher.send_signal(signal.SIGKILL)
                watcher.wait(timeout=30)
            again = start_watcher(*args, stderr=tmp_path / "second.err")
            try:
                await wait_until(lambda: _scored(nats.url, CHILD, {halfway, oracle}),
                                 interval=0.5, timeout=240,
                                 what="bench1-v2 published and evaluated")
            finally:
                again.send_signal(signal.SIGTERM)
                code = await asyncio.to_thread(_wait, again)
                assert code == 0, (tmp_path / "second.err").read_text()[-3000:]

            parent, child = await state(nats.url, BENCH), await state(nats.url, CHILD)
            assert [s.payload.model for s in parent.lineage.saturations] == [oracle]
            refresh = child.lineage.refresh
            assert refresh is not None and refresh.payload.parent_run == BENCH
            pub = child.publication.payload
            assert pub is not None and pub.accepted >= 6
            for sid in pub.sample_ids:
                verdicts = {v.check: v.passed
                            for v in child.samples.checked[sid][-1].payload.verdicts}
                assert verdicts.get("separates") is True and all(verdicts.values())
            for run_id in (BENCH, CHILD):
                events = await read(nats.url, run_id)
                assert per_model(events, "EvaluationScored") == {oracle: 1, halfway: 1}
                assert per_model(events, "ModelReleased") == {oracle: 1, halfway: 1}
            # Each request paid once, but for calls in flight when the watcher was killed.
            repeats = sum(n - 1 for n in server.requests.values())
            assert repeats <= 8, repeats


def _wait(proc: subprocess.Popen[bytes]) -> int:
    return proc.wait(timeout=120)


async def _scored(url: str, run_id: str, models: set[str]) -> bool:
    try:
        scores = (await state(url, run_id)).evaluations.scores
    except Exception:  # the server restarting: ask again
        return False
    return models <= {s.model for s in scores}


async def _started(url: str, run_id: str) -> bool:
    try:
        return bool(await read(url, run_id))
    except Exception:
        return False
