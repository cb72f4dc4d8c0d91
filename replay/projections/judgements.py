"""The judge's verdicts on the benchmark: requests, item judgements, UIA, failures.

A `JudgeRequested` is answered by one batch: an `ItemJudged` per item judged, then the
`BenchmarkJudged` that closes it (or a `JudgingFailed`). The latest closed request is the
run's current judgement (what the report shows); every earlier one stays in the log.
"""

from __future__ import annotations

from collections import defaultdict

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    BenchmarkJudged,
    Envelope,
    ItemJudged,
    JudgeRequested,
    JudgingFailed,
)


class Judgements(Projection):
    def __init__(self) -> None:
        self.requests: dict[str, Envelope[JudgeRequested]] = {}  # by event id, in order
        self.items: defaultdict[str, dict[str, Envelope[ItemJudged]]] = defaultdict(dict)
        self.closed: dict[str, Envelope[BenchmarkJudged]] = {}  # request id -> its UIA
        self.failed: dict[str, Envelope[JudgingFailed]] = {}  # request id -> the failure
        self.latest_id: str | None = None  # the request closed last

    @on(JudgeRequested)
    def _requested(self, env: Envelope[JudgeRequested]) -> None:
        self.requests.setdefault(env.event_id, env)

    @on(ItemJudged)
    def _item(self, env: Envelope[ItemJudged]) -> None:
        self.items[env.causation_id or ""].setdefault(env.payload.sample_id, env)

    @on(BenchmarkJudged)
    def _benchmark(self, env: Envelope[BenchmarkJudged]) -> None:
        request = env.causation_id or ""
        if request not in self.closed:
            self.closed[request] = env
            self.latest_id = request

    @on(JudgingFailed)
    def _failed(self, env: Envelope[JudgingFailed]) -> None:
        self.failed.setdefault(env.causation_id or "", env)

    def finished(self, request_id: str) -> bool:
        return request_id in self.closed or request_id in self.failed

    @property
    def latest(self) -> Envelope[BenchmarkJudged] | None:
        """The UIA of the request closed last (the run's current judgement)."""
        return self.closed.get(self.latest_id) if self.latest_id is not None else None

    def latest_items(self) -> dict[str, ItemJudged]:
        """Sample id -> item judgement of the request closed last."""
        if self.latest_id is None:
            return {}
        return {sid: env.payload for sid, env in self.items[self.latest_id].items()}

    def of_sample(self, sample_id: str) -> list[Envelope[ItemJudged]]:
        """Every judgement of one sample, in log order (one per request that judged it)."""
        found = [by_sample[sample_id] for by_sample in self.items.values()
                 if sample_id in by_sample]
        return sorted(found, key=lambda env: env.seq)
