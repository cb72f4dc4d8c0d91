"""The design rounds: candidate subtasks proposed and the subtasks accepted, by round."""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import DesignAccepted, Envelope, SubtasksProposed


class DesignRounds(Projection):
    def __init__(self) -> None:
        self.proposed: dict[int, Envelope[SubtasksProposed]] = {}  # the first of each round
        self.accepted: dict[int, Envelope[DesignAccepted]] = {}  # the first of each round

    @on(SubtasksProposed)
    def _proposed(self, env: Envelope[SubtasksProposed]) -> None:
        self.proposed.setdefault(env.payload.round, env)

    @on(DesignAccepted)
    def _accepted(self, env: Envelope[DesignAccepted]) -> None:
        self.accepted.setdefault(env.payload.round, env)
