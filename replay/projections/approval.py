"""The developer in the loop: the spec a `--plan-only` run proposes, the user's edits and
approval, and whether the run waits for them."""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, GeneratorsRevised, PlanEdited, SpecApproved, SpecProposed


class PlanApproval(Projection):
    def __init__(self) -> None:
        self.proposed: Envelope[SpecProposed] | None = None  # the first
        self.edits: list[Envelope[PlanEdited]] = []
        self.approved: Envelope[SpecApproved] | None = None  # the first
        self.revised: Envelope[GeneratorsRevised] | None = None  # the first

    @on(SpecProposed)
    def _proposed(self, env: Envelope[SpecProposed]) -> None:
        self.proposed = self.proposed or env

    @on(PlanEdited)
    def _edited(self, env: Envelope[PlanEdited]) -> None:
        if self.approved is None:  # edits count only until the approval
            self.edits.append(env)

    @on(SpecApproved)
    def _approved(self, env: Envelope[SpecApproved]) -> None:
        self.approved = self.approved or env

    @on(GeneratorsRevised)
    def _revised(self, env: Envelope[GeneratorsRevised]) -> None:
        self.revised = self.revised or env

    @property
    def waiting(self) -> bool:
        """The run proposed its spec and waits for the developer's approval."""
        return self.proposed is not None and self.approved is None
