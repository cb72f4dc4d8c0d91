"""Wiring one run together: event log, bus, agents, model router, progress, output files.

`benchagent build` and `benchagent eval` call `drive_run` with a bus of their
choice: the in-process bus over SQLite by default, or the NATS bus when the
store is JetStream (`--store nats://...`). The output directory is always the
projection of the log (`replay.benchmark_files`), so a replay is byte-identical.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import structlog

from agents.base import Agent
from agents.models import ModelRouter
from benchagent.errors import UserError
from benchagent.progress import Progress
from bus.base import TERMINAL, Bus
from replay.benchmark_files import benchmark_files, content_hash, write_output
from replay.projections import RunOutcome, RunState
from store.events import Envelope, Payload
from store.log import EventLog

log = structlog.get_logger("benchagent.run")

__all__ = ["RunOutcome", "drive_run", "make_bus", "outcome_of", "write_benchmark"]


def make_bus(event_log: EventLog, store_url: str | None, agents: Sequence[Agent],
             router: ModelRouter, *, workers: int = 16) -> Bus:
    """The in-process bus, or the NATS bus when the store is JetStream."""
    if store_url:
        from bus.nats_bus import NatsBus

        return NatsBus(store_url, agents, router, workers=workers, log=event_log)
    from bus.inprocess import InProcessBus

    return InProcessBus(event_log, agents, router)


async def drive_run(bus: Bus, event_log: EventLog, run_id: str, first: Envelope | None, *,
                    progress: Progress | None = None, timeout: float | None = None,
                    until: tuple[type[Payload], ...] = TERMINAL) -> Envelope:
    """Submit `first` (a new run) or resume `run_id`, then wait for its first event of a
    class in `until` (its terminal event; a --plan-only run's `SpecProposed` too)."""
    await bus.start()
    shown: asyncio.Task[None] | None = None
    try:
        if first is not None:
            await bus.submit(first)
        else:
            resumed = await bus.resume(run_id)
            log.info("resumed", run_id=run_id, deliveries=resumed)
        if progress is not None:
            shown = asyncio.create_task(progress.run())
        return await bus.wait_for(run_id, until, timeout=timeout)
    finally:
        if shown is not None:
            shown.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await shown
        await bus.stop()


def outcome_of(state: RunState) -> RunOutcome:
    """How the run ended (or that it is still running)."""
    return state.status.outcome(state.run_id)


def write_benchmark(state: RunState, out_dir: Path) -> str:
    """Write the run's published benchmark to `out_dir`; its content hash."""
    pub = state.publication.payload
    if pub is None:
        raise UserError("the run has not published a benchmark")
    files = benchmark_files(state, pub.sample_ids)
    digest = content_hash(files)
    if digest != pub.content_hash:
        raise UserError(f"the files rebuilt from the log hash to {digest}, not the published "
                        f"{pub.content_hash}; the log may have been altered")
    write_output(files, out_dir)
    return digest
