"""The samples: each one's realized item (the latest: a repair re-realizes it), the checks it
went through, the repair asked for it, and its verdict."""

from __future__ import annotations

from collections import defaultdict

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    Envelope,
    RepairRequested,
    SampleAccepted,
    SampleChecked,
    SampleRealized,
    SampleRejected,
)


class Samples(Projection):
    def __init__(self) -> None:
        self.realized: dict[str, Envelope[SampleRealized]] = {}  # the latest per sample
        self.checked: defaultdict[str, list[Envelope[SampleChecked]]] = defaultdict(list)
        self.repairs: dict[str, Envelope[RepairRequested]] = {}
        self.accepted: dict[str, Envelope[SampleAccepted]] = {}  # the first verdict counts
        self.rejected: dict[str, Envelope[SampleRejected]] = {}

    @on(SampleRealized)
    def _realized(self, env: Envelope[SampleRealized]) -> None:
        self.realized[env.payload.sample_id] = env

    @on(SampleChecked)
    def _checked(self, env: Envelope[SampleChecked]) -> None:
        self.checked[env.payload.sample_id].append(env)

    @on(RepairRequested)
    def _repair(self, env: Envelope[RepairRequested]) -> None:
        self.repairs.setdefault(env.payload.sample_id, env)

    @on(SampleAccepted)
    def _accepted(self, env: Envelope[SampleAccepted]) -> None:
        self.accepted.setdefault(env.payload.sample_id, env)

    @on(SampleRejected)
    def _rejected(self, env: Envelope[SampleRejected]) -> None:
        self.rejected.setdefault(env.payload.sample_id, env)

    def decided(self, sample_id: str) -> bool:
        """Whether the sample got its verdict (accepted or rejected)."""
        return sample_id in self.accepted or sample_id in self.rejected
