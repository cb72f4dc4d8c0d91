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
from typing import TYPE_CHECKING

import structlog

from agents.base import Agent
from agents.models import ModelRouter
from benchagent.errors import UserError
from benchagent.progress import Progress
from benchagent.stall_watch import watch_for_stall
from bus.base import ENDS_A_BUILD, Bus
from replay.anchor import Anchor, sign
from replay.benchmark_files import ProjectionError, make_anchor, output_files
from replay.output_folder import FolderError, write_folder
from replay.projections import RunOutcome, RunState, RunStatus
from store.blobs import BlobStore
from store.events import Envelope, Payload, RunResumed, RunStopped, StopCause, new_event
from store.log import EventLog

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = structlog.get_logger("benchagent.run")

__all__ = ["RunOutcome", "drive_run", "make_bus", "outcome_of", "write_benchmark"]


def make_bus(event_log: EventLog, store_url: str | None, agents: Sequence[Agent],
             router: ModelRouter, *, blobs: BlobStore | None = None, workers: int = 16,
             stall_after_s: float | None = None) -> Bus:
    """The in-process bus (media in `blobs`), or the NATS bus when the store is JetStream
    (media in its Object Store bucket); `stall_after_s` None keeps the bus's own default."""
    if store_url:
        from bus.nats_bus import NATS_STALL_AFTER_S, NatsBus

        return NatsBus(store_url, agents, router, workers=workers, log=event_log, blobs=blobs,
                       stall_after_s=stall_after_s or NATS_STALL_AFTER_S)
    from bus.inprocess import STALL_AFTER_S, InProcessBus

    return InProcessBus(event_log, agents, router, blobs=blobs,
                        stall_after_s=stall_after_s or STALL_AFTER_S)


async def drive_run(bus: Bus, event_log: EventLog, run_id: str, first: Envelope | None, *,
                    progress: Progress | None = None, timeout: float | None = None,
                    until: tuple[type[Payload], ...] = ENDS_A_BUILD) -> Envelope:
    """Submit `first` (a new run) or resume `run_id` (`RunResumed`: every bus re-delivers
    what its roles never reacted to), then wait for its first event of a class in `until`:
    by default the run completes, fails or stops (a --plan-only run's `SpecProposed` too);
    or its `RunStalled`, if the run stalled and recording that did not end it."""
    await bus.start()
    shown: asyncio.Task[None] | None = None
    watch: asyncio.Task[Envelope] | None = None
    try:
        if first is not None:
            after = 0
            await bus.submit(first)
        else:
            after = (await bus.submit(resumed_event(await event_log.read(run_id), run_id))).seq
            log.info("resumed", run_id=run_id, after_seq=after)
        if progress is not None:
            shown = asyncio.create_task(progress.run())
        watch = asyncio.create_task(watch_for_stall(bus, event_log, run_id))
        ended = asyncio.create_task(bus.wait_for(run_id, until, timeout=timeout,
                                                 after_seq=after))
        try:
            await asyncio.wait({ended, watch}, return_when=asyncio.FIRST_COMPLETED)
            if ended.done() or watch.exception() is None:
                return ended.result() if ended.done() else watch.result()
            # The watch is a safety net: its failure (the store, mid-outage) ends no run.
            log.warning("stall_watch_failed", run_id=run_id, error=repr(watch.exception()))
            return await ended
        finally:
            ended.cancel()
    finally:
        for task in (shown, watch):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await bus.stop()


def resumed_event(events: Sequence[Envelope[Payload]], run_id: str) -> Envelope[RunResumed]:
    """The `RunResumed` that takes the run up again after its last event."""
    last = events[-1].seq if events else 0
    stop = RunStatus.of(events).stopped
    return new_event(run_id, "cli", RunResumed(after_seq=last,
                                               stopped_seq=stop.seq if stop else None),
                     None, key=f"resume-after-{last}")


def stopped_event(events: Sequence[Envelope[Payload]], run_id: str, cause: StopCause,
                  reason: str) -> Envelope[RunStopped]:
    """The `RunStopped` the driving `build` records when it was interrupted (Ctrl-C,
    SIGTERM) or its store failed under the bus."""
    last = events[-1].seq if events else 0
    return new_event(run_id, "cli", RunStopped(stage="cli", cause=cause, reason=reason),
                     None, key=f"{cause}-after-{last}")


def outcome_of(state: RunState) -> RunOutcome:
    """How the run ended (or that it is still running)."""
    return state.status.outcome(state.run_id)


async def write_benchmark(state: RunState, out_dir: Path, blobs: BlobStore,
                          signing_key: Ed25519PrivateKey | None = None) -> str:
    """Write the run's published benchmark (card, anchor, sidecar; media from `blobs`) to
    `out_dir`, the anchor signed with `signing_key` if given; the benchmark's content hash."""
    try:
        anchor = anchored(state, signing_key)
        write_folder(await output_files(state, anchor, blobs), out_dir, state.run_id)
    except (ProjectionError, FolderError) as exc:
        raise UserError(f"run {state.run_id}: {exc}") from None
    return anchor.content_hash


def anchored(state: RunState, signing_key: Ed25519PrivateKey | None) -> Anchor:
    """The run's anchor at publication, signed when a key is given."""
    anchor = make_anchor(state)
    return sign(anchor, signing_key) if signing_key is not None else anchor
