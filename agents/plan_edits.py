"""The developer's edits of a proposed plan (`benchagent approve RUN --edit FILE.yaml`).

The file says what to change, every key optional:

    drop: [Subtask name, ...]                 # the subtask leaves the benchmark
    rename: {Old name: New name}
    quotas: {Subtask name: 6}                 # its samples; the others share the rest
    generators:
      synth-duration-conversion:
        params:
          max_seconds: {low: 1, high: 3600}   # an int/float range; {choices: [...]} too
        checks:
          consistency: "h:m:s adds up to the seconds"   # add or change; null drops it
        parts: |                              # your own template parts, checked like the
          def make_problem(rng, params): ...  # model's

`edits_from_doc` reads it into `PlanEdit` events; `check_edits` refuses, in one line, an
edit that names no subtask, generator, parameter or check of the plan, a range whose low
is above its high, parts that are not Python, or quotas that break the run's size; the
approved spec (`approved_spec`) and a generator's revised plan (`revised_plan`) are pure
functions of the proposed plan and the edits, so the command that checks them and the
agents that apply them agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from agents.allocation_solver import Candidate, Infeasible, allocate
from agents.synthesis.parts import parts_problem
from agents.synthesis.plan import PlanError, checked_param
from replay.projections import RunState
from store.events import (
    DropSubtask,
    GeneratorPlan,
    Grounding,
    PlanEdit,
    PlannedCheck,
    Quota,
    RenameSubtask,
    SetCheck,
    SetParamRange,
    SetParts,
    SetQuota,
    SpecProposed,
    Subtask,
    TransformationPlan,
)

TOP_KEYS = ("drop", "rename", "quotas", "generators")
GENERATOR_KEYS = ("params", "checks", "parts")


class EditError(ValueError):
    """An edit cannot apply to the plan; the message is one line."""


# ------------------------------------------------------------------ reading


def _names(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise EditError(f"{what} must be a subtask name or a list of them")


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise EditError(f"{what} must be a mapping of names")
    return value


def _generator_edits(name: str, doc: Any) -> list[PlanEdit]:
    doc = _mapping(doc, f"generators.{name}")
    unknown = sorted(set(doc) - set(GENERATOR_KEYS))
    if unknown:
        raise EditError(f"generators.{name}: unknown key {unknown[0]!r}; keys are "
                        + ", ".join(GENERATOR_KEYS))
    edits: list[PlanEdit] = []
    for param, value in _mapping(doc.get("params", {}), f"generators.{name}.params").items():
        value = _mapping(value, f"generators.{name}.params.{param}")
        extra = sorted(set(value) - {"low", "high", "choices"})
        if extra:
            raise EditError(f"generators.{name}.params.{param}: unknown key {extra[0]!r}; "
                            "give low and high, or choices")
        try:
            edits.append(msgspec.convert({"generator": name, "param": param, **value},
                                         SetParamRange))
        except msgspec.ValidationError as exc:
            raise EditError(f"generators.{name}.params.{param}: {exc}") from None
    for check, description in _mapping(doc.get("checks", {}),
                                       f"generators.{name}.checks").items():
        if description is not None and not isinstance(description, str):
            raise EditError(f"generators.{name}.checks.{check}: give a description, or null "
                            "to drop the check")
        edits.append(SetCheck(generator=name, check=check, description=description))
    if "parts" in doc:
        if not isinstance(doc["parts"], str):
            raise EditError(f"generators.{name}.parts must be Python source text")
        edits.append(SetParts(generator=name, parts=doc["parts"]))
    return edits


def edits_from_doc(doc: Any) -> list[PlanEdit]:
    """The edits a parsed edit file asks for, in a stable order (`EditError` if malformed)."""
    if doc is None:
        return []
    doc = _mapping(doc, "the edit file")
    unknown = sorted(set(doc) - set(TOP_KEYS))
    if unknown:
        raise EditError(f"unknown key {unknown[0]!r}; keys are {', '.join(TOP_KEYS)}")
    edits: list[PlanEdit] = [DropSubtask(subtask=n) for n in _names(doc.get("drop", []), "drop")]
    for old, new in _mapping(doc.get("rename", {}), "rename").items():
        if not isinstance(new, str) or not new.strip():
            raise EditError(f"rename.{old}: give the new name")
        edits.append(RenameSubtask(subtask=old, to=new.strip()))
    for sub, count in _mapping(doc.get("quotas", {}), "quotas").items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise EditError(f"quotas.{sub}: {count!r} is not a count of at least 1 (drop the "
                            "subtask to give it none)")
        edits.append(SetQuota(subtask=sub, count=count))
    for name, gen_doc in _mapping(doc.get("generators", {}), "generators").items():
        edits += _generator_edits(name, gen_doc)
    return edits


# ----------------------------------------------------------------- applying


def revised_plan(plan: GeneratorPlan, edits: Sequence[PlanEdit]) -> GeneratorPlan:
    """The generator plan with the developer's parameter and check edits (`EditError`)."""
    params = {p.name: p for p in plan.params}
    checks = {c.name: c for c in plan.checks}
    for edit in edits:
        if isinstance(edit, SetParamRange) and edit.generator == plan.name:
            old = params.get(edit.param)
            if old is None:
                raise EditError(f"generator {plan.name} has no parameter {edit.param!r} "
                                f"(parameters: {', '.join(params) or 'none'})")
            ranged = edit.low is not None or edit.high is not None
            if old.kind == "choice" and (ranged or edit.choices is None):
                raise EditError(f"generator {plan.name}: parameter {edit.param} is a choice: "
                                "give its choices")
            if old.kind != "choice" and edit.choices is not None:
                raise EditError(f"generator {plan.name}: parameter {edit.param} is {old.kind}: "
                                "give low and high, not choices")
            try:
                params[edit.param] = checked_param(msgspec.structs.replace(
                    old, low=edit.low if edit.low is not None else old.low,
                    high=edit.high if edit.high is not None else old.high,
                    choices=edit.choices if edit.choices is not None else old.choices))
            except PlanError as exc:
                raise EditError(f"generator {plan.name}: {exc}") from None
        elif isinstance(edit, SetCheck) and edit.generator == plan.name:
            if edit.description is None:
                if edit.check not in checks:
                    raise EditError(f"generator {plan.name} has no check {edit.check!r} to "
                                    f"drop (checks: {', '.join(checks) or 'none'})")
                del checks[edit.check]
            elif not edit.check.isidentifier():
                raise EditError(f"generator {plan.name}: check name {edit.check!r} is not a "
                                "name (letters, digits and _)")
            else:
                checks[edit.check] = PlannedCheck(name=edit.check, description=edit.description)
    return msgspec.structs.replace(plan, params=list(params.values()),
                                   checks=list(checks.values()))


