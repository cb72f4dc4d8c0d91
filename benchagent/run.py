"""Wiring one run together: event log, bus, agents, LLM factory, progress, output files.

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
from typing import TYPE_CHECKING

import msgspec
import structlog

from agents.base import Agent
from agents.run_llm import RunLLMFactory
from benchagent.errors import UserError
from benchagent.progress import Progress
from bus.base import Bus
from replay.anchor import Anchor, sign
from replay.benchmark_files import ProjectionError, make_anchor, project_output, published_event
from replay.output_folder import OutputRefused, write_folder
from store.events import BenchmarkPublished, Envelope, QuotaShortfall, RunCompleted, RunFailed
from store.log import EventLog

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = structlog.get_logger("benchagent.run")


class RunOutcome(msgspec.Struct, kw_only=True):
    run_id: str
    status: str  # completed | failed
    out_dir: str | None = None
    accepted: int = 0
    rejected: int = 0
    shortfall: int = 0
    content_hash: str | None = None
    stage: str | None = None
    reason: str | None = None


def make_bus(event_log: EventLog, store_url: str | None, agents: Sequence[Agent],
             llm_factory: RunLLMFactory, *, workers: int = 16) -> Bus:
    """The in-process bus, or the NATS bus when the store is JetStream."""
    if store_url:
        from bus.nats_bus import NatsBus

        return NatsBus(store_url, agents, llm_factory, workers=workers, log=event_log)
    from bus.inprocess import InProcessBus

    return InProcessBus(event_log, agents, llm_factory)


async def drive_run(bus: Bus, event_log: EventLog, run_id: str, first: Envelope | None, *,
                    progress: Progress | None = None, timeout: float | None = None) -> Envelope:
    """Submit `first` (a new run) or resume `run_id`, then wait for its terminal event."""
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
        return await bus.wait_for(run_id, timeout=timeout)
    finally:
        if shown is not None:
            shown.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await shown
        await bus.stop()


def outcome_of(events: list[Envelope], run_id: str) -> RunOutcome:
    failed = next((e.payload for e in events if isinstance(e.payload, RunFailed)), None)
    shortfall = sum(e.payload.missing for e in events if isinstance(e.payload, QuotaShortfall))
    if failed is not None:
        return RunOutcome(run_id=run_id, status="failed", stage=failed.stage, reason=failed.reason,
                          shortfall=shortfall)
    done = next((e.payload for e in events if isinstance(e.payload, RunCompleted)), None)
    if done is None:
        return RunOutcome(run_id=run_id, status="running", shortfall=shortfall)
    return RunOutcome(run_id=run_id, status="completed", accepted=done.accepted,
                      rejected=done.rejected, content_hash=done.content_hash, shortfall=shortfall)


def write_benchmark(events: list[Envelope], out_dir: Path,
                    signing_key: Ed25519PrivateKey | None = None) -> str:
    """Write the published benchmark of `events` (card, anchor, sidecar) to `out_dir`, the
    anchor signed with `signing_key` if given; the benchmark's content hash."""
    run_id = events[0].run_id if events else "?"
    try:
        files = project_output(events, anchored(events, signing_key))
        write_folder(files, out_dir, run_id)
    except (ProjectionError, OutputRefused) as exc:
        raise UserError(f"run {run_id}: {exc}") from None
    return published_hash(events)


def anchored(events: list[Envelope], signing_key: Ed25519PrivateKey | None) -> Anchor:
    """The run's anchor at publication, signed when a key is given."""
    anchor = make_anchor(events)
    return sign(anchor, signing_key) if signing_key is not None else anchor


def published_hash(events: list[Envelope]) -> str:
    pub = published_event(events).payload
    assert isinstance(pub, BenchmarkPublished)
    return pub.content_hash
