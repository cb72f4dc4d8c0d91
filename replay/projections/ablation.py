"""Whether the run is a variant of an ablation (`benchagent ablate`), and its siblings."""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import AblationLinked, Envelope


class AblationLink(Projection):
    def __init__(self) -> None:
        self.event: Envelope[AblationLinked] | None = None  # the first

    @on(AblationLinked)
    def _linked(self, env: Envelope[AblationLinked]) -> None:
        if self.event is None:
            self.event = env

    @property
    def payload(self) -> AblationLinked | None:
        return self.event.payload if self.event is not None else None
