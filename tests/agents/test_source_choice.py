"""Which source item a slot attempt takes: seeded, never shared, independent of arrival order."""

from __future__ import annotations

from pathlib import Path

import msgspec

from agents.orchestrator import SourceExhausted, source_for
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
