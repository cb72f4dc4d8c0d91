"""Moving a failing slot to a sibling grounding that works: a generator of the same subtask,
or else another of its datasets.

A subtask grounded on a dataset and on a generator (the calendar requirement: masked time
spans in dialogues, and the built-in calendar generator) can see every item of the dataset
rejected while the generator's pass. Rather than report the dataset's slots short, a slot
moves (`SlotAssigned.moved_from`) once it has spent `move_after` model-checked attempts
while its grounding keeps fewer than `MOVE_BELOW_RATE` of the items a model's check judged,
or once it would be reported short. The target is the first generator grounding of its
subtask, in spec order, with a filled slot; without one, the first dataset grounding of the
subtask with a filled slot that keeps at least `MOVE_BELOW_RATE` (the temporal requirement:
TimeBank's news items, which the judge mostly finds unanswerable, beside dialogues with a
masked time span).

A generator's instances are numbered and a dataset's items have a seeded order; the
grounding's own slots draw from 0 upwards (`slots.source_for`), moved slots from the end
downwards: the v-th slot that may move onto it (of every quota of a subtask it grounds, in
spec order, V in all) takes `capacity - 1 - v - (m - 1)·V` at its m-th attempt there. The
position is a function of the slot alone, so concurrent moves cannot race for an instance; a
position at or below one the grounding's own slots drew, or one any slot drew, is refused,
and a dataset's own slots pass over the items moved slots drew.
"""

from __future__ import annotations

from typing import get_args

from agents.keys import sample_id, seeded_permutation
from agents.synthesis.grounding import SYNTHESIZED_CAPACITY
from replay.projections import RunState, SlotKey
from store.events import ItemCheckName, Quota, ReplenishRequested, SlotAssigned, SlotMove
from tools.pool import Pool, SourceItem

FREE_CHECKS = frozenset(get_args(ItemCheckName))  # programmatic: no model was paid


def generator_capacity(state: RunState, pool: Pool, dataset_id: str) -> int | None:
    """How many instances a generator grounding gives (None: a dataset, not a generator)."""
    if state.synthesis.for_dataset(dataset_id) is not None:
        return SYNTHESIZED_CAPACITY
    if pool.card(dataset_id).generator:
        return pool.capacity(dataset_id)
    return None


def _instance_name(state: RunState, pool: Pool, dataset_id: str) -> str:
    synthesized = state.synthesis.for_dataset(dataset_id)
    return synthesized.name if synthesized is not None else str(pool.card(dataset_id).generator)


# A grounding that keeps fewer of its model-checked items than this fails its slots: on the
# calendar requirement Temporal-Reasoning kept 1 of its first 20, the calendar generator all.
MOVE_BELOW_RATE = 0.25


def kept_rate(state: RunState, subtask: str, dataset_id: str, plan_id: str) -> float:
    """The share of a grounding's attempts that a model's check judged which were accepted
    (1.0 before any such verdict); free rejections do not count."""
    kept = judged = 0
    for sid, slot in state.slots.slots.items():
        if (slot.subtask, slot.dataset_id, slot.plan_id) != (subtask, dataset_id, plan_id):
            continue
        rejected = state.samples.rejected.get(sid)
        if sid in state.slots.accepted:
            kept += 1
            judged += 1
        elif rejected is not None and rejected.payload.check not in FREE_CHECKS:
            judged += 1
    return kept / judged if judged else 1.0


def move_target(state: RunState, pool: Pool, p: ReplenishRequested) -> Quota | None:
    """The sibling grounding a slot of `p`'s quota may move to: a generator with a filled
    slot, else a dataset with a filled slot that keeps enough (None: none has shown it works
    yet)."""
    spec = state.slots.spec_payload
    assert spec is not None
    datasets: list[Quota] = []
    for q in spec.quotas:
        if q.subtask != p.subtask or (q.dataset_id, q.plan_id) == (p.dataset_id, p.plan_id):
            continue
        if not any(key[:3] == (q.subtask, q.dataset_id, q.plan_id) for key in state.slots.filled):
            continue
        if generator_capacity(state, pool, q.dataset_id) is not None:
            return q
        if kept_rate(state, q.subtask, q.dataset_id, q.plan_id) >= MOVE_BELOW_RATE:
            datasets.append(q)
    return datasets[0] if datasets else None


