"""The NATS subject names of the event log, in one place (the log and the NATS bus use them).

    bench.>                     the stream's subjects
    bench.<run_id>.<EventType>  one event (EventType = `store.events.type_name`)
    bench.<run_id>.>            every event of one run
    bench.*.<EventType>         one event type in every run (a role's consumer filter)
"""

from __future__ import annotations

from store.events import Payload, type_name

SUBJECT_ROOT = "bench"


def stream_subjects() -> list[str]:
    return [f"{SUBJECT_ROOT}.>"]


def event_subject(run_id: str, type_: str) -> str:
    return f"{SUBJECT_ROOT}.{run_id}.{type_}"


def run_subjects(run_id: str) -> str:
    return f"{SUBJECT_ROOT}.{run_id}.>"


def run_wildcard(run_id: str) -> str:
    """Every event of one run, as one token (what an expected-last-subject check takes)."""
    return f"{SUBJECT_ROOT}.{run_id}.*"


def type_filter(event_type: type[Payload]) -> str:
    """One event class in every run."""
    return f"{SUBJECT_ROOT}.*.{type_name(event_type)}"
