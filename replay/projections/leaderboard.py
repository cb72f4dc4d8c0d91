"""The leaderboard's facts: each model's per-item scores on the published benchmark, its
subtask per item, and when the model was released and evaluated.

Only the first answer of a model to a published item counts (a model asked twice reuses
its recorded answers anyway). The ranking with its bootstrap intervals is computed from
these facts by `replay.leaderboard`, which keeps the statistics out of every agent's import.
"""

from __future__ import annotations

from collections import defaultdict

import msgspec

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    BenchmarkPublished,
    Envelope,
    EvaluationFailed,
    EvaluationScored,
    ModelAnswered,
    ModelReleased,
    SampleRealized,
)


class ModelRecord(msgspec.Struct, kw_only=True):
    """What the log says about one model on this benchmark."""

    model: str
    source: str = ""
    released_at: float | None = None  # first listed by its source (or recorded on this run)
    evaluated_at: float | None = None  # its EvaluationScored (or EvaluationFailed)
    failed: str | None = None  # why, when every call failed
    accuracy: float | None = None  # as the Evaluator scored it


class Leaderboard(Projection):
    def __init__(self) -> None:
        self.published: frozenset[str] = frozenset()
        self.subtask_of: dict[str, str] = {}  # sample id -> subtask (latest realization)
        self.answers: defaultdict[str, dict[str, float]] = defaultdict(dict)  # model -> scores
        self.models: dict[str, ModelRecord] = {}

    def _record(self, model: str) -> ModelRecord:
        record = self.models.get(model)
        if record is None:
            record = self.models[model] = ModelRecord(model=model)
        return record

    @on(SampleRealized)
    def _realized(self, env: Envelope[SampleRealized]) -> None:
        self.subtask_of[env.payload.sample_id] = env.payload.item.subtask

    @on(BenchmarkPublished)
    def _published(self, env: Envelope[BenchmarkPublished]) -> None:
        if not self.published:
            self.published = frozenset(env.payload.sample_ids)

    @on(ModelReleased)
    def _released(self, env: Envelope[ModelReleased]) -> None:
        record = self._record(env.payload.model)
        if record.released_at is None:
            record.source = env.payload.source
            record.released_at = env.payload.discovered_at or env.time

    @on(ModelAnswered)
    def _answered(self, env: Envelope[ModelAnswered]) -> None:
        p = env.payload
        if p.sample_id in self.published:
            self.answers[p.model].setdefault(p.sample_id, p.score)

    @on(EvaluationScored)
    def _scored(self, env: Envelope[EvaluationScored]) -> None:
        record = self._record(env.payload.model)
        if record.evaluated_at is None:
            record.evaluated_at = env.time
            record.accuracy = env.payload.accuracy

    @on(EvaluationFailed)
    def _failed(self, env: Envelope[EvaluationFailed]) -> None:
        record = self._record(env.payload.model)
        if record.evaluated_at is None and record.failed is None:
            record.evaluated_at = env.time
            record.failed = env.payload.reason

    def scores(self, model: str, subtask: str | None = None) -> list[float]:
        """The model's item scores, in sample id order (one subtask's, if named)."""
        answered = self.answers.get(model, {})
        return [answered[sid] for sid in sorted(answered)
                if subtask is None or self.subtask_of.get(sid) == subtask]

    def subtasks(self) -> list[str]:
        return sorted({self.subtask_of[sid] for sid in self.published if sid in self.subtask_of})

    def solved_by_all(self, models: list[str]) -> list[str]:
        """Published items every one of `models` answered with full marks."""
        if not models:
            return []
        return sorted(sid for sid in self.published
                      if all(self.answers.get(m, {}).get(sid) == 1.0 for m in models))
