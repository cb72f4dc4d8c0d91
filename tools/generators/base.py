"""What a procedural generator is (BenchAgents: parameters and constraints →
generation → verification checks → metrics).

A generator is correct by construction: its answer comes from its own solver
or construction, never from a model. Each one also carries a dataset card in
the General-Bench format, so the Grounding agent finds it in the pool like any
other dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import msgspec


class ParamSpec(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind: str  # int | float | bool | choice | list
    low: float | None = None
    high: float | None = None
    choices: list[Any] | None = None
    default: Any = None
    description: str = ""


class Instance(msgspec.Struct, frozen=True, kw_only=True):
    """One generated problem: its parameters, content and the true answer."""

    generator: str
    seed: int
    params: dict[str, Any]
    content: dict[str, Any]  # generator-specific problem data (JSON-able)
    answer: Any
    complexity: float


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    check: str  # feasibility | consistency | complexity | ...
    passed: bool
    reason: str


class Score(msgspec.Struct, frozen=True, kw_only=True):
    correct: bool
    score: float  # in [0, 1]
    detail: dict[str, Any] = {}


class RenderedItem(msgspec.Struct, frozen=True, kw_only=True):
    """An instance as a benchmark item; media are files written under the workspace."""

    input: str
    target: str
    choices: list[str] | None = None
    media: list[str] = []  # paths relative to the workspace
    metadata: dict[str, Any] = {}


class ParamError(ValueError):
    """A parameter is unknown or out of its range; the message names it and the range."""


class Generator(Protocol):
    name: str
    version: str
    params: list[ParamSpec]

    def card(self) -> dict[str, Any]:
        """A General-Bench-format dataset card (dataset_id 'gen-<name>')."""
        ...

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        """Same seed and params → same instance. Raises ParamError when out of range."""
        ...

    def verify(self, instance: Instance) -> list[CheckResult]: ...

    def score(self, instance: Instance, answer: str) -> Score: ...

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem: ...
