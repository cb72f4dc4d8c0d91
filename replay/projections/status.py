"""Where the run stands and how it ended: completed or failed (and why), stopped and waiting
for `--resume` (and why), stalled (no role had work and the run had not ended), samples short
of the quota, and the outcome `benchagent build` reports."""

from __future__ import annotations

from typing import Literal

import msgspec

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    BenchmarkPublished,
    Envelope,
    QuotaShortfall,
    RunCompleted,
    RunFailed,
    RunResumed,
    RunStalled,
    RunStopped,
)

Milestone = Literal["running", "published", "completed", "failed"]
Status = Literal["running", "stopped", "stalled", "completed", "failed"]


class RunOutcome(msgspec.Struct, kw_only=True):
    run_id: str
    status: Status
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
        self.stopped: Envelope[RunStopped] | None = None  # the first stop since the last resume
        self.stalled: Envelope[RunStalled] | None = None  # the latest, since the last resume
        self.resumes = 0  # RunResumed events so far
        self.resumed_seq = 0  # the seq of the latest RunResumed
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

    @on(RunStopped)
    def _stopped(self, env: Envelope[RunStopped]) -> None:
        self.stopped = self.stopped or env

    @on(RunStalled)
    def _stalled(self, env: Envelope[RunStalled]) -> None:
        self.stalled = env

    @on(RunResumed)
    def _resumed(self, env: Envelope[RunResumed]) -> None:
        self.stopped = None
        self.stalled = None
        self.resumes += 1
        self.resumed_seq = env.seq

    @on(BenchmarkPublished)
    def _published(self, env: Envelope[BenchmarkPublished]) -> None:
        self.milestone = "published"

    @on(QuotaShortfall)
    def _short(self, env: Envelope[QuotaShortfall]) -> None:
        self.shortfall += env.payload.missing

    @property
    def finished(self) -> bool:
        return self.completed is not None or self.failed is not None

    @property
    def status(self) -> Status:
        if self.failed is not None:
            return "failed"
        if self.completed is not None:
            return "completed"
        if self.stopped is not None:
            return "stopped"
        return "stalled" if self.stalled is not None else "running"

    def outcome(self, run_id: str) -> RunOutcome:
        """A failure wins over a completion; neither: stopped (resumable) or still running."""
        if self.failed is not None:
            failed = self.failed.payload
            return RunOutcome(run_id=run_id, status="failed", stage=failed.stage,
                              reason=failed.reason, shortfall=self.shortfall)
        if self.completed is None:
            if self.stopped is not None:
                stop = self.stopped.payload
                return RunOutcome(run_id=run_id, status="stopped", stage=stop.stage,
                                  reason=stop.reason, shortfall=self.shortfall)
            if self.stalled is not None:
                return RunOutcome(run_id=run_id, status="stalled", stage="cli",
                                  reason=self.stalled.payload.reason, shortfall=self.shortfall)
            return RunOutcome(run_id=run_id, status="running", shortfall=self.shortfall)
        done = self.completed.payload
        return RunOutcome(run_id=run_id, status="completed", accepted=done.accepted,
                          rejected=done.rejected, content_hash=done.content_hash,
                          shortfall=self.shortfall)
