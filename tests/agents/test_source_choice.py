"""Which source item a slot attempt takes: seeded, never shared, independent of arrival order."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from agents.orchestrator import SourceExhausted, source_for
from agents.orchestrator.slots import left_to
from agents.sources import PoolCache
from replay.projections import RunState
from store import events as ev
from store.events import new_event
from tools.pool import Pool


def state_with(general_bench: Path, quotas: list[ev.Quota], seed: int = 5) -> RunState:
    req = new_event("r", "cli", ev.RunRequested(requirement="x", size=1, seed=seed,
                                                pools=[str(general_bench)],
                                                config={"generators": False}), None)
    spec = new_event("r", "allocation", ev.SpecFinalized(subtasks=[], plans=[], quotas=quotas),
                     req.event_id)
    return RunState.of([msgspec.structs.replace(env, seq=i + 1)
                        for i, env in enumerate((req, spec))], "r")


def pool_of(state: RunState) -> Pool:
    return PoolCache().for_request(state.request.payload)


def test_slots_sharing_a_dataset_never_share_an_item(general_bench: Path) -> None:
    quotas = [ev.Quota(subtask="a", dataset_id="7fb63e11", plan_id="pa", count=3),
              ev.Quota(subtask="b", dataset_id="7fb63e11", plan_id="pb", count=2),
              ev.Quota(subtask="b", dataset_id="0d20e992", plan_id="pc", count=2)]
    state = state_with(general_bench, quotas)
    pool = pool_of(state)
    taken: dict[tuple[str, str], tuple] = {}
    for q in quotas:
        for slot in range(q.count):
            for attempt in (1, 2, 3):
                item, position = source_for(state, pool, q.dataset_id, q.plan_id, q.subtask,
                                            slot, attempt)
                assert (q.dataset_id, item) not in taken, (q, slot, attempt)
                taken[(q.dataset_id, item)] = (q.subtask, slot, attempt)
                shared = 5 if q.dataset_id == "7fb63e11" else 2
                offset = 3 if q.plan_id == "pb" else 0
                assert position == offset + slot + (attempt - 1) * shared
    # The same run seed gives the same choice in any process; another seed another one.
    again = source_for(state, pool_of(state), "7fb63e11", "pa", "a", 0, 1)
    assert again == source_for(state, pool, "7fb63e11", "pa", "a", 0, 1)
    other_seed = state_with(general_bench, quotas, seed=6)
    other = source_for(other_seed, pool, "7fb63e11", "pa", "a", 0, 1)
    assert other != again


def test_a_slot_past_the_end_of_its_source_is_exhausted(general_bench: Path) -> None:
    # Mathematical Word Problem VQA holds 8 items: with 4 slots, attempt 3 runs past the end.
    quotas = [ev.Quota(subtask="m", dataset_id="91f29c38", plan_id="pm", count=4)]
    state = state_with(general_bench, quotas)
    pool = pool_of(state)
    source_for(state, pool, "91f29c38", "pm", "m", 3, 2)
    try:
        source_for(state, pool, "91f29c38", "pm", "m", 0, 3)
    except SourceExhausted as exc:
        assert "8 usable items" in str(exc)
    else:
        raise AssertionError("a third round of 4 slots cannot fit in 8 items")


def with_fates(state: RunState, tried: list[tuple[int, int, bool]]) -> RunState:
    """`state` after the slot attempts `tried` — (slot, attempt, accepted) of quota `m` on
    Mathematical Word Problem VQA — took the items `source_for` gives them."""
    pool = pool_of(state)
    assert state.slots.spec is not None
    assert state.request.event is not None
    events = [state.request.event, state.slots.spec]
    for slot, attempt, accepted in tried:
        current = RunState.of([msgspec.structs.replace(e, seq=i + 1)
                               for i, e in enumerate(events)], "r")
        item, _ = source_for(current, pool, "91f29c38", "pm", "m", slot, attempt)
        sid = f"m-{slot}-a{attempt}"
        events.append(new_event("r", "orchestrator", ev.SlotAssigned(
            sample_id=sid, slot=slot, subtask="m", dataset_id="91f29c38", plan_id="pm",
            source_item_id=item, attempt=attempt), events[1].event_id))
        if accepted:
            events.append(new_event("r", "verifier", ev.SampleAccepted(sample_id=sid,
                                                                       subtask="m"),
                                    events[-1].event_id))
    return RunState.of([msgspec.structs.replace(e, seq=i + 1) for i, e in enumerate(events)], "r")


def test_a_slot_past_its_share_takes_what_filled_slots_left(general_bench: Path) -> None:
    # 8 items, 4 slots: slot k's own share is positions k and k + 4.
    quotas = [ev.Quota(subtask="m", dataset_id="91f29c38", plan_id="pm", count=4)]
    state = state_with(general_bench, quotas)
    pool = pool_of(state)
    # Slots 0 and 1 fill at once: they leave positions 4 and 5, to slots (0+2)%4 and (1+2)%4.
    after = with_fates(state, [(0, 1, True), (1, 1, True), (2, 1, False), (2, 2, False),
                               (3, 1, False), (3, 2, False)])
    assert left_to(after, "91f29c38", 2, 8) == [4] and left_to(after, "91f29c38", 3, 8) == [5]
    assert left_to(after, "91f29c38", 0, 8) == []  # nothing left by an unfilled slot
    item2, position2 = source_for(after, pool, "91f29c38", "pm", "m", 2, 3)
    item3, position3 = source_for(after, pool, "91f29c38", "pm", "m", 3, 3)
    assert (position2, position3) == (4, 5) and item2 != item3
    drawn = {a.source_item_id for a in after.slots.slots.values()}
    assert item2 not in drawn and item3 not in drawn  # never an item another attempt took
    # Once slot 3 has tried what was left to it, it is short, and the message says why.
    later = with_fates(state, [(0, 1, True), (1, 1, True), (3, 1, False), (3, 2, False),
                               (3, 3, False)])
    with pytest.raises(SourceExhausted, match="no filled slot left one to this one"):
        source_for(later, pool, "91f29c38", "pm", "m", 3, 4)
    # Without filled slots, a slot past its share is short at once (as before).
    with pytest.raises(SourceExhausted, match="8 usable items"):
        source_for(state, pool, "91f29c38", "pm", "m", 0, 3)
