"""What the run was asked for: its first event, `RunRequested` (settings, models, pools)."""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, RunRequested


class RunRequest(Projection):
    def __init__(self, run_id: str = "") -> None:
        self.run_id = run_id
        self.event: Envelope[RunRequested] | None = None

    @on(RunRequested)
    def _requested(self, env: Envelope[RunRequested]) -> None:
        if self.event is None:
            self.event = env

    @property
    def payload(self) -> RunRequested:
        """The request; `LookupError` if the log has none (not a run)."""
        if self.event is None:
            raise LookupError(f"run {self.run_id or '?'} has no RunRequested event")
        return self.event.payload