def touched_generators(edits: Sequence[PlanEdit]) -> list[str]:
    """Generators whose plan or parts the developer changed, in a stable order."""
    return sorted({e.generator for e in edits
                   if isinstance(e, SetParamRange | SetCheck | SetParts)})


def _renamed(name: str, renames: Mapping[str, str]) -> str:
    return renames.get(name, name)


def approved_spec(
    proposed: SpecProposed, edits: Sequence[PlanEdit], size: int,
    groundings: Sequence[Grounding], plans_by_id: Mapping[str, TransformationPlan],
) -> tuple[list[Subtask], list[TransformationPlan], list[Quota]]:
    """The spec after the developer's subtask and quota edits (`EditError` if they do not
    fit: a name the plan lacks, or quotas that break the size). `groundings` are the round's
    candidates (a dropped subtask's samples may go to one the proposal left empty) and
    `plans_by_id` their plans."""
    names = [s.name for s in proposed.subtasks]
    dropped: set[str] = set()
    renames: dict[str, str] = {}
    fixed: dict[str, int] = {}

    def known(name: str, what: str) -> str:
        if name not in names:
            raise EditError(f"{what} names no subtask of the plan: {name!r} (subtasks: "
                            + "; ".join(names) + ")")
        return name

    for edit in edits:
        if isinstance(edit, DropSubtask):
            dropped.add(known(edit.subtask, "drop"))
        elif isinstance(edit, RenameSubtask):
            renames[known(edit.subtask, "rename")] = edit.to
        elif isinstance(edit, SetQuota):
            fixed[known(edit.subtask, "quotas")] = edit.count
    both = sorted(dropped & fixed.keys())
    if both:
        raise EditError(f"{both[0]!r} is both dropped and given a quota")
    kept = [n for n in names if n not in dropped]
    if not kept:
        raise EditError("every subtask is dropped: nothing would be left to build")
    final = [_renamed(n, renames) for n in kept]
    if len(set(final)) != len(final):
        twice = next(n for n in final if final.count(n) > 1)
        raise EditError(f"two subtasks would be named {twice!r}")

    if dropped or fixed:
        quotas = _reallocate(kept, fixed, size, groundings)
    else:
        quotas = list(proposed.quotas)
    known_plans = {**plans_by_id, **{p.plan_id: p for p in proposed.plans}}
    used = sorted({q.plan_id for q in quotas})
    subtasks = [msgspec.structs.replace(s, name=_renamed(s.name, renames))
                for s in proposed.subtasks if s.name in kept]
    plans = [msgspec.structs.replace(known_plans[pid], subtask=_renamed(
        known_plans[pid].subtask, renames)) for pid in used if pid in known_plans]
    quotas = [msgspec.structs.replace(q, subtask=_renamed(q.subtask, renames)) for q in quotas]
    return subtasks, plans, quotas


