"""The recorded-LLM layer alone: overhead per call, and concurrency over HTTP.

    PYTHONPATH=. .venv/bin/python perf/llm_layer_bench.py [--calls 500] [--http-calls 64] [--latency 0.2]

1. Overhead: `RecordedLLM.complete_json` on a zero-latency scripted client with
   a real SQLite log (record the attempt, validate the schema), per new call
   and per reused (already recorded) call.
2. Concurrency: the same calls through the OpenAI SDK to the scripted HTTP
   server with a fixed latency, at 1 and at 16 concurrent LLM calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from agents.models import ModelRouter
from agents.recorded_llm import RecordedLLM, RetryPolicy
from store.events import RunRequested, new_event
from store.sqlite_log import SQLiteEventLog
from tests.agents.log_context import LogContext
from tools.llm.scripted import ScriptedChatCompletionClient
from tools.llm.scripted_server import ScriptedServer

RUN = "perf-llm"
SCHEMA = {"type": "object", "required": ["label"], "properties": {"label": {"type": "string"}}}


def responder(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
    return json.dumps({"label": messages[-1]["content"]})


def ask(i: int) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "Label it."}, {"role": "user", "content": f"item {i}"}]


async def overhead(db: Path, calls: int) -> tuple[float, float]:
    log = SQLiteEventLog(db)
    (cause,) = await log.append([new_event(RUN, "cli", RunRequested(requirement="r", size=1, seed=0))])
    llm = RecordedLLM(ScriptedChatCompletionClient(responder), LogContext(log, RUN, "perf"), "design", "scripted:p")
    start = time.perf_counter()
    for i in range(calls):
        await llm.complete_json("label", ask(i), SCHEMA, cause=cause)
    new = (time.perf_counter() - start) / calls
    reuse_llm = RecordedLLM(ScriptedChatCompletionClient(responder), LogContext(log, RUN, "perf"), "design",
                            "scripted:p")
    start = time.perf_counter()
    for i in range(calls):
        await reuse_llm.complete_json("label", ask(i), SCHEMA, cause=cause)
    reused = (time.perf_counter() - start) / calls
    await log.close()
    return new, reused


async def over_http(db: Path, calls: int, latency: float, concurrency: int) -> float:
    log = SQLiteEventLog(db)
    with ScriptedServer(responder, latency_s=latency) as server:
        (cause,) = await log.append([new_event(RUN, "cli", RunRequested(
            requirement="r", size=1, seed=0, llm=f"openai:perf@{server.base_url}"))])
        router = ModelRouter(retry=RetryPolicy(base_delay_s=0.01), max_concurrency=concurrency)
        llm = router.llm("orchestrator", LogContext(log, RUN, "perf"))
        start = time.perf_counter()
        await asyncio.gather(*[llm.complete_json("label", ask(i), SCHEMA, cause=cause)
                               for i in range(calls)])
        wall = time.perf_counter() - start
        await router.close()
    await log.close()
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--http-calls", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        new, reused = asyncio.run(overhead(Path(tmp) / "a.db", args.calls))
        print(f"recorded call, zero-latency model: {new * 1000:.2f} ms/call (new), "
              f"{reused * 1000:.3f} ms/call (reused from the log), {args.calls} calls")
        walls = {c: asyncio.run(over_http(Path(tmp) / f"h{c}.db", args.http_calls, args.latency, c))
                 for c in (1, 16)}
        print(f"HTTP, {args.latency * 1000:.0f} ms/call, {args.http_calls} calls: "
              f"concurrency 1 {walls[1]:.2f}s, concurrency 16 {walls[16]:.2f}s, "
              f"speed-up {walls[1] / walls[16]:.1f}x")


if __name__ == "__main__":
    main()
