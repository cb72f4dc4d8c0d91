"""The spec and its sample slots: which source item each slot attempt took, which slots are
filled (an accepted sample) or reported short, and whether every slot is resolved.

A slot is (subtask, dataset, plan, index) of a quota of `SpecFinalized`; attempt 1 fills
it, each replenishment tries again with attempt + 1. A moved attempt (`SlotAssigned.moved_from`)
draws on another grounding but still fills its own quota's slot.
"""

from __future__ import annotations

from collections import defaultdict

from replay.projections.base import Projection
from store.dispatch import on
from store.events import (
    Envelope,
    QuotaShortfall,
    ReplenishRequested,
    SampleAccepted,
    SlotAssigned,
    SpecFinalized,
)

SlotKey = tuple[str, str, str, int]  # (subtask, dataset_id, plan_id, slot)


def slot_key(p: SlotAssigned | ReplenishRequested) -> SlotKey:
    """The quota slot an attempt (or a replenishment) is for."""
    if isinstance(p, SlotAssigned):
        return (p.subtask, p.quota_dataset_id, p.quota_plan_id, p.slot)
    return (p.subtask, p.dataset_id, p.plan_id, p.slot)


class SpecSlots(Projection):
    def __init__(self) -> None:
        self.spec: Envelope[SpecFinalized] | None = None  # the first: the one the run works on
        self.slots: dict[str, SlotAssigned] = {}  # by sample id
        self.attempts: defaultdict[SlotKey, dict[int, str]] = defaultdict(dict)  # -> sample ids
        self.replenish: dict[str, Envelope[ReplenishRequested]] = {}  # by event id
        self.shortfalls: dict[SlotKey, Envelope[QuotaShortfall]] = {}
        self.accepted: set[str] = set()  # sample ids
        self.filled: set[SlotKey] = set()  # slots with an accepted sample

    @on(SpecFinalized)
    def _spec(self, env: Envelope[SpecFinalized]) -> None:
        if self.spec is None:
            self.spec = env

    @on(SlotAssigned)
    def _assigned(self, env: Envelope[SlotAssigned]) -> None:
        p = env.payload
        if p.sample_id not in self.slots:
            self.slots[p.sample_id] = p
            self.attempts[slot_key(p)][p.attempt] = p.sample_id

    @on(SampleAccepted)
    def _accepted(self, env: Envelope[SampleAccepted]) -> None:
        sid = env.payload.sample_id
        self.accepted.add(sid)
        slot = self.slots.get(sid)
        if slot is not None:
            self.filled.add(slot_key(slot))

    @on(ReplenishRequested)
    def _replenish(self, env: Envelope[ReplenishRequested]) -> None:
        self.replenish[env.event_id] = env

    @on(QuotaShortfall)
    def _short(self, env: Envelope[QuotaShortfall]) -> None:
        p = env.payload
        if p.slot >= 0:
            self.shortfalls.setdefault((p.subtask, p.dataset_id, p.plan_id, p.slot), env)
        elif (cause := self.replenish.get(env.causation_id or "")) is not None:
            self.shortfalls.setdefault(slot_key(cause.payload), env)

    # --------------------------------------------------------------- queries

    @property
    def spec_payload(self) -> SpecFinalized | None:
        return self.spec.payload if self.spec is not None else None

    def slot_keys(self) -> list[SlotKey]:
        """Every sample slot the spec asks for, in a stable order."""
        spec = self.spec_payload
        if spec is None:
            return []
        keys = []
        for q in spec.quotas:
            keys += [(q.subtask, q.dataset_id, q.plan_id, s) for s in range(q.count)]
        return keys

    def quota(self) -> int:
        """How many samples the spec asks for (0 before the spec)."""
        spec = self.spec_payload
        return sum(q.count for q in spec.quotas) if spec is not None else 0

    def slot_state(self, key: SlotKey) -> str:
        """accepted | exhausted | pending."""
        for sid in self.attempts.get(key, {}).values():
            if sid in self.accepted:
                return "accepted"
        if key in self.shortfalls:
            return "exhausted"
        return "pending"

    def accepted_in_slots(self) -> list[str]:
        """The accepted sample of every accepted slot (one per slot), sorted."""
        out = []
        for key in self.slot_keys():
            ids = [sid for _, sid in sorted(self.attempts.get(key, {}).items())]
            out += [sid for sid in ids if sid in self.accepted][:1]
        return sorted(out)

    def all_slots_resolved(self) -> bool:
        """Every slot of the spec is filled or reported short (counted incrementally)."""
        total = self.quota()
        return total > 0 and len(self.filled | self.shortfalls.keys()) >= total
