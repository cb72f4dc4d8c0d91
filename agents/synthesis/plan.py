"""A generator plan: read from the model's answer (or a developer's edit) and checked.

Every problem with a plan is a `PlanError` with one line that names the parameter and
what is wrong with it: an unknown kind, a range whose low is above its high, a choice
parameter without choices. The checked plan becomes the `ParamSpec`s the host draws
parameters from (`param_specs`) and the sandboxed checker's `CheckPlan`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec

from agents.keys import slug
from agents.relevance import capability_cues, own_stems, stems
from store.events import (
    PARAM_KINDS,
    SYNTHESIZED_PREFIX,
    GeneratorPlan,
    PlannedCheck,
    PlannedParam,
    Subtask,
)
from tools.generators.base import ParamSpec
from tools.sandbox.checks import CheckPlan
from tools.sandbox.wire import Budgets

METRICS = ("exact_match", "accepts", "multiple_choice")
MAX_PARAMS = 5
MAX_CHOICES = 12
_IDENTIFIER = re.compile(r"[^a-z0-9_]+")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

# Budgets of the sandboxed checks: tighter than serving's, so checked code serves well.
CHECK_BUDGETS = Budgets(lines=500_000, cpu_seconds=2.0, wall_seconds=5.0)


class PlanError(ValueError):
    """The plan cannot be used; the message is one line naming what is wrong."""


def generator_name(subtask: str) -> str:
    """The name of the generator synthesized for a subtask (one per subtask)."""
    return SYNTHESIZED_PREFIX + slug(subtask, 32)


def param_name(raw: object) -> str:
    name = _IDENTIFIER.sub("_", str(raw).strip().lower()).strip("_")
    if not name or name[0].isdigit():
        raise PlanError(f"parameter name {raw!r} is not usable as a Python identifier")
    return name


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PlanError(f"{what} must be a number, got {value!r}")
    return float(value)


def _choice(value: Any) -> Any:
    """A choice as plain data: numeric text becomes a number, as a model often writes it."""
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        text = value.strip()
        return float(text) if "." in text else int(text)
    return value


def checked_param(p: PlannedParam) -> PlannedParam:
    """The parameter if its kind and range are usable, normalised; else `PlanError`."""
    where = f"parameter {p.name}"
    if p.kind not in PARAM_KINDS:
        raise PlanError(f"{where}: unknown kind {p.kind!r}; kinds are {', '.join(PARAM_KINDS)}")
    if p.kind == "bool":
        return msgspec.structs.replace(p, low=None, high=None, choices=None)
    if p.kind == "choice":
        choices = [_choice(c) for c in (p.choices or [])]
        if len(choices) < 2:
            raise PlanError(f"{where}: a choice parameter needs at least two choices")
        if len(choices) > MAX_CHOICES:
            raise PlanError(f"{where}: {len(choices)} choices; at most {MAX_CHOICES}")
        if len({msgspec.json.encode(c) for c in choices}) != len(choices):
            raise PlanError(f"{where}: its choices repeat")
        return msgspec.structs.replace(p, low=None, high=None, choices=choices)
    if p.low is None or p.high is None:
        raise PlanError(f"{where}: a {p.kind} parameter needs a low and a high")
    low, high = _number(p.low, f"{where}: low"), _number(p.high, f"{where}: high")
    if low > high:
        raise PlanError(f"{where}: low {low:g} is above high {high:g}")
    if p.kind == "int":
        low, high = float(math.ceil(low)), float(math.floor(high))
        if low > high:
            raise PlanError(f"{where}: no integer between low {p.low:g} and high {p.high:g}")
    return msgspec.structs.replace(p, low=low, high=high, choices=None)


def _params(raw: Any) -> list[PlannedParam]:
    if not isinstance(raw, list):
        raise PlanError("params must be a list")
    if len(raw) > MAX_PARAMS:
        raise PlanError(f"{len(raw)} parameters; at most {MAX_PARAMS}")
    params: list[PlannedParam] = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise PlanError(f"a parameter must be an object, got {entry!r:.60}")
        name = param_name(entry.get("name", ""))
        if any(p.name == name for p in params):
            raise PlanError(f"parameter {name} is planned twice")
        kind = str(entry.get("kind", ""))
        low, high = entry.get("low"), entry.get("high")
        choices = entry.get("choices")
        params.append(checked_param(PlannedParam(
            name=name, kind=kind,  # type: ignore[arg-type]  # checked_param refuses others
            low=_number(low, f"parameter {name}: low") if low is not None else None,
            high=_number(high, f"parameter {name}: high") if high is not None else None,
            choices=list(choices) if isinstance(choices, list) else None,
            description=str(entry.get("description", "")).strip()[:200])))
    return params


def _checks(raw: Any) -> list[PlannedCheck]:
    checks: list[PlannedCheck] = []
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict):
            continue
        name = slug(str(entry.get("name", "")), 30).replace("-", "_")
        if name == "x" or any(c.name == name for c in checks):
            continue
        checks.append(PlannedCheck(name=name, description=str(entry.get("description", ""))
                                   .strip()[:200]))
    return checks


def plan_from_answer(answer: dict[str, Any], sub: Subtask, plan_id: str) -> GeneratorPlan:
    """The model's plan, checked (`PlanError` names the first problem)."""
    metric = str(answer.get("metric", "exact_match"))
    if metric not in METRICS:
        raise PlanError(f"unknown metric {metric!r}; metrics are {', '.join(METRICS)}")
    constraints = [str(c).strip()[:200] for c in answer.get("constraints") or [] if str(c).strip()]
    return GeneratorPlan(
        plan_id=plan_id, subtask=sub.name, name=generator_name(sub.name),
        description=str(answer.get("description", "")).strip()[:300] or sub.description,
        params=_params(answer.get("params", [])), constraints=constraints[:6],
        checks=_checks(answer.get("checks")), complexity=str(answer.get("complexity", ""))
        .strip()[:200], metric=metric, multiple_choice=metric == "multiple_choice")