def _reallocate(kept: list[str], fixed: Mapping[str, int], size: int,
                groundings: Sequence[Grounding]) -> list[Quota]:
    """Quotas with the fixed subtasks' counts, the other kept subtasks sharing the rest."""
    total_fixed = sum(fixed.values())
    rest = [n for n in kept if n not in fixed]
    if total_fixed > size or (not rest and total_fixed != size):
        raise EditError(f"the quotas sum to {total_fixed}, but the run's size is {size}: "
                        "they must add up to it")
    if rest and size - total_fixed < 1:
        raise EditError(f"the quotas sum to {total_fixed} of the run's size {size}, leaving "
                        f"nothing for {', '.join(repr(n) for n in rest)}: drop them or lower "
                        "a quota")
    offered = [Candidate(g.subtask, g.dataset_id, g.plan_id, g.capacity) for g in groundings]
    shares: list[tuple[set[str], int]] = [({name}, count) for name, count in fixed.items()]
    if rest:
        shares.append((set(rest), size - total_fixed))
    quotas: list[Quota] = []
    for subs, count in shares:
        cands = [c for c in offered if c.subtask in subs]
        try:
            result = allocate(cands, count, coverage=True)
        except Infeasible:
            try:
                result = allocate(cands, count, coverage=False)
            except Infeasible as exc:
                raise EditError(f"{count} samples for {', '.join(sorted(subs))} is more than "
                                f"their sources can give ({exc.detail})") from None
        quotas += [Quota(subtask=c.subtask, dataset_id=c.dataset_id, plan_id=c.plan_id, count=k)
                   for c, k in zip(cands, result.counts, strict=True) if k > 0]
    capacity = {g.dataset_id: g.capacity for g in groundings}
    drawn: dict[str, int] = {}
    for q in quotas:
        drawn[q.dataset_id] = drawn.get(q.dataset_id, 0) + q.count
    over = sorted(d for d, n in drawn.items() if n > capacity.get(d, n))
    if over:
        raise EditError(f"these quotas draw {drawn[over[0]]} samples from {over[0]}, which has "
                        f"{capacity[over[0]]}")
    return quotas


# ----------------------------------------------------------------- checking


def proposal_of(state: RunState) -> tuple[SpecProposed, list[Grounding], int]:
    """The proposed spec, the candidate groundings of its design round, and that round."""
    proposed = state.approval.proposed
    if proposed is None:
        raise EditError("the run has proposed no plan")
    cause = proposed.causation_id
    grounded = next((g for g in state.grounding.grounded.values() if g.event_id == cause), None)
    if grounded is None:
        return proposed.payload, [], 1
    return proposed.payload, list(grounded.payload.groundings), grounded.payload.round


def planned_generators(state: RunState) -> dict[str, GeneratorPlan]:
    """The synthesized generators the proposed spec draws on, with their latest plans."""
    proposed, _, _ = proposal_of(state)
    found: dict[str, GeneratorPlan] = {}
    for plan in proposed.plans:
        record = state.synthesis.for_dataset(plan.dataset_id)
        latest = state.synthesis.latest_plan(record.name) if record is not None else None
        if record is not None and latest is not None:
            found[record.name] = latest.payload.plan
    return found


def check_edits(edits: Sequence[PlanEdit], state: RunState) -> None:
    """Every edit applies to the run's proposed plan; else `EditError` (one line)."""
    proposed, groundings, _ = proposal_of(state)
    generators = planned_generators(state)
    for name in touched_generators(edits):
        if name not in generators:
            raise EditError(f"generators names no synthesized generator of the plan: {name!r} "
                            f"(generators: {', '.join(sorted(generators)) or 'none'})")
        revised_plan(generators[name], edits)
    for edit in edits:
        if isinstance(edit, SetParts):
            problem = parts_problem(edit.parts)
            if problem:
                raise EditError(f"generators.{edit.generator}.parts: {problem}")
    approved_spec(proposed, edits, state.request.payload.size, groundings, state.grounding.plans)
