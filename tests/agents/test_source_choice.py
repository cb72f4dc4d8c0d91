"""Which source item a slot attempt takes: seeded, never shared, independent of arrival order."""

from __future__ import annotations

from pathlib import Path

import msgspec

from agents.orchestrator import OrchestratorAgent, SourceExhausted
from agents.run_view import RunView
from agents.sources import PoolCache
from store import events as ev
from store.events import new_event


def view_with(general_bench: Path, quotas: list[ev.Quota], seed: int = 5) -> RunView:
    req = new_event("r", "cli", ev.RunRequested(requirement="x", size=1, seed=seed,
                                                pools=[str(general_bench)],
                                                config={"generators": False}), None)
    spec = new_event("r", "allocation", ev.SpecFinalized(subtasks=[], plans=[], quotas=quotas),
                     req.event_id)
    view = RunView("r")
    for i, env in enumerate((req, spec)):
        view.fold(msgspec.structs.replace(env, seq=i + 1))
    return view


def test_slots_sharing_a_dataset_never_share_an_item(general_bench: Path) -> None:
    quotas = [ev.Quota(subtask="a", dataset_id="7fb63e11", plan_id="pa", count=3),
              ev.Quota(subtask="b", dataset_id="7fb63e11", plan_id="pb", count=2),
              ev.Quota(subtask="b", dataset_id="0d20e992", plan_id="pc", count=2)]
    view = view_with(general_bench, quotas)
    orch = OrchestratorAgent(PoolCache())
    taken: dict[tuple[str, str], tuple] = {}
    for q in quotas:
        for slot in range(q.count):
            for attempt in (1, 2, 3):
                item, position = orch._source(view, q.dataset_id, q.plan_id, q.subtask, slot,
                                              attempt)
                assert (q.dataset_id, item) not in taken, (q, slot, attempt)
                taken[(q.dataset_id, item)] = (q.subtask, slot, attempt)
                shared = 5 if q.dataset_id == "7fb63e11" else 2
                offset = 3 if q.plan_id == "pb" else 0
                assert position == offset + slot + (attempt - 1) * shared
    # The same run seed gives the same choice in any process; another seed another one.
    again = OrchestratorAgent(PoolCache())._source(view, "7fb63e11", "pa", "a", 0, 1)
    assert again == orch._source(view, "7fb63e11", "pa", "a", 0, 1)
    other = orch._source(view_with(general_bench, quotas, seed=6), "7fb63e11", "pa", "a", 0, 1)
    assert other != again


def test_a_slot_past_the_end_of_its_source_is_exhausted(general_bench: Path) -> None:
    # Mathematical Word Problem VQA holds 8 items: with 4 slots, attempt 3 runs past the end.
    quotas = [ev.Quota(subtask="m", dataset_id="91f29c38", plan_id="pm", count=4)]
    view = view_with(general_bench, quotas)
    orch = OrchestratorAgent(PoolCache())
    orch._source(view, "91f29c38", "pm", "m", 3, 2)
    try:
        orch._source(view, "91f29c38", "pm", "m", 0, 3)
    except SourceExhausted as exc:
        assert "8 usable items" in str(exc)
    else:
        raise AssertionError("a third round of 4 slots cannot fit in 8 items")
