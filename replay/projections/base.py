"""A projection: one question about a run, answered by folding its events in seq order.

A projection class marks one fold method per event class it reads with
`@on(EventClass)` (store/dispatch.py, the same marker the agents' handlers use);
folding an event of another class is a no-op. Folds are synchronous and pure (the
event in, the projection's own fields updated), so a projection shared by concurrent
handlers is never seen half-updated, and any process folding the same log gets the
same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

from store.dispatch import handler_table
from store.events import Envelope, Payload

Fold = Callable[[Envelope[Any]], None]


class Projection:
    """Base of the projections: `@on` fold methods, `fold` one event, `of` a whole log."""

    _folds: ClassVar[dict[type[Payload], str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._folds = handler_table(cls)

    def bound_folds(self) -> dict[type[Payload], Fold]:
        """This projection's fold method for each event class it reads."""
        return {event_type: getattr(self, name) for event_type, name in self._folds.items()}

    def fold(self, env: Envelope[Payload]) -> None:
        name = self._folds.get(type(env.payload))
        if name is not None:
            getattr(self, name)(env)

    @classmethod
    def of(cls, events: Iterable[Envelope[Payload]]) -> Self:
        """A fresh projection folded over `events`."""
        projection = cls()
        for env in events:
            projection.fold(env)
        return projection
