"""Where the run stands and how it ended: completed or failed (and why), samples short of
the quota, and the outcome `benchagent build` reports."""

from __future__ import annotations

from typing import Literal

import msgspec

from replay.projections.base import Projection
from store.dispatch import on
from store.events import BenchmarkPublished, Envelope, QuotaShortfall, RunCompleted, RunFailed

Milestone = Literal["running", "published", "completed", "failed"]


class RunOutcome(msgspec.Struct, kw_only=True):
    run_id: str
    status: Literal["running", "completed", "failed"]
    out_dir: str | None = None
    accepted: int = 0
    rejected: int = 0
    shortfall: int = 0
    content_hash: str | None = None
    stage: str | None = None
    reason: str | None = None


class RunStatus(Projection):
    def __init__(self) -> None:
        self.completed: Envelope[RunCompleted] | None = None  # the first
        self.failed: Envelope[RunFailed] | None = None  # the first
        self.shortfall = 0  # samples reported missing, over every QuotaShortfall
        self.milestone: Milestone = "running"  # the latest of published, completed, failed

    @on(RunCompleted)
    def _completed(self, env: Envelope[RunCompleted]) -> None:
        self.completed = self.completed or env
        self.milestone = "completed"

    @on(RunFailed)
    def _failed(self, env: Envelope[RunFailed]) -> None:
        self.failed = self.failed or env
        self.milestone = "failed"

    @on(BenchmarkPublished)
    def _published(self, env: Envelope[BenchmarkPublished]) -> None:
        self.milestone = "published"

    @on(QuotaShortfall)
    def _short(self, env: Envelope[QuotaShortfall]) -> None:
        self.shortfall += env.payload.missing

    @property
    def finished(self) -> bool:
        return self.completed is not None or self.failed is not None

    def outcome(self, run_id: str) -> RunOutcome:
        """A failure wins over a completion; neither: still running."""
        if self.failed is not None:
            failed = self.failed.payload
            return RunOutcome(run_id=run_id, status="failed", stage=failed.stage,
                              reason=failed.reason, shortfall=self.shortfall)
        if self.completed is None:
            return RunOutcome(run_id=run_id, status="running", shortfall=self.shortfall)
        done = self.completed.payload
        return RunOutcome(run_id=run_id, status="completed", accepted=done.accepted,
                          rejected=done.rejected, content_hash=done.content_hash,
                          shortfall=self.shortfall)
