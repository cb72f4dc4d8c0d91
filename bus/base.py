"""The contract every bus keeps (`InProcessBus`, `NatsBus`).

A bus moves events between agents. The log is the source of truth; delivery is
at-least-once and deterministic event ids make re-emits no-ops, which gives
exactly-once *effects*.

- `start()`: wire the agents to their event types and begin delivering.
- `submit(envelope)`: append the first event of a run, then deliver it. An
  envelope already in the log is not delivered again (`resume` covers it).
- Emitting (through `bus.context.BusContext`): append to the log FIRST, then
  deliver to every agent with an `@on` handler of the event's class, in any run
  (`bus.wiring.RoleTable`). Only newly appended events are delivered.
- A handler that raises makes the run fail visibly: the bus logs the error and
  emits `RunFailed(stage=<role>, reason=...)` caused by the event it was handling.
  A handler that raises `ServiceUnavailable` (the world failed) stops the run
  instead: `RunStopped`, and no event of a stopped run is handled until a
  `RunResumed` is submitted; each bus reacts to `RunResumed` by re-delivering
  what the run's roles it serves never reacted to (`resume(run_id)`).
- Several events (of one run or of many) may be handled at the same time, also
  by one agent object: agents derive state from `ctx.history()`.
- `wait_for(run_id, types, timeout, after_seq=0)`: the first event of `run_id` after
  `after_seq` whose payload is of a class in `types` (default: `RunCompleted`,
  `RunFailed`), from the log; raises `TimeoutError` after `timeout` seconds (None =
  wait forever).
- `resume(run_id=None)`: for `run_id` (every run when None), re-deliver every
  event that a role of this bus handles and for which that role recorded no
  reaction (no event with `causation_id == event.event_id and agent == role`),
  among the events still open: all of an unfinished run's (no `RunCompleted`/
  `RunFailed`), and of a finished run those after its terminal event (a model
  released on a published benchmark, an evaluation asked later); a stopped run
  (`RunStopped` without a later `RunResumed`) has none. Returns how many
  (event, role) deliveries were made. Harmless if repeated: dedup.
- `busy()`: whether this bus sees an event queued or being handled (in NATS mode: by any
  worker of the stream's role consumers); `stall_after_s`: how long it must stay not busy,
  with the run's log still, before the driving `build` calls the run stalled
  (`benchagent.stall_watch`).
- `stop()`: stop taking new events, let handlers in flight finish (events not
  yet handled stay in the log for `resume`/redelivery), release connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import Protocol

import structlog

from store.events import Envelope, Payload, RunCompleted, RunFailed, RunStopped, type_name
from store.log import EventLog, StoreUnavailable

log_ = structlog.get_logger("bus")
STORE_OUTAGE_S = 120.0  # how long a waiting build rides out a store that does not answer

TERMINAL: tuple[type[Payload], ...] = (RunCompleted, RunFailed)
# What ends a `build`'s wait: the run finished, or it stopped and waits for `--resume`.
ENDS_A_BUILD: tuple[type[Payload], ...] = (*TERMINAL, RunStopped)


class BusError(Exception):
    """The bus cannot go on (e.g. a handler failed and its RunFailed could not be stored)."""


class Bus(Protocol):
    async def start(self) -> None: ...

    async def submit(self, envelope: Envelope[Payload]) -> Envelope[Payload]: ...

    async def wait_for(
        self,
        run_id: str,
        types: Iterable[type[Payload]] = TERMINAL,
        timeout: float | None = None,
        *,
        after_seq: int = 0,
    ) -> Envelope[Payload]: ...

    async def resume(self, run_id: str | None = None) -> int: ...

    async def busy(self) -> bool: ...

    @property
    def stall_after_s(self) -> float: ...

    async def stop(self) -> None: ...


async def wait_for_event(
    log: EventLog, run_id: str, types: Iterable[type[Payload]], timeout: float | None,
    after_seq: int = 0, *, outage_s: float = STORE_OUTAGE_S,
) -> Envelope[Payload]:
    """First event of `run_id` after `after_seq` (already stored or still to come) of a
    class in `types`. A store that is unavailable (restarting) is waited for up to
    `outage_s` seconds at a time, then the stream is followed from where it was."""
    wanted = tuple(types)

    async def first_match() -> Envelope[Payload]:
        seen = after_seq
        down_since: float | None = None
        while True:
            try:
                async with contextlib.aclosing(log.subscribe(run_id, seen + 1)) as events:
                    async for env in events:
                        down_since = None
                        seen = env.seq
                        if isinstance(env.payload, wanted):
                            return env
                raise BusError(f"run {run_id}: event stream ended")  # never ends normally
            except StoreUnavailable as exc:
                now = time.monotonic()
                down_since = down_since or now
                if now - down_since > outage_s:
                    raise
                log_.warning("store_unavailable_waiting", run_id=run_id, error=str(exc))
                await asyncio.sleep(0.5)

    try:
        return await asyncio.wait_for(first_match(), timeout)
    except TimeoutError:
        names = ", ".join(sorted(type_name(t) for t in wanted))
        raise TimeoutError(f"run {run_id}: no {names} within {timeout:g} s") from None
