"""People's marks: the latest `HumanReviewed` of each item (a re-import with changed marks
replaces the earlier ones; importing the same sheet again adds nothing)."""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, HumanReviewed


class HumanReviews(Projection):
    def __init__(self) -> None:
        self.latest: dict[str, Envelope[HumanReviewed]] = {}  # by sample id

    @on(HumanReviewed)
    def _reviewed(self, env: Envelope[HumanReviewed]) -> None:
        self.latest[env.payload.sample_id] = env