def off_target(plan: GeneratorPlan, sub: Subtask) -> str:
    """Why a plan does not test its subtask ("" if it may): its description and parameters
    name none of the subtask's content words or capability cues (`agents.relevance`). The
    1.5B planned "the sum of two numbers" for "write 300 words that follow five formatting
    constraints", and the generator passed every check."""
    wanted = own_stems(sub) | capability_cues(sub)
    said = stems(" ".join([plan.description, *(f"{p.name.replace('_', ' ')} {p.description}"
                                                for p in plan.params)]))
    if not wanted or said & wanted:
        return ""
    return (f"the plan ({plan.description[:80]!r}) names none of the words of the subtask "
            f"({sub.name[:80]!r}): plan problems of the subtask itself")


def param_specs(params: list[PlannedParam]) -> list[ParamSpec]:
    """The parameters as the host draws them (none has a default: each is drawn)."""
    return [ParamSpec(name=p.name, kind=p.kind, low=p.low, high=p.high, choices=p.choices,
                      description=p.description) for p in params]


def check_plan(plan: GeneratorPlan, seeds: int) -> CheckPlan:
    """What the sandboxed checker needs from the plan."""
    return CheckPlan(name=plan.name, params=param_specs(plan.params),
                     complexity_range=(0.0, 1.0), multiple_choice=plan.multiple_choice,
                     seeds=seeds, budgets=CHECK_BUDGETS)


def describe_param(p: PlannedParam) -> str:
    if p.kind == "choice":
        return f"{p.name} ({p.kind}: one of {', '.join(repr(c) for c in p.choices or [])})"
    if p.kind == "bool":
        return f"{p.name} (bool)"
    return f"{p.name} ({p.kind} from {p.low:g} to {p.high:g})"
