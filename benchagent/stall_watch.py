"""The driving process's watch for a run that can no longer end by itself.

A run moves only by events: when no role has an event queued or being handled and the run
has not ended, nothing will ever move it again (a handler dropped work; last seen as two
slots that were never assigned, with a build waiting 75 minutes for them). Once the bus has
been idle and the run's log still for the bus's `stall_after_s`, the watch records
`RunStalled`: the Orchestrator reports the open slots short and the run publishes what it
accepted. If the run is idle again without ending, the watch gives up and `build` reports
the run stalled; `build --resume` takes it up again (after a fix), reusing every answer.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from bus.base import Bus
from store.events import Envelope, Payload, RunStalled, new_event
from store.log import EventLog, StoreUnavailable

log = structlog.get_logger("benchagent.stall_watch")

__all__ = ["watch_for_stall"]


async def watch_for_stall(bus: Bus, event_log: EventLog, run_id: str, *,
                          poll_s: float = 0.5) -> Envelope[Payload]:
    """Return the run's `RunStalled` once the run is idle after recording it (never returns
    while the run moves)."""
    recorded: Envelope[Payload] | None = None
    while True:
        after_seq = await _idle_until_still(bus, event_log, run_id, poll_s)
        if recorded is not None and after_seq == recorded.seq:
            return recorded  # nothing reacted to the stall, or what did is done
        quiet_s = bus.stall_after_s
        last = (await event_log.read(run_id, after_seq - 1))[-1:] if after_seq else []
        what = f"last event {last[0].type} at seq {after_seq}" if last else "no event"
        reason = (f"no role had work for {quiet_s:g} s and the run had not ended ({what})")
        log.warning("run_stalled", run_id=run_id, after_seq=after_seq, quiet_s=quiet_s)
        recorded = await bus.submit(new_event(
            run_id, "cli", RunStalled(after_seq=after_seq, quiet_s=quiet_s, reason=reason),
            None, key=f"stalled-after-{after_seq}"))


async def _idle_until_still(bus: Bus, event_log: EventLog, run_id: str, poll_s: float) -> int:
    """The run's last seq, once the bus has been idle and that seq unchanged for the bus's
    `stall_after_s`."""
    since, seen = time.monotonic(), -1
    while True:
        await asyncio.sleep(poll_s)
        try:
            seq = await event_log.last_seq(run_id)
            busy = await bus.busy()
        except StoreUnavailable:  # the waiting build rides it out; idle cannot be told
            since, seen = time.monotonic(), -1
            continue
        if busy or seq != seen:
            since, seen = time.monotonic(), seq
        elif time.monotonic() - since >= bus.stall_after_s:
            return seq
