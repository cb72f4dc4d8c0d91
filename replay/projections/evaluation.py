"""Evaluations of the published benchmark: models released on it, the requests, the scores
(or failures) of each request, and each model's answer to each item (the latest)."""

from __future__ import annotations

from collections import defaultdict

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    Envelope,
    EvaluationFailed,
    EvaluationRequested,
    EvaluationScored,
    ModelAnswered,
    ModelReleased,
)


class Evaluations(Projection):
    def __init__(self) -> None:
        self.requests: dict[str, Envelope[EvaluationRequested]] = {}  # by event id, in order
        self.scored: defaultdict[str, list[Envelope[EvaluationScored]]] = defaultdict(list)
        self.scores: list[EvaluationScored] = []  # every model scored, in log order
        # model -> sample id -> its latest answer (answers are reused, so they agree)
        self.answers: defaultdict[str, dict[str, ModelAnswered]] = defaultdict(dict)
        self.expected_order: list[str] = []  # the latest --expect-order
        self.released: dict[str, Envelope[ModelReleased]] = {}  # by model spec, the first
        self.failed: dict[str, Envelope[EvaluationFailed]] = {}  # by model spec, the first

    @on(EvaluationRequested)
    def _requested(self, env: Envelope[EvaluationRequested]) -> None:
        self.requests.setdefault(env.event_id, env)
        if env.payload.expected_order:
            self.expected_order = list(env.payload.expected_order)

    @on(EvaluationScored)
    def _scored(self, env: Envelope[EvaluationScored]) -> None:
        self.scored[env.causation_id or ""].append(env)
        self.scores.append(env.payload)

    @on(ModelAnswered)
    def _answered(self, env: Envelope[ModelAnswered]) -> None:
        self.answers[env.payload.model][env.payload.sample_id] = env.payload

    @on(ModelReleased)
    def _released(self, env: Envelope[ModelReleased]) -> None:
        self.released.setdefault(env.payload.model, env)

    @on(EvaluationFailed)
    def _failed(self, env: Envelope[EvaluationFailed]) -> None:
        self.failed.setdefault(env.payload.model, env)

    def scores_for(self, request_id: str) -> list[EvaluationScored]:
        """The models scored in answer to one request, in log order."""
        return [env.payload for env in self.scored.get(request_id, [])]

    def key_env(self, model: str) -> str | None:
        """The key variable the watcher named for a released model (None: the run's own)."""
        released = self.released.get(model)
        return released.payload.key_env or None if released is not None else None

    def settled(self, model: str) -> bool:
        """Whether the model has a score or a recorded failure on this benchmark."""
        return model in self.failed or any(s.model == model for s in self.scores)
