"""A stalled run's open slots are reported short, each with where its work stopped.

`RunStalled` says no role had work and the run had not ended: some handler dropped what a
slot waited for (a bug, e.g. two quotas that gave the same sample ids, which left two slots
never assigned). Waiting longer cannot fill such a slot; reporting it short lets the
Verifier publish what was accepted, and the shortfall's reason tells the auditor which step
of the slot never happened.
"""

from __future__ import annotations

from agents.base import Batch
from replay.projections import RunState
from replay.projections.slots import SlotKey
from store.events import QuotaShortfall, RunStalled


def stalled_shortfalls(stall: RunStalled, state: RunState) -> Batch:
    """A `QuotaShortfall` for every slot neither filled nor reported short, with its key."""
    batch: Batch = []
    for key in state.slots.slot_keys():
        if state.slots.slot_state(key) != "pending":
            continue
        subtask, dataset_id, plan_id, slot = key
        reason = (f"slot {slot}: the run stalled after seq {stall.after_seq} (no role had work "
                  f"for {stall.quiet_s:g} s) and {where_it_stopped(key, state)}")
        batch.append((QuotaShortfall(subtask=subtask, dataset_id=dataset_id, plan_id=plan_id,
                                     missing=1, slot=slot, reason=reason),
                      f"stalled:{subtask}:{dataset_id}:{plan_id}:{slot}"))
    return batch


def where_it_stopped(key: SlotKey, state: RunState) -> str:
    """The step of the slot's latest attempt that never happened."""
    attempts = state.slots.attempts.get(key, {})
    if not attempts:
        return "the slot was never assigned"
    sid = attempts[max(attempts)]
    if sid not in state.samples.realized:
        return f"its attempt {sid} was assigned but never realized"
    if not state.samples.decided(sid):
        return f"its attempt {sid} was realized but never verified"
    return f"its attempt {sid} was rejected but never replenished"
