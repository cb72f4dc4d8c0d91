"""`RunState`: every projection of one run, each event folded once into all of them.

Agents read it through `await ctx.state()` (one per run per process, folded
incrementally as the history grows, shared by the agents of the process); the
progress display, `runs`, `audit`, `eval`, the run outcome and the benchmark files
fold the same projections over the events they read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from replay.projections.ablation import AblationLink
from replay.projections.approval import PlanApproval
from replay.projections.base import Fold, Projection
from replay.projections.design import DesignRounds
from replay.projections.evaluation import Evaluations
from replay.projections.fates import SampleFates
from replay.projections.grounding import GroundingRounds
from replay.projections.judgements import Judgements
from replay.projections.leaderboard import Leaderboard
from replay.projections.lineage import Lineage
from replay.projections.llm_usage import LlmUsage
from replay.projections.media import Media
from replay.projections.publication import Publication
from replay.projections.request import RunRequest
from replay.projections.reviews import HumanReviews
from replay.projections.samples import Samples
from replay.projections.slots import SpecSlots
from replay.projections.status import RunStatus
from replay.projections.synthesis import Synthesis
from store.events import Envelope, Payload, Subtask

Stage = Literal["design", "grounding", "allocation", "approval", "realization", "evaluation",
                "completed", "failed"]


class RunState:
    """The projections of one run, up to `last_seq`."""

    def __init__(self, run_id: str = "") -> None:
        self.run_id = run_id
        self.last_seq = 0
        self.request = RunRequest(run_id)
        self.design = DesignRounds()
        self.grounding = GroundingRounds()
        self.synthesis = Synthesis()
        self.approval = PlanApproval()
        self.slots = SpecSlots()
        self.samples = Samples()
        self.fates = SampleFates()
        self.media = Media()
        self.publication = Publication()
        self.evaluations = Evaluations()
        self.llm = LlmUsage()
        self.status = RunStatus()
        self.judgements = Judgements()
        self.reviews = HumanReviews()
        self.ablation = AblationLink()
        self.lineage = Lineage()
        self.leaderboard = Leaderboard()
        projections: list[Projection] = [
            self.request, self.design, self.grounding, self.synthesis, self.approval, self.slots,
            self.samples, self.fates, self.media, self.publication, self.evaluations, self.llm,
            self.status, self.judgements, self.reviews, self.ablation, self.lineage, self.leaderboard]
        self._folds: dict[type[Payload], list[Fold]] = {}
        for projection in projections:
            for event_type, fold in projection.bound_folds().items():
                self._folds.setdefault(event_type, []).append(fold)

    @classmethod
    def of(cls, events: Sequence[Envelope[Payload]], run_id: str = "") -> RunState:
        """The state after `events` (all of them, whatever their seq)."""
        state = cls(run_id)
        for env in events:
            state.fold(env)
        return state

    def fold(self, env: Envelope[Payload]) -> None:
        self.last_seq = env.seq
        for fold in self._folds.get(type(env.payload), ()):
            fold(env)

    def catch_up(self, history: Sequence[Envelope[Payload]]) -> RunState:
        """Fold the events of `history` (the run's events in seq order) not folded yet."""
        start = self.last_seq
        # The log's seqs are gapless from 1, so the unseen events start at index last_seq.
        if start < len(history) and history[start].seq == start + 1:
            tail = history[start:]
        else:
            tail = [e for e in history if e.seq > start]
        for env in tail:
            self.fold(env)
        return self

    def subtasks(self) -> list[Subtask]:
        """The subtasks the benchmark is built for: the spec's, else the last accepted
        design's."""
        spec = self.slots.spec_payload
        if spec is not None:
            return list(spec.subtasks)
        if self.design.accepted:
            return list(self.design.accepted[max(self.design.accepted)].payload.subtasks)
        return []

    def stage(self) -> Stage:
        """The pipeline stage the run has reached (for progress displays)."""
        if self.status.failed is not None:
            return "failed"
        if self.status.completed is not None:
            return "completed"
        if self.publication.event is not None:
            return "evaluation"
        if self.slots.spec is not None:
            return "realization"
        if self.approval.proposed is not None:
            return "approval"
        if self.grounding.grounded:
            return "allocation"
        if self.design.accepted:
            return "grounding"
        return "design"
