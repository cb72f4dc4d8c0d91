"""Which source item each sample slot attempt takes; slots assigned, replenished, or short.

Source choice is order-independent: every dataset has a seeded permutation of its
items; the k-th slot drawn on it (over all quotas on that dataset, in spec order)
takes position k at attempt 1 and k + (a-1)·Q at attempt a (Q = all slots on the
dataset), so concurrent rejections can never race for an item. A generator (built in, or
synthesized by the run) has no items: position k is its instance `<generator>#k`. A refresh
(`RefreshRequested`) permutes only the items its parent did not use.

`max_attempts` bounds what a slot may spend on the model: an attempt rejected by a
programmatic item check (free: `agents.item_checks`, e.g. technical words under an everyday
subtask, which a quarter of Causal-Reasoning's items pass) does not count against it.

A slot that runs past the end of its own share takes positions its filled neighbours left:
once slot k is accepted at attempt a, its positions k + (b-1)·Q for b > a are never drawn by
it again, and each is offered to exactly one other slot, (k + b) mod Q (`left_to`). A slot
draws the first such position of a filled slot it has not tried yet. One owner per position
keeps concurrent replenishments from racing; a slot that finds none is reported short. On
the demo, the everyday-register and blind-solve checks leave about one Causal-Reasoning item
in ten usable, and a slot's own share of 200 items (16) ran out while others had filled.
"""

from __future__ import annotations

from agents.base import Batch
from agents.keys import sample_id
from agents.orchestrator.slot_moves import (
    FREE_CHECKS,
    MOVE_BELOW_RATE,
    MoveRefused,
    drawn_by_moves,
    kept_rate,
    move_target,
    moved_attempt,
    source_order,
)
from agents.settings import settings_of
from agents.synthesis.grounding import SYNTHESIZED_CAPACITY
from replay.projections import RunState
from store.events import (
    Payload,
    QuotaShortfall,
    ReplenishRequested,
    SlotAssigned,
    SlotMove,
    SpecFinalized,
)
from tools.pool import Pool


class SourceExhausted(Exception):
    """The slot's share of its dataset (or generator) is used up; the message says why."""


def source_for(state: RunState, pool: Pool, dataset_id: str, plan_id: str, subtask: str,
               slot: int, attempt: int) -> tuple[str, int]:
    """(source item id, index in the dataset's seeded order) for a slot attempt."""
    spec = state.slots.spec_payload
    assert spec is not None
    offset, total = 0, 0
    for q in spec.quotas:
        if q.dataset_id != dataset_id:
            continue
        if (q.subtask, q.plan_id) == (subtask, plan_id):
            offset = total
        total += q.count
    position = offset + slot + (attempt - 1) * total
    synthesized = state.synthesis.for_dataset(dataset_id)
    if synthesized is not None:
        if position >= SYNTHESIZED_CAPACITY:
            raise SourceExhausted(f"{synthesized.name} gives {SYNTHESIZED_CAPACITY} instances")
        return f"{synthesized.name}#{position}", position
    card = pool.card(dataset_id)
    if card.generator:
        if position >= pool.capacity(dataset_id):
            raise SourceExhausted(f"{card.generator} gives {pool.capacity(dataset_id)} instances")
        return f"{card.generator}#{position}", position
    items, order = source_order(state, pool, dataset_id)
    moved_here = drawn_by_moves(state, dataset_id)  # slots of sibling groundings took these
    if position >= len(items) or items[order[position]].id in moved_here:
        tried = moved_here | {a.source_item_id for a in state.slots.slots.values()
                              if (a.subtask, a.dataset_id, a.plan_id, a.slot)
                              == (subtask, dataset_id, plan_id, slot)}
        left = next((p for p in left_to(state, dataset_id, offset + slot, len(items))
                     if items[order[p]].id not in tried), None)
        if left is None:
            raise SourceExhausted(f"{card.name} has {len(items)} usable items, {total} slots "
                                  f"draw on it, and no filled slot left one to this one")
        position = left
    return items[order[position]].id, position


def left_to(state: RunState, dataset_id: str, index: int, n_items: int) -> list[int]:
    """The positions of `dataset_id`'s seeded order that filled slots left to the slot at
    `index` (over all quotas on the dataset), in order: slot k, accepted at attempt a, leaves
    k + (b-1)·Q for each b > a to the slot (k + b) mod Q."""
    spec = state.slots.spec_payload
    assert spec is not None
    quotas = [q for q in spec.quotas if q.dataset_id == dataset_id]
    total = sum(q.count for q in quotas)
    offset, positions = 0, []
    for q in quotas:
        for slot in range(q.count):
            k = offset + slot
            attempts = state.slots.attempts.get((q.subtask, dataset_id, q.plan_id, slot), {})
            accepted = [a for a, sid in attempts.items() if sid in state.slots.accepted]
            if not accepted:
                continue
            b = min(accepted) + 1
            while (position := k + (b - 1) * total) < n_items:
                if (k + b) % total == index:
                    positions.append(position)
                b += 1
        offset += q.count
    return sorted(positions)


