"""Evaluations of the published benchmark: the requests, the scores of each request, and
each model's answer to each item (the latest)."""

from __future__ import annotations

from collections import defaultdict

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, EvaluationRequested, EvaluationScored, ModelAnswered


class Evaluations(Projection):
    def __init__(self) -> None:
        self.requests: dict[str, Envelope[EvaluationRequested]] = {}  # by event id, in order
        self.scored: defaultdict[str, list[Envelope[EvaluationScored]]] = defaultdict(list)
        self.scores: list[EvaluationScored] = []  # every model scored, in log order
        # model -> sample id -> its latest answer (answers are reused, so they agree)
        self.answers: defaultdict[str, dict[str, ModelAnswered]] = defaultdict(dict)
        self.expected_order: list[str] = []  # the latest --expect-order

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

    def scores_for(self, request_id: str) -> list[EvaluationScored]:
        """The models scored in answer to one request, in log order."""
        return [env.payload for env in self.scored.get(request_id, [])]
