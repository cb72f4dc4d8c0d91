"""Where a benchmark stands in its lineage: the run it refreshes (if any) and the items it
must not reuse, and whether it has saturated.

A refresh (`RefreshRequested`, recorded with the run's first event) names its parent, the
lineage's first run and its version; a run without one is version 1 of its own lineage.
"""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import BenchmarkSaturated, Envelope, RefreshRequested


class Lineage(Projection):
    def __init__(self) -> None:
        self.refresh: Envelope[RefreshRequested] | None = None
        self._excluded: dict[str, frozenset[str]] = {}
        self.saturations: list[Envelope[BenchmarkSaturated]] = []

    @on(RefreshRequested)
    def _refresh(self, env: Envelope[RefreshRequested]) -> None:
        if self.refresh is None:
            self.refresh = env
            self._excluded = {d: frozenset(ids) for d, ids in env.payload.excluded.items()}

    @on(BenchmarkSaturated)
    def _saturated(self, env: Envelope[BenchmarkSaturated]) -> None:
        self.saturations.append(env)

    @property
    def parent(self) -> str | None:
        return self.refresh.payload.parent_run if self.refresh is not None else None

    @property
    def version(self) -> int:
        return self.refresh.payload.version if self.refresh is not None else 1

    def excluded(self, dataset_id: str) -> frozenset[str]:
        """Source items of `dataset_id` the parent used: a refresh draws none of them."""
        return self._excluded.get(dataset_id, frozenset())

    def separating_models(self) -> list[str]:
        """Models an item must not be solved by all of (empty: no separation check)."""
        return list(self.refresh.payload.separate) if self.refresh is not None else []
