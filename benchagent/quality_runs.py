"""What the quality commands (judge, review, report, compare, ablate) share: a run's state
read from the store and checked to be published, and a request answered by the Evaluator.

`published_state` is the one place those commands read a run; it checks the log's hash
chain first, as `replay` and `export` do.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from agents.models import ModelRouter
from agents.registry import make_agents
from benchagent.errors import UserError
from benchagent.run import make_bus
from replay.projections import RunState
from store.blobs import BlobStore
from store.events import BenchmarkPublished, Envelope, Payload, RunFailed
from store.log import EventLog
from store.verify import read_verified

POLL_S = 0.05


async def published_state(event_log: EventLog, run_id: str) -> RunState:
    """The run's projections; `UnknownRun` if the store has no such run, `TamperedLog` if its
    hash chain is broken, `UserError` if it has published no benchmark."""
    events = await read_verified(event_log, run_id)  # a tampered log is refused
    state = RunState.of(events, run_id)
    if state.publication.event is None:
        raise UserError(f"run {run_id} has not published a benchmark yet")
    return state


def publication(state: RunState) -> Envelope[BenchmarkPublished]:
    event = state.publication.event
    if event is None:
        raise UserError(f"run {state.run_id} has not published a benchmark yet")
    return event


async def answer_request(event_log: EventLog, store_url: str | None, router: ModelRouter,
                         state: RunState, request: Envelope[Payload],
                         finished: Callable[[RunState], bool], *,
                         blobs: BlobStore | None = None) -> RunState:
    """Submit `request` to an Evaluator in this process (over NATS with a `nats://` store) and
    fold the run's new events into `state` until `finished(state)`; returns `state`.
    `UserError` if the handler failed (the bus records that as a `RunFailed` it caused)."""
    bus = make_bus(event_log, store_url, make_agents(["evaluator"]), router, blobs=blobs)
    await bus.start()
    try:
        await bus.submit(request)
        while True:
            for env in await event_log.read(state.run_id, state.last_seq):
                state.fold(env)
                if isinstance(env.payload, RunFailed) and env.causation_id == request.event_id:
                    raise UserError(f"run {state.run_id}: {env.payload.reason}")
            if finished(state):
                return state
            await asyncio.sleep(POLL_S)
    finally:
        await bus.stop()


def store_url(store: str | None) -> str | None:
    return store or os.environ.get("BENCHAGENT_STORE")
