"""Agents reach their LLM through the bus context, with the router `benchagent agent` uses
(each run's own model, every call recorded as an event)."""

from __future__ import annotations

from agents.base import Agent, on
from agents.models import ModelRouter
from bus.context import BusContext
from bus.inprocess import InProcessBus
from store.events import Envelope, LLMCallRecorded, RunCompleted, RunRequested, new_event
from store.sqlite_log import SQLiteEventLog
from tests.bus.bus_pipeline import count_types

SCHEMA = {"type": "object", "properties": {"verdict": {"enum": ["yes", "no"]}},
          "required": ["verdict"]}


class Asker(Agent):
    role = "design"

    @on(RunRequested)
    async def ask(self, event: Envelope[RunRequested], ctx: BusContext) -> None:
        answer = await ctx.llm(self.role).complete_json(
            "probe", [{"role": "user", "content": "yes or no?"}], SCHEMA, cause=event
        )
        await ctx.emit(RunCompleted(accepted=0, rejected=0, content_hash=answer["verdict"]),
                       cause=event)


async def test_each_run_gets_the_llm_its_request_names(sqlite_log: SQLiteEventLog) -> None:
    router = ModelRouter()
    bus = InProcessBus(sqlite_log, [Asker()], router)
    await bus.start()
    try:
        for run_id, spec in (("llm1", "scripted:schema"), ("llm2", "scripted:schema"),
                             ("llm3", "scripted:tests.nowhere:responder")):
            req = RunRequested(requirement="r", size=1, seed=1, llm=spec)
            await bus.submit(new_event(run_id, "user", req))
        done1 = await bus.wait_for("llm1", timeout=20)
        done2 = await bus.wait_for("llm2", timeout=20)
        done3 = await bus.wait_for("llm3", timeout=20)
    finally:
        await bus.stop()
    assert done1.payload.content_hash == done2.payload.content_hash == "yes"
    call = next(e.payload for e in await sqlite_log.read("llm1")
                if isinstance(e.payload, LLMCallRecorded))
    assert call.role == "design" and call.purpose == "probe" and "schema" in call.model
    assert count_types(await sqlite_log.read("llm2"))["LLMCallRecorded"] == 1
    # An unusable model spec is a handler error: the run fails and says why.
    assert done3.type == "RunFailed" and "design failed on RunRequested" in done3.payload.reason
