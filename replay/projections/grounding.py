"""Grounding, by design round: the subtasks that failed, the rounds grounded, the plans and
their Score-and-Filter scores."""

from __future__ import annotations

from collections import defaultdict

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    DatasetsSearched,
    Envelope,
    GroundingFailed,
    PlanProposed,
    PlanScored,
    SubtasksGrounded,
    TransformationPlan,
)


class GroundingRounds(Projection):
    def __init__(self) -> None:
        self.failed: defaultdict[int, list[Envelope[GroundingFailed]]] = defaultdict(list)
        self.grounded: dict[int, Envelope[SubtasksGrounded]] = {}  # the first of each round
        self.plans: dict[str, TransformationPlan] = {}  # every plan proposed, by id
        self.plan_reasons: dict[str, str] = {}  # why each was proposed, by plan id
        self.dataset_names: dict[str, str] = {}  # dataset id -> name, from the searches
        self.scores: dict[str, PlanScored] = {}  # plan id -> its (first) score

    @on(GroundingFailed)
    def _failed(self, env: Envelope[GroundingFailed]) -> None:
        self.failed[env.payload.round].append(env)

    @on(SubtasksGrounded)
    def _grounded(self, env: Envelope[SubtasksGrounded]) -> None:
        self.grounded.setdefault(env.payload.round, env)

    @on(DatasetsSearched)
    def _searched(self, env: Envelope[DatasetsSearched]) -> None:
        for hit in env.payload.hits:
            self.dataset_names.setdefault(hit.dataset_id, hit.name)

    @on(PlanScored)
    def _scored(self, env: Envelope[PlanScored]) -> None:
        self.scores.setdefault(env.payload.plan_id, env.payload)

    @on(PlanProposed)
    def _plan(self, env: Envelope[PlanProposed]) -> None:
        self.plans.setdefault(env.payload.plan.plan_id, env.payload.plan)
        self.plan_reasons.setdefault(env.payload.plan.plan_id, env.payload.reason)