def first_assignments(spec: SpecFinalized, state: RunState, pool: Pool) -> Batch:
    """Attempt 1 of every slot of the spec (or its shortfall, if the pool changed since the
    allocation counted its capacity)."""
    batch: Batch = []
    for q in spec.quotas:
        for slot in range(q.count):
            sid = sample_id(q.subtask, q.dataset_id, slot, 1)
            try:
                item_id, _ = source_for(state, pool, q.dataset_id, q.plan_id, q.subtask, slot, 1)
            except SourceExhausted as exc:
                batch.append((QuotaShortfall(subtask=q.subtask, dataset_id=q.dataset_id,
                                             plan_id=q.plan_id, missing=1, slot=slot,
                                             reason=f"slot {slot}: {exc}"), sid))
                continue
            batch.append((SlotAssigned(sample_id=sid, slot=slot, subtask=q.subtask,
                                       dataset_id=q.dataset_id, plan_id=q.plan_id,
                                       source_item_id=item_id, attempt=1), sid))
    return batch


def next_attempt(p: ReplenishRequested, state: RunState, pool: Pool) -> tuple[Payload, str]:
    """The slot's next attempt (`SlotAssigned`, on its own grounding or moved to a sibling
    generator's: `slot_moves`), or `QuotaShortfall` once attempts or sources are used up;
    with its event key."""
    replaced = state.slots.slots.get(p.replaces)
    attempt = (replaced.attempt if replaced else 1) + 1
    settings = settings_of(state.request.payload)
    sid = sample_id(p.subtask, p.dataset_id, p.slot, attempt)
    # Attempts count against the grounding they drew on: a moved slot starts afresh there.
    source = replaced.dataset_id if replaced else p.dataset_id
    tried = [s for a, s in sorted(state.slots.attempts.get(
        (p.subtask, p.dataset_id, p.plan_id, p.slot), {}).items())
        if a < attempt and (state.slots.slots[s].dataset_id == source)]
    rejections = [state.samples.rejected.get(s) for s in tried]
    costly = sum(1 for r in rejections if r is None or r.payload.check not in FREE_CHECKS)
    if replaced is not None and replaced.moved_from is not None:
        return _next_moved(p, replaced, replaced.moved_from, state, pool, attempt, costly)
    reason = ""
    if costly >= settings.max_attempts:
        reason = (f"slot {p.slot}: {attempt - 1} attempts rejected, {costly} after a model's "
                  f"check (max_attempts {settings.max_attempts}); last was {p.replaces}")
    elif settings.move_after and costly >= settings.move_after and (
            rate := kept_rate(state, p.subtask, p.dataset_id, p.plan_id)) < MOVE_BELOW_RATE \
            and (target := move_target(state, pool, p)) is not None:
        why = (f"{costly} model-checked attempts on {p.dataset_id} rejected, and it keeps "
               f"{rate:.0%} of the items a model judged, while {target.dataset_id} filled "
               f"slots of {p.subtask}")
        try:
            return moved_attempt(state, pool, p, target, attempt, why), sid
        except MoveRefused:
            pass  # the generator is full: the slot goes on with its own dataset
    if not reason:
        try:
            item_id, _ = source_for(state, pool, p.dataset_id, p.plan_id, p.subtask, p.slot,
                                    attempt)
        except SourceExhausted as exc:
            reason = f"slot {p.slot}: source exhausted after {attempt - 1} attempts ({exc})"
        else:
            return SlotAssigned(sample_id=sid, slot=p.slot, subtask=p.subtask,
                                dataset_id=p.dataset_id, plan_id=p.plan_id,
                                source_item_id=item_id, attempt=attempt), sid
    # About to be short: a sibling generator that works takes the slot instead.
    if settings.move_after and (target := move_target(state, pool, p)) is not None:
        try:
            return moved_attempt(state, pool, p, target, attempt,
                                 f"{reason}; {target.dataset_id} filled slots of "
                                 f"{p.subtask}"), sid
        except MoveRefused:
            pass
    return _short(p, reason)


def _next_moved(p: ReplenishRequested, replaced: SlotAssigned, move: SlotMove,
                state: RunState, pool: Pool, attempt: int, costly: int
                ) -> tuple[Payload, str]:
    """A moved slot's next attempt stays on the generator it moved to, until its
    `max_attempts` there are spent."""
    spec = state.slots.spec_payload
    assert spec is not None
    max_attempts = settings_of(state.request.payload).max_attempts
    target = next(q for q in spec.quotas if (q.subtask, q.dataset_id, q.plan_id)
                  == (p.subtask, replaced.dataset_id, replaced.plan_id))
    if costly >= max_attempts:
        return _short(p, f"slot {p.slot}: {costly} attempts on {target.dataset_id}, where it "
                         f"moved, rejected after a model's check (max_attempts {max_attempts})")
    try:
        sid = sample_id(p.subtask, p.dataset_id, p.slot, attempt)
        return moved_attempt(state, pool, p, target, attempt, move.reason), sid
    except MoveRefused as exc:
        return _short(p, f"slot {p.slot}: {exc}")


def _short(p: ReplenishRequested, reason: str) -> tuple[Payload, str]:
    return QuotaShortfall(subtask=p.subtask, dataset_id=p.dataset_id, plan_id=p.plan_id,
                          missing=1, slot=p.slot, reason=reason), f"shortfall:{p.slot}"
