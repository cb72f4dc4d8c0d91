"""The next version of a saturated benchmark: the first events of its refresh run.

One batch, appended together so that no agent ever sees the run without them:
- `RunRequested`: the parent's request (requirement, size, pools, models, settings) with a
  seed derived from the parent's and the new run id, and no build-time `--eval-model`
  (the watcher evaluates the known models once the refresh is published);
- `RefreshRequested`: the link to the parent (`parent_run`, the lineage's first run, the
  version), the parent's saturation events, every source item the lineage used so far
  (the Orchestrator draws none of them), the generator plans made harder, and the models
  the new items must separate (those scored on the parent, when there are two or more);
- `SpecFinalized`: the parent's spec (subtasks, plans, quotas), generator plans with their
  harder parameters. The Design agent leaves a refresh alone; the Orchestrator starts
  from this spec.

Everything is derived from the parent's log, and the new run's id from the lineage
(`<first run>-v<version>`), so a watcher that crashed halfway records the same batch again
and the log keeps one copy.
"""

from __future__ import annotations

import msgspec

from agents.keys import derive_seed, short_hash
from agents.plans import GENERATOR_TOOL
from benchagent.watch import WATCHER
from benchagent.watch.harder import shift_for
from replay.projections import RunState
from store.events import (
    Envelope,
    GeneratorShift,
    Payload,
    RefreshRequested,
    SpecFinalized,
    TransformationPlan,
    new_event,
)
from tools.generators.registry import GeneratorUnavailable, get_generator

MAX_RUN_ID = 80


def lineage_root(state: RunState) -> str:
    refresh = state.lineage.refresh
    return refresh.payload.root_run if refresh is not None else state.run_id


def child_run_id(parent: RunState) -> str:
    """`<first run of the lineage>-v<next version>` (shortened with a hash if too long)."""
    root, version = lineage_root(parent), parent.lineage.version + 1
    suffix = f"-v{version}"
    if len(root) + len(suffix) <= MAX_RUN_ID:
        return root + suffix
    keep = MAX_RUN_ID - len(suffix) - 9
    return f"{root[:keep]}-{short_hash(root, 8)}{suffix}"


def used_items(parent: RunState) -> dict[str, list[str]]:
    """Source items of real datasets the lineage used up to the parent (assigned to a slot
    or realized, accepted or not), by dataset."""
    spec = parent.slots.spec_payload
    generated = {p.plan_id for p in spec.plans if p.target_source == "generator"} if spec else set()
    used: dict[str, set[str]] = {}
    refresh = parent.lineage.refresh
    for dataset, ids in (refresh.payload.excluded.items() if refresh is not None else []):
        used.setdefault(dataset, set()).update(ids)
    for slot in parent.slots.slots.values():
        if slot.plan_id not in generated:
            used.setdefault(slot.dataset_id, set()).add(slot.source_item_id)
    return {dataset: sorted(ids) for dataset, ids in sorted(used.items())}


def harder_plans(plans: list[TransformationPlan]
                 ) -> tuple[list[TransformationPlan], list[GeneratorShift]]:
    """The plans with their generator parameters moved toward higher complexity."""
    out, shifts = [], []
    for plan in plans:
        call = next((t for t in plan.tools if t.get("name") == GENERATOR_TOOL), None)
        if call is None:
            out.append(plan)
            continue
        arguments = dict(call.get("arguments", {}))
        try:
            gen = get_generator(str(arguments.get("generator")))
        except GeneratorUnavailable:
            out.append(plan)
            continue
        shift = shift_for(plan.plan_id, gen, dict(arguments.get("params", {})))
        if shift is None:
            out.append(plan)
            continue
        shifts.append(shift)
        tools = [({**t, "arguments": {**arguments, "params": shift.params_after}}
                  if t is call else t) for t in plan.tools]
        out.append(msgspec.structs.replace(plan, tools=tools))
    return out, shifts


def refresh_events(parent: RunState, separate: list[str]) -> list[Envelope[Payload]]:
    """The refresh run's first three events (see the module doc)."""
    request = parent.request.payload
    spec = parent.slots.spec_payload
    if spec is None:
        raise ValueError(f"run {parent.run_id} has no spec to refresh")
    child = child_run_id(parent)
    version = parent.lineage.version + 1
    scored = sorted({s.model for s in parent.evaluations.scores})
    separating = sorted(set(separate)) if len(set(separate)) >= 2 else []
    plans, shifts = harder_plans(list(spec.plans))
    saturations = parent.lineage.saturations
    first = new_event(child, WATCHER, msgspec.structs.replace(
        request, seed=derive_seed(request.seed, "refresh", child) % 2**31, eval_models=[]))
    link = new_event(child, WATCHER, RefreshRequested(
        parent_run=parent.run_id, root_run=lineage_root(parent), version=version,
        saturation=[s.event_id for s in saturations], excluded=used_items(parent),
        harder=shifts, separate=separating,
        solved_by_all=len(parent.leaderboard.solved_by_all(scored)),
        reason="; ".join(f"{s.payload.scope}"
                         + (f" {s.payload.subtask}" if s.payload.subtask else "")
                         + f": {s.payload.model} reached {s.payload.accuracy:.3f} "
                           f"(threshold {s.payload.threshold:g})" for s in saturations),
    ), first.event_id, key="refresh")
    inherited = new_event(child, WATCHER, SpecFinalized(
        subtasks=list(spec.subtasks), plans=plans, quotas=list(spec.quotas)),
        link.event_id, key="inherited")
    return [first, link, inherited]
