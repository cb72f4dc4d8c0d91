"""The watcher's own stream (`benchagent watch`): the models each source lists, as far as
the watcher has seen, and what the day's budget stopped.

A model is active from its `ModelDiscovered` until its `ModelWithdrawn`; listed again, it
is discovered anew (its next appearance). This is all the watcher remembers about its
sources: a restarted watcher folds it and compares it with what the sources list now.
"""

from __future__ import annotations

import msgspec

from replay.projections.base import Projection
from store.dispatch import on
from store.events import BudgetExhausted, Envelope, ModelDiscovered, ModelWithdrawn


class WatchedModel(msgspec.Struct, kw_only=True):
    source: str
    model: str
    key_env: str
    appearance: int
    active: bool
    discovered_at: float  # the first appearance


class WatchStream(Projection):
    def __init__(self) -> None:
        self.models: dict[tuple[str, str], WatchedModel] = {}  # by (source, model), in order
        self.budget_stops: list[Envelope[BudgetExhausted]] = []

    @on(ModelDiscovered)
    def _discovered(self, env: Envelope[ModelDiscovered]) -> None:
        p = env.payload
        known = self.models.get((p.source, p.model))
        if known is None:
            self.models[(p.source, p.model)] = WatchedModel(
                source=p.source, model=p.model, key_env=p.key_env, appearance=p.appearance,
                active=True, discovered_at=env.time)
        elif p.appearance > known.appearance:
            known.appearance, known.active, known.key_env = p.appearance, True, p.key_env

    @on(ModelWithdrawn)
    def _withdrawn(self, env: Envelope[ModelWithdrawn]) -> None:
        known = self.models.get((env.payload.source, env.payload.model))
        if known is not None and known.appearance == env.payload.appearance:
            known.active = False

    @on(BudgetExhausted)
    def _budget(self, env: Envelope[BudgetExhausted]) -> None:
        self.budget_stops.append(env)

    def of_source(self, source: str) -> list[WatchedModel]:
        return [m for m in self.models.values() if m.source == source]

    def active(self) -> list[WatchedModel]:
        """Models listed now, one per spec (the first source that listed it), in order."""
        seen: dict[str, WatchedModel] = {}
        for m in self.models.values():
            if m.active:
                seen.setdefault(m.model, m)
        return list(seen.values())
