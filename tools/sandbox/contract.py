"""The contract of a synthesized generator module, and the host's reading of what it returns.

A synthesized module exposes the `Generator` protocol of `tools.generators.base` as four
module-level functions on JSON data (the sandbox carries nothing else):

    sample(seed: int, params: dict) -> {"content": dict, "answer": JSON, "complexity": float}
    verify(instance: dict)          -> [{"check": str, "passed": bool, "reason": str}, ...]
    score(instance: dict, answer: str) -> {"correct": bool, "score": float, "detail": dict}
    render(instance: dict)          -> {"input": str, "target": str, "choices": [str] | None,
                                        "media": [file names written in the working directory]}

`instance` is an `Instance` as JSON (generator, seed, params, content, answer, complexity).
The host resolves the parameters (drawn from the plan's ranges, `param_sampling`) before
`sample` sees them, so a module never draws or validates its own parameters. The template
(`template.compose`) writes these four functions around the parts a model supplies.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tools.generators.base import CheckResult, Instance, Score

FUNCTIONS = ("sample", "verify", "score", "render")


class SampledPart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: dict[str, Any]
    answer: Any
    complexity: float


class RenderedPart(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    input: str
    target: str
    choices: list[str] | None = None
    media: list[str] = []


class ContractError(ValueError):
    """A function of the module returned something that is not what the contract says."""


def _convert(value: Any, kind: Any, what: str) -> Any:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        shown = repr(value)
        shown = shown if len(shown) <= 200 else shown[:200] + "..."
        raise ContractError(f"{what} returned {shown}: {exc}") from None


def read_sample(value: Any) -> SampledPart:
    part = _convert(value, SampledPart, "sample")
    if not 0.0 <= part.complexity <= 1.0:
        raise ContractError(f"sample returned complexity {part.complexity}, outside [0, 1]")
    return part


def read_checks(value: Any) -> list[CheckResult]:
    return _convert(value, list[CheckResult], "verify")


def read_score(value: Any) -> Score:
    score = _convert(value, Score, "score")
    if not 0.0 <= score.score <= 1.0:
        raise ContractError(f"score returned score {score.score}, outside [0, 1]")
    return score


def read_render(value: Any) -> RenderedPart:
    return _convert(value, RenderedPart, "render")


def make_instance(name: str, seed: int, params: dict[str, Any], part: SampledPart) -> Instance:
    return Instance(generator=name, seed=seed, params=params, content=part.content,
                    answer=part.answer, complexity=part.complexity)


def instance_payload(instance: Instance) -> dict[str, Any]:
    """The instance as the module's functions receive it."""
    payload: dict[str, Any] = msgspec.to_builtins(instance)
    return payload
