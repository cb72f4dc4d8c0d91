"""Which events still wait for a reaction: what `resume` re-delivers.

A role has reacted to an event when the log holds a decision emitted by that
role (`agent == role`) whose `causation_id` is the event's id; records of work
in progress (`LLMCallRecorded`, see `store.events.is_reaction`) do not count,
so a handler killed between an LLM call and its decisions is re-delivered. Re-delivering an
event that got a reaction would be harmless (dedup) but wasteful; one that got
none may have been lost with a crashed process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog

from bus.base import TERMINAL
from bus.context import HistoryCache
from store.events import Envelope, EventEnvelope, Payload, RunResumed, RunStopped, is_reaction
from store.log import EventLog, LogError

log = structlog.get_logger("bus")


def is_stopped(events: Sequence[Envelope[Payload]]) -> bool:
    """A run is stopped from its `RunStopped` until a later `RunResumed`: it waits for
    `benchagent build --resume`, and no worker takes it up on its own."""
    stopped = False
    for e in events:
        if isinstance(e.payload, RunStopped):
            stopped = True
        elif isinstance(e.payload, RunResumed):
            stopped = False
    return stopped


def unreacted(
    events: Sequence[Envelope[Payload]], roles_by_type: Mapping[type[Payload], Sequence[str]]
) -> list[tuple[str, Envelope[Payload]]]:
    """(role, event) pairs, in log order, where `role` handles the event but never reacted."""
    reacted = {(e.causation_id, e.agent) for e in events if is_reaction(e)}
    return [
        (role, e)
        for e in events
        for role in roles_by_type.get(type(e.payload), ())
        if (e.event_id, role) not in reacted
    ]


def still_open(events: Sequence[EventEnvelope]) -> list[EventEnvelope]:
    """The events that may still wait for a reaction: all of an unfinished run's; of a
    finished run, those recorded after its first terminal event (a published benchmark's
    later evaluations: `benchagent eval`, models released by the watcher), with the events
    they answer to."""
    end = next((i for i, e in enumerate(events) if isinstance(e.payload, TERMINAL)), None)
    if end is None:
        return list(events)
    return list(events[end + 1:])


async def unfinished_runs(
    event_log: EventLog, histories: HistoryCache, run_id: str | None
) -> list[list[EventEnvelope]]:
    """The open events (`still_open`) of each run that has some and is not stopped:
    `run_id`'s alone, or every run in the log.

    A named run that cannot be read raises; when scanning every run, one that
    cannot be read (e.g. a corrupt event) is logged and skipped, so that one bad
    run does not stop a worker from serving the others.
    """
    if run_id is not None:
        history = list(await histories.get(run_id).refresh())
        events = [] if is_stopped(history) else still_open(history)
        return [events] if events else []
    found = []
    for rid in await event_log.runs():
        try:
            history = list(await histories.get(rid).refresh())
        except LogError as exc:
            log.error("resume_skipped_run", run_id=rid, error=str(exc))
            continue
        events = [] if is_stopped(history) else still_open(history)
        if events:
            found.append(events)
    return found
