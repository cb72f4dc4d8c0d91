"""Resolving a generator's parameters against their `ParamSpec`s.

Given values are checked (unknown name, wrong type, out of range → `ParamError`
naming the parameter and its range). A parameter that is not given takes its
spec's `default`, or, when the default is None, is drawn from its range with
the instance's random generator (BenchAgents' `sample_parameters`), so the same
seed always draws the same values.

A drawn parameter that turns out not to fit the others is drawn again among
those that fit (`refit`); a given one is refused.

The instance itself is then built from `instance_rng(name, seed, values)`, a
stream that depends on the *resolved* values only: sampling with some
parameters left out and sampling again with the values they resolved to (as
the verifier and the scorer do from an item's metadata) give the same instance.
Generators that seed their own streams use `derived_seed`.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from tools.generators.base import ParamError, ParamSpec


def describe_range(spec: ParamSpec) -> str:
    """The allowed values of a parameter, for error messages and cards."""
    if spec.kind == "choice":
        return "one of " + ", ".join(repr(c) for c in spec.choices or [])
    if spec.kind == "bool":
        return "True or False"
    return f"[{spec.low:g}, {spec.high:g}]"


def check_value(spec: ParamSpec, value: Any) -> Any:
    """The value if it fits its spec, else ParamError naming the parameter and range."""
    bad = ParamError(f"parameter {spec.name}={value!r} is out of range: {describe_range(spec)}")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if spec.kind == "choice":
        # Type-aware: True must not match a choice of 1, nor 1 a choice of True.
        for choice in spec.choices or []:
            if type(choice) is type(value) and choice == value:
                return value
        raise bad
    if spec.kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad
    elif spec.kind == "float":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise bad
        value = float(value)
    else:
        raise ParamError(f"parameter {spec.name} has unsupported kind {spec.kind!r}")
    if (spec.low is not None and value < spec.low) or (
        spec.high is not None and value > spec.high
    ):
        raise bad
    return value


def draw_value(spec: ParamSpec, rng: random.Random) -> Any:
    """A value drawn uniformly from the spec's range."""
    if spec.kind == "bool":
        return rng.random() < 0.5
    if spec.kind == "choice":
        return rng.choice(list(spec.choices or []))
    if spec.kind == "int":
        return rng.randint(int(spec.low or 0), int(spec.high or 0))
    if spec.kind == "float":
        return rng.uniform(float(spec.low or 0.0), float(spec.high or 0.0))
    raise ParamError(f"parameter {spec.name} has unsupported kind {spec.kind!r}")


def corner_value(spec: ParamSpec, high: bool) -> Any:
    """The spec's lowest (or highest) value: numeric choices by value, others as listed."""
    if spec.kind == "bool":
        return high
    if spec.kind == "choice":
        choices = list(spec.choices or [])
        if all(isinstance(c, int | float) and not isinstance(c, bool) for c in choices):
            choices = sorted(choices)
        return choices[-1] if high else choices[0]
    if spec.kind == "int":
        return int(spec.high or 0) if high else int(spec.low or 0)
    if spec.kind == "float":
        return float(spec.high or 0.0) if high else float(spec.low or 0.0)
    raise ParamError(f"parameter {spec.name} has unsupported kind {spec.kind!r}")


def check_known(specs: Sequence[ParamSpec], given: Mapping[str, Any]) -> None:
    known = {s.name for s in specs}
    for name in sorted(given):
        if name not in known:
            raise ParamError(
                f"unknown parameter {name!r}; known parameters: {', '.join(sorted(known))}"
            )


def resolve_params(
    specs: Sequence[ParamSpec], given: Mapping[str, Any] | None, rng: random.Random
) -> tuple[dict[str, Any], frozenset[str]]:
    """All parameters in spec order, and the names of those that were drawn."""
    given = dict(given or {})
    check_known(specs, given)
    values: dict[str, Any] = {}
    drawn: set[str] = set()
    for spec in specs:
        if spec.name in given:
            values[spec.name] = check_value(spec, given[spec.name])
        elif spec.default is not None:
            values[spec.name] = spec.default
        else:
            values[spec.name] = draw_value(spec, rng)
            drawn.add(spec.name)
    return values, frozenset(drawn)


# Words that name the two ends of one range in a pair of parameter names.
_ENDS = {"min": "max", "low": "high", "start": "end", "lower": "upper", "from": "to",
         "first": "last", "earliest": "latest", "smallest": "largest"}


def bound_pairs(specs: Sequence[ParamSpec]) -> list[tuple[str, str]]:
    """Pairs of numeric parameters named as the two ends of one range (`range_min` and
    `range_max`, `start_year` and `end_year`), lower end first."""
    numeric = {s.name for s in specs if s.kind in ("int", "float")}
    pairs = []
    for name in sorted(numeric):
        words = name.split("_")
        for i, word in enumerate(words):
            other = _ENDS.get(word.lower())
            partner = "_".join([*words[:i], other, *words[i + 1:]]) if other else None
            if partner in numeric:
                pairs.append((name, partner))
    return pairs


def ordered_bounds(specs: Sequence[ParamSpec], values: dict[str, Any],
                   drawn: frozenset[str]) -> dict[str, Any]:
    """The values with each drawn pair of range ends in order (low end not above high end),
    swapped where each fits the other's range: two ends drawn independently cross about
    half the time, and code written for a range then fails on an empty one. Given values
    are left as given."""
    result = dict(values)
    by_name = {s.name: s for s in specs}
    for low, high in bound_pairs(specs):
        if low in drawn and high in drawn and result[low] > result[high]:
            try:
                check_value(by_name[low], result[high])
                check_value(by_name[high], result[low])
            except ParamError:
                continue
            result[low], result[high] = result[high], result[low]
    return result


def redraw(
    specs: Sequence[ParamSpec], values: Mapping[str, Any], names: frozenset[str],
    rng: random.Random,
) -> dict[str, Any]:
    """The values with those named drawn again (spec order), e.g. after a conflict."""
    result = dict(values)
    for spec in specs:
        if spec.name in names:
            result[spec.name] = draw_value(spec, rng)
    return result


def refit(
    values: dict[str, Any], drawn: frozenset[str], name: str, fitting: Sequence[Any],
    rng: random.Random, conflict: str,
) -> None:
    """Make `values[name]` one of `fitting`: drawn again if it was drawn, else refused.

    `conflict` names what rules the value out; the error reads
    "<conflict> <name>=<value>; it fits: <fitting>".
    """
    if values[name] in fitting:
        return
    if name not in drawn:
        raise ParamError(f"{conflict} {name}={values[name]!r}; it fits: "
                         f"{', '.join(str(f) for f in fitting)}")
    values[name] = rng.choice(list(fitting))


def params_rng(name: str, seed: int) -> random.Random:
    """The stream parameter draws come from."""
    return random.Random(f"{name}:{seed}:params")


def instance_rng(name: str, seed: int, values: Mapping[str, Any]) -> random.Random:
    """The stream an instance is built from: generator, seed and resolved values only."""
    key = msgspec.json.encode(dict(values), order="sorted")
    return random.Random(f"{name}:{seed}:".encode() + key)


def derived_seed(*parts: object, bits: int = 64) -> int:
    """A seed from the parts' text: the first `bits` (1-64) bits of their sha256.

    63 bits keep it under 2**63, numpy's seed range.
    """
    digest = hashlib.sha256("\x00".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits)
