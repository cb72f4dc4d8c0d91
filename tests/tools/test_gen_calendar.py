"""BA-Calendar generator: parameters, exact solver, verification checks, scorer, rendering."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from tools.cards import DatasetCard, parse_card
from tools.generators.base import Instance, ParamError
from tools.generators.calendar import CalendarGenerator
from tools.generators.calendar_solver import (
    NO_SLOT,
    UNIT,
    WEEKEND,
    CalendarProblem,
    Slot,
    check_slot,
    parse_answer,
    slot_text,
    solve,
)

GEN = CalendarGenerator()


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def problem(**overrides: object) -> CalendarProblem:
    """p1 free Monday 09:00-12:00 and Tuesday 08:00-09:00; p2 Monday 10:00-11:30, 14:00-15:00
    and Tuesday 08:00-10:00."""
    base: dict[str, object] = {
        "days": ["Monday", "Tuesday"],
        "availability": {
            "p1": {"Monday": [(hm("09:00"), hm("12:00"))], "Tuesday": [(hm("08:00"), hm("09:00"))]},
            "p2": {"Monday": [(hm("10:00"), hm("11:30")), (hm("14:00"), hm("15:00"))],
                   "Tuesday": [(hm("08:00"), hm("10:00"))]},
        },
        "meeting_minutes": 60,
    }
    base.update(overrides)
    return msgspec.convert(base, CalendarProblem)


def instance_of(p: CalendarProblem, feasibility: str = "feasible") -> Instance:
    solution = solve(p)
    return Instance(generator="calendar", seed=0, params={"feasibility": feasibility},
                    content=msgspec.to_builtins(p), answer=slot_text(solution.first),
                    complexity=solution.complexity)


def brute_force(p: CalendarProblem) -> tuple[Slot | None, int]:
    """Every start on the 5-minute grid, each constraint checked on its own."""
    first, count = None, 0
    for day in p.days:
        for start in range(0, 24 * 60 - p.meeting_minutes + 1, UNIT):
            slot = Slot(day, start, start + p.meeting_minutes)
            checks = check_slot(p, slot, None)
            checks.pop("priority", None)
            if all(checks.values()):
                count += 1
                first = first or slot
    return first, count


# -- the solver ---------------------------------------------------------------------------------


def test_solver_finds_the_only_slot_with_buffers_and_counts_slots() -> None:
    p = problem(buffer_minutes=15)
    solution = solve(p)
    # Window [s-15, s+75] inside both Monday 10:00-11:30 → s = 10:15 exactly.
    assert slot_text(solution.first) == "Monday 10:15-11:15"
    assert solution.feasible_slots == 1
    # Someone free for a whole hour: p1 Mon 09:00..11:00 (25 starts), p2 Mon 10:00..10:30
    # (inside p1's), p2 Mon 14:00 (1), Tue p1 08:00 (1) + p2 08:00..09:00 (13, 08:00 shared).
    assert solution.available_slots == 25 + 1 + 13
    assert solution.complexity == pytest.approx(1 - 1 / 39)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "Monday 10:00-11:00"),
        ({"blackout": (hm("10:00"), hm("11:00"))}, "Tuesday 08:00-09:00"),
        ({"no_meetings_before": hm("10:45")}, NO_SLOT),
        ({"no_meetings_after": hm("10:30")}, "Tuesday 08:00-09:00"),
        ({"meeting_minutes": 90}, "Monday 10:00-11:30"),
        ({"meeting_minutes": 120}, NO_SLOT),
        ({"days": ["Tuesday"]}, "Tuesday 08:00-09:00"),
    ],
)
def test_solver_applies_each_constraint(overrides: dict[str, object], expected: str) -> None:
    assert slot_text(solve(problem(**overrides)).first) == expected


def test_weekdays_only_skips_weekend_days() -> None:
    p = problem(days=["Saturday", "Sunday"], availability={
        "p1": {"Saturday": [(540, 720)], "Sunday": [(540, 720)]},
        "p2": {"Saturday": [(540, 720)], "Sunday": [(540, 720)]},
    })
    assert solve(p).first == Slot("Saturday", 540, 600)
    weekdays = msgspec.structs.replace(p, weekdays_only=True)
    assert solve(weekdays).first is None and solve(weekdays).feasible_slots == 0


def test_solver_matches_a_brute_force_search_on_generated_instances() -> None:
    for seed in range(40):
        inst = GEN.sample(seed, {"feasibility": "infeasible" if seed % 4 == 0 else "feasible"})
        p = msgspec.convert(inst.content, CalendarProblem)
        first, count = brute_force(p)
        solution = solve(p)
        assert solution.first == first, seed
        assert solution.feasible_slots == count, seed


# -- sampling -----------------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_and_different_seeds_differ() -> None:
    a, b = GEN.sample(7), GEN.sample(7)
    assert msgspec.json.encode(a) == msgspec.json.encode(b)
    assert GEN.render(a, Path(".")).input == GEN.render(b, Path(".")).input
    assert msgspec.json.encode(GEN.sample(8)) != msgspec.json.encode(a)


def test_resolved_params_reproduce_the_instance() -> None:
    for seed in range(10):
        inst = GEN.sample(seed, {"n_participants": 3} if seed % 2 else None)
        params = msgspec.json.decode(msgspec.json.encode(inst.params))
        assert GEN.sample(seed, params) == inst


def test_generated_instances_respect_their_parameters_and_pass_every_check() -> None:
    seen_infeasible = 0
    for seed in range(150):
        feasibility = "infeasible" if seed % 3 == 0 else "feasible"
        inst = GEN.sample(seed, {"feasibility": feasibility})
        checks = GEN.verify(inst)
        assert [c.check for c in checks] == ["consistency", "feasibility", "complexity"]
        assert all(c.passed for c in checks), (seed, checks)
        assert (inst.answer == NO_SLOT) == (feasibility == "infeasible")
        seen_infeasible += inst.answer == NO_SLOT
        assert 0.0 <= inst.complexity <= 1.0
    assert seen_infeasible == 50


def test_given_params_are_used_verbatim() -> None:
    params = {"n_participants": 10, "n_days": 7, "meeting_minutes": 30, "buffer_minutes": 10,
              "weekdays_only": True, "no_meetings_before": "09:00", "high_priority": True,
              "blackout": "12:00-13:00", "min_blocks_per_day": 3, "max_blocks_per_day": 3}
    inst = GEN.sample(3, params)
    assert {k: inst.params[k] for k in params} == params
    p = msgspec.convert(inst.content, CalendarProblem)
    assert len(p.availability) == 10 and len(p.days) == 7
    assert all(len(blocks) == 3 for person in p.availability.values()
               for blocks in person.values())
    first = solve(p).first
    assert first is not None and first.day not in WEEKEND and first.start >= hm("09:00")
    assert first.end <= hm("12:00") or first.start >= hm("13:00")


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"n_participants": 11}, ["n_participants", "[2, 10]"]),
        ({"n_participants": 1}, ["n_participants"]),
        ({"n_days": 0}, ["n_days", "[1, 7]"]),
        ({"n_days": True}, ["n_days"]),
        ({"meeting_minutes": 50}, ["meeting_minutes", "120"]),
        ({"buffer_minutes": 20}, ["buffer_minutes"]),
        ({"earliest_start": "05:00"}, ["earliest_start"]),
        ({"blackout": "13:00-14:00"}, ["blackout"]),
        ({"weekdays_only": "yes"}, ["weekdays_only"]),
        ({"feasibility": "maybe"}, ["feasibility"]),
        ({"colour": "red"}, ["unknown parameter 'colour'"]),
    ],
)
def test_out_of_range_params_are_refused_by_name(params: dict[str, object],
                                                 names: list[str]) -> None:
    with pytest.raises(ParamError) as err:
        GEN.sample(0, params)
    for name in names:
        assert name in str(err.value)


def test_conflicting_given_params_are_refused_with_the_culprits() -> None:
    with pytest.raises(ParamError, match="min_blocks_per_day=4 exceeds max_blocks_per_day=2"):
        GEN.sample(0, {"min_blocks_per_day": 4, "max_blocks_per_day": 2})
    with pytest.raises(ParamError, match="max_block_minutes=60"):
        GEN.sample(0, {"meeting_minutes": 120, "buffer_minutes": 30, "max_block_minutes": 60})
    # A drawn parameter that conflicts is drawn again instead.
    inst = GEN.sample(0, {"meeting_minutes": 120, "buffer_minutes": 30})
    assert inst.params["max_block_minutes"] >= 180 and GEN.verify(inst)[1].passed


# -- verification checks catch planted bad instances ----------------------------------------


def _tamper(inst: Instance, **changes: object) -> Instance:
    return msgspec.structs.replace(inst, **changes)


def test_consistency_check_catches_a_schedule_that_breaks_its_parameters() -> None:
    inst = GEN.sample(11, {"max_block_minutes": 60, "n_participants": 3})
    content = msgspec.json.decode(msgspec.json.encode(inst.content))
    person = content["availability"]["p1"]
    day = next(iter(person))
    start = person[day][0][0]
    person[day][0] = [start, start + 75]  # longer than max_block_minutes
    bad = GEN.verify(_tamper(inst, content=content))
    assert [c.passed for c in bad][0] is False and "outside [" in bad[0].reason
    dropped = msgspec.json.decode(msgspec.json.encode(inst.content))
    del dropped["availability"]["p3"]
    assert "participants" in GEN.verify(_tamper(inst, content=dropped))[0].reason
    changed = {**inst.content, "meeting_minutes": 15 if inst.params["meeting_minutes"] != 15
               else 30}
    assert "meeting_minutes" in GEN.verify(_tamper(inst, content=changed))[0].reason


def test_feasibility_check_catches_a_wrong_answer_and_a_wrong_feasibility_claim() -> None:
    inst = GEN.sample(12)
    wrong = GEN.verify(_tamper(inst, answer="Sunday 23:00-23:30"))
    assert not wrong[1].passed and "solver" in wrong[1].reason
    infeasible = GEN.sample(12, {"feasibility": "infeasible"})
    claimed = _tamper(infeasible, params={**infeasible.params, "feasibility": "feasible"})
    result = GEN.verify(claimed)[1]
    assert not result.passed and "no slot" in result.reason


def test_complexity_check_catches_a_wrong_complexity() -> None:
    inst = GEN.sample(13)
    assert GEN.verify(inst)[2].passed
    bad = GEN.verify(_tamper(inst, complexity=inst.complexity / 2))[2]
    assert not bad.passed and "recomputed" in bad.reason


def test_malformed_content_fails_every_check() -> None:
    inst = GEN.sample(14)
    checks = GEN.verify(_tamper(inst, content={"days": "Monday"}))
    assert [c.passed for c in checks] == [False, False, False]


# -- the scorer ---------------------------------------------------------------------------------


def test_scorer_accepts_the_right_slot_in_several_spellings() -> None:
    inst = instance_of(problem(buffer_minutes=15, high_priority=True))
    for answer in ("Monday 10:15-11:15", "monday, 10:15 am - 11:15 am",
                   "Let me check Tuesday 08:00-09:00 first... no. Final: Mon 10:15 to 11:15"):
        score = GEN.score(inst, answer)
        assert score.correct and score.score == 1.0, answer
        assert score.detail["constraints"] == {"availability": True, "meeting_duration": True,
                                               "buffer_time": True, "priority": True}


def test_scorer_checks_each_constraint_and_gives_partial_credit() -> None:
    inst = instance_of(problem(buffer_minutes=15, high_priority=True,
                               blackout=(hm("14:00"), hm("14:30"))))
    too_short = GEN.score(inst, "Monday 10:15-11:00")
    assert not too_short.correct
    assert too_short.detail["constraints"] == {
        "availability": True, "meeting_duration": False, "buffer_time": True,
        "blackout": True, "priority": True}
    assert too_short.score == pytest.approx(4 / 5)
    no_buffer = GEN.score(inst, "Monday 10:00-11:00")  # free, but no buffer, not first
    assert no_buffer.detail["constraints"]["buffer_time"] is False
    assert no_buffer.detail["constraints"]["priority"] is False
    assert no_buffer.score == pytest.approx(3 / 5)
    nobody = GEN.score(inst, "Wednesday 10:15-11:15")  # not a day of the schedule
    assert nobody.detail["constraints"]["availability"] is False and not nobody.correct


def test_without_priority_any_feasible_slot_is_right() -> None:
    p = problem(meeting_minutes=30)
    inst = instance_of(p)
    assert inst.answer == "Monday 10:00-10:30"
    later = GEN.score(inst, "Monday 10:45-11:15")
    assert later.correct and "priority" not in later.detail["constraints"]


def test_scorer_on_no_slot_answers_feasible_and_infeasible() -> None:
    feasible = instance_of(problem())
    refused = GEN.score(feasible, "No common time slot available")
    assert not refused.correct and refused.score == 0.0
    infeasible = instance_of(problem(no_meetings_before=hm("10:45")), "infeasible")
    assert infeasible.answer == NO_SLOT
    right = GEN.score(infeasible, "After checking everything: no common time slot available.")
    assert right.correct and right.score == 1.0
    invented = GEN.score(infeasible, "Monday 10:00-11:00")
    assert not invented.correct
    assert invented.detail["constraints"]["no_meetings_before"] is False
    assert 0.0 < invented.score < 1.0
    assert GEN.score(infeasible, "I cannot tell.").score == 0.0


def test_answer_parser_takes_the_last_statement() -> None:
    assert parse_answer("Monday 09:00-10:00 fails, so: no common time slot") == NO_SLOT
    assert parse_answer("No common slot on Monday; Tuesday 9am-10am works") == Slot(
        "Tuesday", 540, 600)
    assert parse_answer("Thursday 1:00 pm – 2:30 pm") == Slot("Thursday", 780, 870)
    assert parse_answer("sometime next week") is None


# -- rendering and card -------------------------------------------------------------------------


def test_render_states_every_active_constraint_and_all_availability(tmp_path: Path) -> None:
    params = {"n_participants": 4, "buffer_minutes": 10, "weekdays_only": True,
              "no_meetings_before": "09:00", "no_meetings_after": "17:00",
              "high_priority": True, "blackout": "12:00-13:00"}
    inst = GEN.sample(21, params)
    item = GEN.render(inst, tmp_path)
    assert item.target == inst.answer and item.media == [] and list(tmp_path.iterdir()) == []
    for phrase in ("buffer time of 10 minutes", "No meetings on weekends",
                   "must not start before 09:00", "must not end after 17:00",
                   "No meetings during 12:00-13:00", "first available slot", NO_SLOT):
        assert phrase in item.input
    assert all(f"p{i}:" in item.input for i in range(1, 5))
    assert item.metadata["complexity"] == inst.complexity
    with pytest.raises(ParamError, match="render mode"):
        GEN.render(inst, tmp_path, mode="image")


def test_card_is_a_pool_card() -> None:
    card = parse_card("gen-calendar", GEN.card())
    assert isinstance(card, DatasetCard)
    assert card.dataset_id == "gen-calendar" and card.generator == "calendar"
    names = {p["name"] for p in GEN.card()["raw_meta"]["parameters"]}
    assert {"n_participants", "blackout", "high_priority", "buffer_minutes"} <= names
