"""Distinct unsequenced events for store tests and the store perf script."""

from __future__ import annotations

from store import events as ev
from store.events import Envelope, new_event


def make_events(run_id: str, n: int, start: int = 0, pad: int = 0) -> list[Envelope]:
    """`n` distinct unsequenced events of `run_id`, keyed `start..start+n-1`."""
    return [
        new_event(run_id, "tester", ev.ModelReleased(model=f"model-{i}" + "x" * pad), key=str(i))
        for i in range(start, start + n)
    ]
