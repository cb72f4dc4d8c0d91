"""What became of each sample slot attempt, and why: what `benchagent audit` lists.

A sample is pending once assigned or realized; its fate is the latest of a repair
request, an acceptance or a rejection (with the failing check and the reason).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    Envelope,
    RepairRequested,
    SampleAccepted,
    SampleRealized,
    SampleRejected,
    SlotAssigned,
)

Fate = Literal["accepted", "rejected", "repaired", "pending"]


class SampleFate(msgspec.Struct, frozen=True, kw_only=True):
    sample_id: str
    subtask: str
    dataset_id: str
    source_item_id: str
    fate: Fate
    check: str = ""
    reason: str = ""


class SampleFates(Projection):
    def __init__(self) -> None:
        self.slots: dict[str, SlotAssigned] = {}
        self.latest: dict[str, tuple[Fate, str, str]] = {}  # sample id -> (fate, check, reason)

    @on(SlotAssigned)
    def _assigned(self, env: Envelope[SlotAssigned]) -> None:
        p = env.payload
        self.slots.setdefault(p.sample_id, p)
        self.latest.setdefault(p.sample_id, ("pending", "", ""))

    @on(SampleRealized)
    def _realized(self, env: Envelope[SampleRealized]) -> None:
        self.latest.setdefault(env.payload.sample_id, ("pending", "", ""))

    @on(RepairRequested)
    def _repair(self, env: Envelope[RepairRequested]) -> None:
        self.latest[env.payload.sample_id] = ("repaired", "", env.payload.reason)

    @on(SampleAccepted)
    def _accepted(self, env: Envelope[SampleAccepted]) -> None:
        self.latest[env.payload.sample_id] = ("accepted", "", env.payload.reason)

    @on(SampleRejected)
    def _rejected(self, env: Envelope[SampleRejected]) -> None:
        p = env.payload
        self.latest[p.sample_id] = ("rejected", p.check, p.reason)

    def fates(self) -> list[SampleFate]:
        """Every sample slot attempt with its fate, sorted by sample id."""
        out = []
        for sample_id in sorted(self.latest):
            slot = self.slots.get(sample_id)
            fate, check, reason = self.latest[sample_id]
            out.append(SampleFate(
                sample_id=sample_id,
                subtask=slot.subtask if slot else "",
                dataset_id=slot.dataset_id if slot else "",
                source_item_id=slot.source_item_id if slot else "",
                fate=fate, check=check, reason=reason,
            ))
        return out
