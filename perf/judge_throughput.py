"""Judge throughput: `benchagent judge` of a published run against a 200 ms-latency
OpenAI-compatible HTTP judge, with 1 and with 16 judge calls in flight (target: ≥ 10×).

    PYTHONPATH=. .venv/bin/python perf/judge_throughput.py [--items 64] [--latency 0.2]

The run is a synthetic published log (tests/replay/synthetic_run.py, text items) in a fresh
SQLite file per measurement, so every judgement is paid for; the judge answers with a
schema-valid instance (tools.llm.scripted.schema_responder). Prints the wall time, the model
calls and calls/s of each concurrency, the speed-up, and the time of judging again (every
answer recorded: no model call).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from agents.models import ModelRouter
from benchagent.commands.judge import judge_run
from store.sqlite_log import SQLiteEventLog
from tests.replay.synthetic_run import synthetic_run
from tools.llm.clients import make_client, parse_model_spec
from tools.llm.scripted import schema_responder
from tools.llm.scripted_server import ScriptedServer

RUN = "judge-perf"


async def judge_once(db: Path, judge: str, concurrency: int, *, fresh: bool
                     ) -> tuple[float, float, int]:
    """(client set-up seconds, judging wall seconds, new model calls) of one `judge` of the
    run in `db`. The client (the SDK's TLS context and models: once per command) is made
    before the clock starts, and its time printed apart."""
    log = SQLiteEventLog(db)
    router = ModelRouter(max_concurrency=concurrency)
    try:
        if fresh:
            await log.append(synthetic_run(RUN, ITEMS, reject_every=0, with_media=False))
        start = time.perf_counter()
        router.client(parse_model_spec(judge), "OPENAI_API_KEY")
        setup = time.perf_counter() - start
        start = time.perf_counter()
        outcome = await judge_run(log, None, router, RUN, judge=judge)
        return setup, time.perf_counter() - start, outcome.new_llm_calls
    finally:
        await router.close()
        await log.close()


ITEMS = 64


def main() -> None:
    global ITEMS
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    ITEMS = args.items
    walls: dict[int, float] = {}
    with ScriptedServer(schema_responder, latency_s=args.latency) as server, \
            tempfile.TemporaryDirectory() as tmp:
        judge = f"openai:judge@{server.base_url}"
        make_client(judge, "NO_KEY")  # the SDK's import (seconds) is not judging time
        for concurrency in (1, 16):
            db = Path(tmp) / f"events-{concurrency}.db"
            before = server.calls
            setup, wall, calls = asyncio.run(judge_once(db, judge, concurrency, fresh=True))
            assert calls == server.calls - before
            walls[concurrency] = wall
            print(f"concurrency {concurrency:2d}: {ITEMS} items + UIA = {calls} calls in "
                  f"{wall:.2f} s ({calls / wall:.1f} calls/s at {1000 * args.latency:.0f} ms "
                  f"per call; client set-up {setup:.2f} s before)")
        before = server.calls
        _, wall, calls = asyncio.run(judge_once(Path(tmp) / "events-16.db", judge, 16,
                                                fresh=False))
        assert calls == 0 and server.calls == before
        print(f"judging again: {wall:.2f} s, {calls} model calls (every answer recorded)")
    speedup = walls[1] / walls[16]
    print(f"speed-up 16 vs 1: {speedup:.1f}x — target ≥ 10x: "
          f"{'met' if speedup >= 10 else 'MISSED'}")


if __name__ == "__main__":
    main()