def source_order(state: RunState, pool: Pool,
                 dataset_id: str) -> tuple[list[SourceItem], tuple[int, ...]]:
    """A dataset's usable items (a refresh: those its parent did not use) and their seeded
    order, in which slots draw them."""
    items = pool.items(dataset_id)
    used_by_parent = state.lineage.excluded(dataset_id)
    if used_by_parent:
        items = [item for item in items if item.id not in used_by_parent]
    return items, seeded_permutation(len(items), state.request.payload.seed, "source",
                                     dataset_id)


def drawn_by_moves(state: RunState, dataset_id: str) -> set[str]:
    """The items (or instances) of `dataset_id` that slots moved onto it drew."""
    return {a.source_item_id for a in state.slots.slots.values()
            if a.dataset_id == dataset_id and a.moved_from is not None}


def movable_slots(state: RunState, dataset_id: str) -> list[SlotKey]:
    """Every slot that may move onto the generator `dataset_id`, in spec order: the slots of
    the other quotas of each subtask it grounds."""
    spec = state.slots.spec_payload
    assert spec is not None
    subtasks = {q.subtask for q in spec.quotas if q.dataset_id == dataset_id}
    return [(q.subtask, q.dataset_id, q.plan_id, s) for q in spec.quotas
            if q.subtask in subtasks and q.dataset_id != dataset_id for s in range(q.count)]


class MoveRefused(Exception):
    """The target generator has no instance left for this slot; the message says why."""


def moved_attempt(state: RunState, pool: Pool, p: ReplenishRequested, target: Quota,
                  attempt: int, reason: str) -> SlotAssigned:
    """The slot's attempt `attempt` on the sibling grounding `target`."""
    key: SlotKey = (p.subtask, p.dataset_id, p.plan_id, p.slot)
    movable = movable_slots(state, target.dataset_id)
    here = sum(1 for sid in state.slots.attempts.get(key, {}).values()
               if state.slots.slots[sid].dataset_id == target.dataset_id)
    drawn = [a for a in state.slots.slots.values() if a.dataset_id == target.dataset_id]
    capacity = generator_capacity(state, pool, target.dataset_id)
    if capacity is not None:
        name = _instance_name(state, pool, target.dataset_id)
        position = capacity - 1 - movable.index(key) - here * len(movable)
        source_item_id = f"{name}#{position}"
        own = [int(a.source_item_id.rpartition("#")[2]) for a in drawn if a.moved_from is None]
    else:
        items, order = source_order(state, pool, target.dataset_id)
        position = len(items) - 1 - movable.index(key) - here * len(movable)
        source_item_id = items[order[position]].id if position >= 0 else ""
        at = {items[i].id: rank for rank, i in enumerate(order)}
        own = [at[a.source_item_id] for a in drawn
               if a.moved_from is None and a.source_item_id in at]
    if position <= max(own, default=-1) or source_item_id in {a.source_item_id for a in drawn}:
        raise MoveRefused(f"{target.dataset_id} has no instance left above the {len(own)} "
                          "its own slots drew")
    return SlotAssigned(
        sample_id=sample_id(p.subtask, p.dataset_id, p.slot, attempt), slot=p.slot,
        subtask=p.subtask, dataset_id=target.dataset_id, plan_id=target.plan_id,
        source_item_id=source_item_id, attempt=attempt,
        moved_from=SlotMove(dataset_id=p.dataset_id, plan_id=p.plan_id, reason=reason))
