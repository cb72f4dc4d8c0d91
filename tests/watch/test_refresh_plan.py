"""How a refresh is planned, piece by piece: when a scope saturates, generator parameters
moved toward higher complexity (measured on the real generators), the first events of the
refresh run, and the Orchestrator's source choice that skips the lineage's items."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from agents.keys import derive_seed
from agents.orchestrator import source_for
from agents.plans import GENERATOR_TOOL
from agents.sources import PoolCache
from benchagent.watch.harder import harder_params, mean_complexity
from benchagent.watch.refresh import child_run_id, refresh_events
from benchagent.watch.saturation import MIN_SUBTASK_ITEMS, new_saturations
from replay.projections import RunState
from store import events as ev
from store.events import Envelope, Payload, new_event
from tools.generators.param_sampling import check_value
from tools.generators.registry import get_generator


def sealed(events: list[Envelope[Payload]], run_id: str) -> RunState:
    return RunState.of([msgspec.structs.replace(e, seq=i + 1) for i, e in enumerate(events)],
                       run_id)


def published(run_id: str, subtasks: dict[str, int]) -> list[Envelope[Payload]]:
    out: list[Envelope[Payload]] = [new_event(run_id, "cli", ev.RunRequested(
        requirement="r", size=sum(subtasks.values()), seed=7))]
    ids = []
    for subtask, n in subtasks.items():
        for i in range(n):
            sid = f"{subtask}-{i}"
            ids.append(sid)
            item = ev.BenchmarkItem(id=sid, subtask=subtask, input=sid, target="A")
            out.append(new_event(run_id, "orchestrator", ev.SampleRealized(
                sample_id=sid, item=item,
                source=ev.SourceLabel(dataset_id="d", item_id=sid, field_path="a")), key=sid))
    out.append(new_event(run_id, "verifier", ev.BenchmarkPublished(
        sample_ids=ids, accepted=len(ids), rejected=0, content_hash="h")))
    return out


def scored(run_id: str, model: str, accuracy: float, per: dict[str, float]
           ) -> Envelope[Payload]:
    return new_event(run_id, "evaluator", ev.EvaluationScored(
        model=model, accuracy=accuracy, per_subtask=per, n=10), key=model)


def test_a_scope_saturates_when_its_best_model_reaches_the_threshold() -> None:
    events = published("r", {"big": MIN_SUBTASK_ITEMS + 1, "small": MIN_SUBTASK_ITEMS - 1})
    events += [scored("r", "m1", 0.8, {"big": 0.9, "small": 1.0}),
               scored("r", "m2", 0.7, {"big": 0.95, "small": 0.25})]
    state = sealed(events, "r")
    found = new_saturations(state, 0.85)
    # The benchmark (0.8) stays under 0.85; "big" (0.95 by m2) reaches it; "small" has too
    # few items to say anything.
    assert [(s.scope, s.subtask, s.model, s.accuracy) for s, _ in found] == [
        ("subtask", "big", "m2", 0.95)]
    saturated, cause = found[0]
    assert saturated.evidence == {"m1": 0.9, "m2": 0.95} and saturated.n == MIN_SUBTASK_ITEMS + 1
    assert cause.payload == events[-1].payload
    assert [s.scope for s, _ in new_saturations(state, 0.8)] == ["benchmark", "subtask"]
    # Once recorded, a scope is not found again.
    state.fold(msgspec.structs.replace(new_event("r", "watcher", saturated, cause.event_id),
                                       seq=len(events) + 1))
    assert new_saturations(state, 0.85) == []


@pytest.mark.parametrize("name", ["proofs", "speech_dialogue", "ba_text"])
def test_generator_parameters_move_toward_higher_measured_complexity(name: str) -> None:
    gen = get_generator(name)
    moved = harder_params(gen, {})
    assert moved is not None
    params, before, after = moved
    assert after > before
    assert params  # something moved
    specs = {s.name: s for s in gen.params}
    for key, value in params.items():
        check_value(specs[key], value)  # within its range
    assert mean_complexity(gen, params) == after  # measured, reproducibly
    # A second refresh starts where the first one ended and never goes back down.
    again = harder_params(gen, params)
    assert again is not None and again[1] == after and again[2] >= after


def spec_with_generator(generator: str, params: dict[str, object]) -> ev.SpecFinalized:
    plans = [
        ev.TransformationPlan(plan_id="p-src", subtask="a", dataset_id="7fb63e11",
                              instructions="as is"),
        ev.TransformationPlan(plan_id="p-gen", subtask="b", dataset_id=f"gen-{generator}",
                              instructions="gen", answer_format="generator",
                              target_source="generator",
                              tools=[{"name": GENERATOR_TOOL, "arguments": {
                                  "generator": generator, "params": params}}]),
    ]
    return ev.SpecFinalized(
        subtasks=[ev.Subtask(name=n, description=n, capability=n, answer_format="any")
                  for n in ("a", "b")],
        plans=plans,
        quotas=[ev.Quota(subtask="a", dataset_id="7fb63e11", plan_id="p-src", count=3),
                ev.Quota(subtask="b", dataset_id=f"gen-{generator}", plan_id="p-gen", count=2)])


def parent_state(general_bench: Path, run_id: str = "bench") -> RunState:
    request = ev.RunRequested(requirement="r", size=5, seed=11, pools=[str(general_bench)],
                              eval_models=["scripted:x"], config={"generators": True})
    first = new_event(run_id, "cli", request)
    spec = new_event(run_id, "allocation", spec_with_generator("proofs", {}), first.event_id)
    slots = [new_event(run_id, "orchestrator", ev.SlotAssigned(
        sample_id=f"s{i}", slot=i, subtask="a", dataset_id="7fb63e11", plan_id="p-src",
        source_item_id=f"item-{i}"), spec.event_id, key=str(i)) for i in range(3)]
    slots.append(new_event(run_id, "orchestrator", ev.SlotAssigned(
        sample_id="g0", slot=0, subtask="b", dataset_id="gen-proofs", plan_id="p-gen",
        source_item_id="proofs#0"), spec.event_id, key="g"))
    saturated = new_event(run_id, "watcher", ev.BenchmarkSaturated(
        scope="benchmark", model="m1", accuracy=0.9, threshold=0.8, n=5,
        evidence={"m1": 0.9}, scored_event="x"), None)
    return sealed([first, spec, *slots, saturated], run_id)


def test_the_refresh_run_starts_with_request_link_and_harder_spec(general_bench: Path) -> None:
    parent = parent_state(general_bench)
    first, link, spec = refresh_events(parent, ["m1", "m2"])
    assert {e.run_id for e in (first, link, spec)} == {"bench-v2"}
    assert (link.causation_id, spec.causation_id) == (first.event_id, link.event_id)
    request = first.payload
    assert isinstance(request, ev.RunRequested)
    assert request.requirement == "r" and request.eval_models == []
    assert request.seed == derive_seed(11, "refresh", "bench-v2") % 2**31
    refresh = link.payload
    assert isinstance(refresh, ev.RefreshRequested)
    assert (refresh.parent_run, refresh.root_run, refresh.version) == ("bench", "bench", 2)
    assert refresh.excluded == {"7fb63e11": ["item-0", "item-1", "item-2"]}  # no generator ids
    assert refresh.separate == ["m1", "m2"]
    assert len(refresh.saturation) == 1 and "m1 reached 0.900" in refresh.reason
    (shift,) = refresh.harder
    assert shift.plan_id == "p-gen" and shift.complexity_after > shift.complexity_before
    inherited = spec.payload
    assert isinstance(inherited, ev.SpecFinalized)
    gen_plan = next(p for p in inherited.plans if p.plan_id == "p-gen")
    assert gen_plan.tools[0]["arguments"]["params"] == shift.params_after
    assert inherited.quotas == spec_with_generator("proofs", {}).quotas
    # The same parent gives the same batch: a crashed watcher records it again as a no-op.
    assert [e.event_id for e in refresh_events(parent, ["m2", "m1"])] == [
        first.event_id, link.event_id, spec.event_id]
    # One model alone cannot be separated from anything: no separation check.
    assert refresh_events(parent, ["m1"])[1].payload.separate == []  # type: ignore[union-attr]


def test_a_third_version_excludes_every_item_of_its_lineage(general_bench: Path) -> None:
    parent = parent_state(general_bench)
    v2 = sealed(refresh_events(parent, ["m1", "m2"]) + [new_event(
        "bench-v2", "orchestrator", ev.SlotAssigned(
            sample_id="t0", slot=0, subtask="a", dataset_id="7fb63e11", plan_id="p-src",
            source_item_id="item-9"), None)], "bench-v2")
    assert (v2.lineage.parent, v2.lineage.version) == ("bench", 2)
    assert child_run_id(v2) == "bench-v3"
    link = refresh_events(v2, ["m1", "m2"])[1].payload
    assert isinstance(link, ev.RefreshRequested)
    assert (link.parent_run, link.root_run, link.version) == ("bench-v2", "bench", 3)
    assert link.excluded == {"7fb63e11": ["item-0", "item-1", "item-2", "item-9"]}
    long = child_run_id(parent_state(general_bench, "x" * 80))  # still a valid run id
    assert len(long) == 80 and long.startswith("x" * 68 + "-") and long.endswith("-v2")
    assert long != child_run_id(parent_state(general_bench, "x" * 79 + "y"))


def test_the_orchestrator_draws_no_item_the_lineage_used(general_bench: Path) -> None:
    parent = parent_state(general_bench)
    pool = PoolCache().for_request(parent.request.payload)
    items = [it.id for it in pool.items("7fb63e11")]
    used = items[::2]  # every other item of the dataset
    first, link, spec = refresh_events(parent, [])
    link = msgspec.structs.replace(link, payload=msgspec.structs.replace(
        link.payload, excluded={"7fb63e11": used}))
    child = sealed([first, link, spec], "bench-v2")
    free = len(items) - len(used)
    drawn = [source_for(child, pool, "7fb63e11", "p-src", "a", slot, attempt)[0]
             for attempt in range(1, 100) for slot in range(3)
             if (attempt - 1) * 3 + slot < free]
    assert sorted(drawn) == sorted(set(items) - set(used))  # each free item once, no used one
