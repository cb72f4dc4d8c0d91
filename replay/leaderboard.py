"""A benchmark's leaderboard: its models ranked by accuracy, each with a bootstrap interval
(`replay.quality.stats.accuracy_interval`, seeded: the same log gives the same table), per
subtask, with when the model was released and evaluated.

Read from the run's `Leaderboard` projection. A model that failed every call is listed
after the ranked ones with its reason; one released and not yet evaluated, as pending.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from replay.projections import RunState
from replay.quality.stats import CONFIDENCE, accuracy_interval

Status = Literal["scored", "failed", "pending"]


class Score(msgspec.Struct, frozen=True, kw_only=True):
    accuracy: float
    low: float
    high: float
    n: int
    warning: str | None = None


class Standing(msgspec.Struct, frozen=True, kw_only=True):
    rank: int | None  # None: failed or pending
    model: str
    status: Status
    overall: Score | None = None
    per_subtask: dict[str, Score] = {}
    source: str = ""
    released_at: str | None = None  # ISO 8601, UTC
    evaluated_at: str | None = None
    reason: str | None = None  # why it failed


class Table(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    items: int
    subtasks: list[str]
    confidence: float
    standings: list[Standing]


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _score(scores: list[float], confidence: float) -> Score | None:
    if not scores:
        return None
    i = accuracy_interval(scores, confidence=confidence)
    return Score(accuracy=round(i.estimate, 6), low=round(i.low, 6), high=round(i.high, 6),
                 n=i.n, warning=i.warning)


def leaderboard(state: RunState, confidence: float = CONFIDENCE) -> Table:
    """The run's leaderboard (empty standings before any model is evaluated)."""
    board = state.leaderboard
    subtasks = board.subtasks()
    scored: list[Standing] = []
    others: list[Standing] = []
    for model, record in board.models.items():
        base = Standing(rank=None, model=model, status="pending", source=record.source,
                        released_at=_iso(record.released_at),
                        evaluated_at=_iso(record.evaluated_at))
        overall = _score(board.scores(model), confidence)
        if record.failed is not None:
            others.append(msgspec.structs.replace(base, status="failed", reason=record.failed))
        elif overall is None:
            others.append(base)
        else:
            per = {s: sc for s in subtasks
                   if (sc := _score(board.scores(model, s), confidence)) is not None}
            scored.append(msgspec.structs.replace(base, rank=0, status="scored", overall=overall,
                                                  per_subtask=per))
    scored.sort(key=lambda s: (-(s.overall.accuracy if s.overall else 0.0), s.model))
    ranked = [msgspec.structs.replace(s, rank=i + 1) for i, s in enumerate(scored)]
    return Table(run_id=state.run_id, items=len(board.published), subtasks=subtasks,
                 confidence=confidence, standings=ranked + sorted(others, key=lambda s: s.model))
