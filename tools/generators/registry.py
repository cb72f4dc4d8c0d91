"""Every built-in procedural generator, by name, imported lazily.

Each generator lives in `tools.generators.<name>` as a class whose `name`
attribute is that name. Modules are imported only when a generator is asked
for, so one missing or broken module (or a missing optional dependency) never
hides the others: `get_generator` names the problem, `generator_cards` skips
that card with a warning.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, cast

import structlog

from tools.generators.base import Generator

log = structlog.get_logger(__name__)

NAMES = ("calendar", "causal_physics", "proofs", "code_debugging", "speech_dialogue", "ba_text")


class GeneratorUnavailable(LookupError):
    """No such generator, or its module cannot be imported; the message says which and why."""


def _factory(name: str) -> Callable[[], Generator]:
    def make() -> Generator:
        module_name = f"{__package__}.{name}"
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # ImportError, or an error raised while importing it
            raise GeneratorUnavailable(
                f"generator {name!r} is unavailable: cannot import {module_name} ({exc})"
            ) from exc
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (cls.__module__ == module.__name__ and getattr(cls, "name", None) == name
                    and callable(getattr(cls, "sample", None))):
                return cast(Generator, cls())
        raise GeneratorUnavailable(f"generator {name!r}: {module_name} defines no class named "
                                   f"{name!r} with a sample() method")

    make.__name__ = f"make_{name}"
    return make


GENERATORS: dict[str, Callable[[], Generator]] = {name: _factory(name) for name in NAMES}
_INSTANCES: dict[str, Generator] = {}


def get_generator(name: str) -> Generator:
    """The generator called `name` (one shared instance per process)."""
    if name not in GENERATORS:
        raise GeneratorUnavailable(
            f"unknown generator {name!r}; known: {', '.join(sorted(GENERATORS))}")
    if name not in _INSTANCES:
        _INSTANCES[name] = GENERATORS[name]()
    return _INSTANCES[name]


def available_generators() -> list[str]:
    """Names of the generators whose modules import, in registry order."""
    names = []
    for name in GENERATORS:
        try:
            get_generator(name)
        except GeneratorUnavailable as exc:
            log.warning("generators.unavailable", generator=name, reason=str(exc))
            continue
        names.append(name)
    return names


def generator_cards() -> list[dict[str, Any]]:
    """The dataset cards of every available generator, in registry order."""
    cards = []
    for name in available_generators():
        try:
            cards.append(get_generator(name).card())
        except Exception as exc:  # one broken card must not hide the others
            log.warning("generators.card_failed", generator=name, reason=repr(exc))
    return cards
