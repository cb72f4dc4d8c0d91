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
- `resume(run_id=None)`: for each unfinished run that is not stopped (no
  `RunCompleted`/`RunFailed`, no `RunStopped` without a later `RunResumed`; every
  such run when `run_id` is None), re-deliver every event that a role of this
  bus handles and for which that role recorded no reaction (no event with
  `causation_id == event.event_id and agent == role`). Returns how many
  (event, role) deliveries were made. Harmless if repeated: dedup.
- `stop()`: stop taking new events, let handlers in flight finish (events not
  yet handled stay in the log for `resume`/redelivery), release connections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import Protocol

from store.events import Envelope, Payload, RunCompleted, RunFailed, RunStopped, type_name
from store.log import EventLog

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

    async def stop(self) -> None: ...


async def wait_for_event(
    log: EventLog, run_id: str, types: Iterable[type[Payload]], timeout: float | None,
    after_seq: int = 0,
) -> Envelope[Payload]:
    """First event of `run_id` after `after_seq` (already stored or still to come) of a
    class in `types`."""
    wanted = tuple(types)

    async def first_match() -> Envelope[Payload]:
        async with contextlib.aclosing(log.subscribe(run_id, after_seq + 1)) as events:
            async for env in events:
                if isinstance(env.payload, wanted):
                    return env
        raise BusError(f"run {run_id}: event stream ended")  # subscribe never ends normally

    try:
        return await asyncio.wait_for(first_match(), timeout)
    except TimeoutError:
        names = ", ".join(sorted(type_name(t) for t in wanted))
        raise TimeoutError(f"run {run_id}: no {names} within {timeout:g} s") from None
