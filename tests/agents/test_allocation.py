"""Allocation: the exact integer program, and the agent's diagnosis when it is infeasible."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from agents.allocation import AllocationAgent
from agents.allocation_solver import Candidate, Infeasible, allocate
from store import events as ev
from store.events import new_event
from store.sqlite_log import SQLiteEventLog
from tests.agents.log_context import LogContext


def cands(*specs: tuple[str, str, int]) -> list[Candidate]:
    return [Candidate(s, d, f"p{i}", cap) for i, (s, d, cap) in enumerate(specs)]


@pytest.mark.parametrize("size", [1, 3, 7, 12, 50, 203])
def test_quotas_sum_exactly_and_respect_shared_capacities(size: int) -> None:
    cs = cands(("a", "d1", 100), ("a", "d2", 3), ("b", "d1", 100), ("c", "d3", 2), ("c", "d4", 500))
    if size < 3:
        with pytest.raises(Infeasible) as err:
            allocate(cs, size)
        assert err.value.binding == "coverage"
        result = allocate(cs, size, coverage=False)
    else:
        result = allocate(cs, size)
        for sub in "abc":
            assert sum(k for c, k in zip(cs, result.counts, strict=True) if c.subtask == sub) >= 1
    assert sum(result.counts) == size
    used: dict[str, int] = {}
    for c, k in zip(cs, result.counts, strict=True):
        used[c.dataset_id] = used.get(c.dataset_id, 0) + k
    assert used.get("d1", 0) <= 100 and used.get("d2", 0) <= 3 and used.get("d3", 0) <= 2


def test_the_split_is_as_even_as_capacity_allows() -> None:
    cs = cands(("a", "d1", 100), ("b", "d2", 100), ("c", "d3", 1))
    counts = allocate(cs, 12).counts
    assert counts[2] == 1 and sorted(counts[:2]) == [5, 6]
    # Brute force: no other feasible split has a smaller sum of squared subtask totals.
    best = min(sum(x * x for x in split) for split in itertools.product(range(13), repeat=3)
               if sum(split) == 12 and split[2] <= 1 and min(split) >= 1)
    assert sum(x * x for x in counts) == best


def test_same_input_same_quotas() -> None:
    cs = cands(("a", "d1", 9), ("a", "d2", 9), ("b", "d3", 9), ("b", "d1", 9))
    assert allocate(cs, 11).counts == allocate(cs, 11).counts


def test_capacity_shortage_names_the_datasets() -> None:
    with pytest.raises(Infeasible) as err:
        allocate(cands(("a", "d1", 4), ("b", "d2", 3)), 10)
    assert err.value.binding == "capacity" and "d1=4" in err.value.detail and "10" in err.value.detail


async def _run_allocation(tmp_path: Path, size: int, groundings: list[ev.Grounding]) -> list:
    log = SQLiteEventLog(tmp_path / "events.db")
    try:
        run = "alloc"
        req = new_event(run, "cli", ev.RunRequested(requirement="r", size=size, seed=1), None)
        sub = ev.Subtask(name="a", description="d", capability="c", answer_format="short_answer")
        subs = [sub, ev.Subtask(name="b", description="d", capability="c", answer_format="short_answer")]
        design = new_event(run, "design", ev.DesignAccepted(subtasks=subs, round=1), req.event_id)
        plans = [new_event(run, "grounding", ev.PlanProposed(plan=ev.TransformationPlan(
            plan_id=g.plan_id, subtask=g.subtask, dataset_id=g.dataset_id, instructions="i")),
            design.event_id, g.plan_id) for g in groundings]
        grounded = new_event(run, "grounding", ev.SubtasksGrounded(groundings=groundings, round=1),
                             design.event_id)
        await log.append([req, design, *plans, grounded])
        await AllocationAgent().handle((await log.read(run))[-1], LogContext(log, run, "allocation"))
        return await log.read(run)
    finally:
        await log.close()


async def test_agent_fails_clearly_when_capacity_binds(tmp_path: Path) -> None:
    events = await _run_allocation(tmp_path, 20, [
        ev.Grounding(subtask="a", dataset_id="d1", plan_id="p1", capacity=5),
        ev.Grounding(subtask="b", dataset_id="d2", plan_id="p2", capacity=6)])
    diag = [e.payload for e in events if e.type == "AllocationDiagnosed"]
    assert len(diag) == 1 and not diag[0].feasible and diag[0].binding_constraint == "capacity"
    failed = [e.payload for e in events if e.type == "RunFailed"]
    assert failed and failed[0].stage == "allocation" and "11 usable items" in failed[0].reason
    assert not [e for e in events if e.type == "SpecFinalized"]


async def test_agent_relaxes_coverage_and_names_what_is_left_out(tmp_path: Path) -> None:
    events = await _run_allocation(tmp_path, 1, [
        ev.Grounding(subtask="a", dataset_id="d1", plan_id="p1", capacity=5),
        ev.Grounding(subtask="b", dataset_id="d2", plan_id="p2", capacity=6)])
    (diag,) = [e.payload for e in events if e.type == "AllocationDiagnosed"]
    assert diag.binding_constraint == "coverage" and "no samples for b" in diag.adjustment
    (spec,) = [e.payload for e in events if e.type == "SpecFinalized"]
    assert [(q.subtask, q.count) for q in spec.quotas] == [("a", 1)]
    assert [p.plan_id for p in spec.plans] == ["p1"]


async def test_agent_feasible_case_explains_the_split(tmp_path: Path) -> None:
    events = await _run_allocation(tmp_path, 7, [
        ev.Grounding(subtask="a", dataset_id="d1", plan_id="p1", capacity=2),
        ev.Grounding(subtask="a", dataset_id="d3", plan_id="p3", capacity=50),
        ev.Grounding(subtask="b", dataset_id="d2", plan_id="p2", capacity=60)])
    (diag,) = [e.payload for e in events if e.type == "AllocationDiagnosed"]
    assert diag.feasible
    (quotas,) = [e.payload for e in events if e.type == "QuotasAllocated"]
    assert sum(q.count for q in quotas.quotas) == 7 and quotas.method == "milp"
