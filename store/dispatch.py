"""Dispatch by event class: a method marked `@on(EventClass)` handles events of that class.

The agents (`agents.base.Agent`: async handlers of an event and a context) and the
projections (`replay.projections`: synchronous folds of an event) are classes whose
marked methods form their handler table, so what a class reacts to is written once, on
the method that reacts, and following an emitted event to its handler is one jump in an
editor. One method handles one event class; a class may not have two handlers for one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from store.events import Envelope, Payload

E = TypeVar("E", bound=Payload)
S = TypeVar("S")
R = TypeVar("R")
Params = ParamSpec("Params")
Handler = Callable[Concatenate[S, Envelope[E], Params], R]

_MARK = "__benchagent_handles__"


def on(
    event_type: type[E],
) -> Callable[[Handler[S, E, Params, R]], Handler[S, E, Params, R]]:
    """Mark a method as the handler of `event_type` (its second parameter: the envelope)."""
    if not (isinstance(event_type, type) and issubclass(event_type, Payload)):
        raise TypeError(f"@on takes an event payload class, not {event_type!r}")

    def mark(method: Handler[S, E, Params, R]) -> Handler[S, E, Params, R]:
        if hasattr(method, _MARK):
            raise TypeError(f"{method.__qualname__} already handles "
                            f"{getattr(method, _MARK).__name__}: one event class per handler")
        setattr(method, _MARK, event_type)
        return method

    return mark


def handler_table(cls: type) -> dict[type[Payload], str]:
    """Event class -> name of the method of `cls` that handles it (base classes included)."""
    table: dict[type[Payload], str] = {}
    for klass in reversed(cls.__mro__):  # a subclass's handler replaces its base's
        own: dict[type[Payload], str] = {}
        for name, member in vars(klass).items():
            event_type: Any = getattr(member, _MARK, None)
            if event_type is None:
                continue
            if event_type in own:
                raise TypeError(f"{klass.__name__}: both {own[event_type]} and {name} handle "
                                f"{event_type.__name__}")
            own[event_type] = name
        table.update(own)
    return table
