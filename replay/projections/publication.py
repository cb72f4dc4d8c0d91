"""The published benchmark: the first `BenchmarkPublished` (one per run, by its event id)."""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import BenchmarkPublished, Envelope


class Publication(Projection):
    def __init__(self) -> None:
        self.event: Envelope[BenchmarkPublished] | None = None

    @on(BenchmarkPublished)
    def _published(self, env: Envelope[BenchmarkPublished]) -> None:
        if self.event is None:
            self.event = env

    @property
    def payload(self) -> BenchmarkPublished | None:
        return self.event.payload if self.event is not None else None
