"""Calendar scheduling (BA-Calendar, BenchAgents appendix A.1).

Parameters and constraints are those of the paper's plan: participants 2–10,
days 1–7, blocks per day, block lengths, earliest start / latest end; meeting
duration, buffer before and after, weekdays only, no meetings before / after,
high priority (= the first available slot), blackout periods. Parameters left
out are drawn from their ranges with the seed; `feasibility` (default
"feasible") says whether the instance must have a solution.

Generation follows the paper: sample the parameters and constraints, sample a
candidate answer that satisfies the constraints, then sample availability
around it (every participant gets a block covering the candidate meeting and
its buffers). Infeasible instances are drawn without a candidate and kept only
when the exact solver finds no slot. The true answer always comes from the
solver (`calendar_solver`), never from the candidate.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec

from tools.generators.base import (
    CheckResult,
    Instance,
    ParamError,
    ParamSpec,
    RenderedItem,
    Score,
)
from tools.generators.calendar_solver import (
    NO_SLOT,
    UNIT,
    WEEK,
    WEEKEND,
    CalendarProblem,
    Slot,
    Solution,
    check_slot,
    constraint_names,
    hhmm,
    parse_answer,
    parse_hhmm,
    slot_text,
    solve,
)
from tools.generators.card_format import field, generator_card
from tools.generators.check_results import all_failed, complexity_check, failing
from tools.generators.param_sampling import instance_rng, params_rng, redraw, resolve_params
from tools.generators.rendering import check_mode, instance_metadata

GRID = 15  # minutes: availability blocks start and end on this grid
_MODES = ("default", "text")
_ATTEMPTS = 200  # candidate answers / availability draws per parameter draw
_PARAM_DRAWS = 50
_REPAIRS = 20  # re-drawn participant-days per day when an infeasible instance is wanted

PARAMS: list[ParamSpec] = [
    ParamSpec(name="n_participants", kind="int", low=2, high=10,
              description="Number of participants in the availability schedule"),
    ParamSpec(name="n_days", kind="int", low=1, high=7,
              description="Number of days in the availability schedule"),
    ParamSpec(name="min_block_minutes", kind="choice", choices=[15, 30, 45, 60],
              description="Minimum length of an availability block"),
    ParamSpec(name="max_block_minutes", kind="choice", choices=[60, 90, 120, 180, 240],
              description="Maximum length of an availability block"),
    ParamSpec(name="min_blocks_per_day", kind="int", low=1, high=5,
              description="Minimum number of availability blocks per participant per day"),
    ParamSpec(name="max_blocks_per_day", kind="int", low=1, high=5,
              description="Maximum number of availability blocks per participant per day"),
    ParamSpec(name="earliest_start", kind="choice", choices=["06:00", "07:00", "08:00", "09:00"],
              description="Earliest time in the availability schedule"),
    ParamSpec(name="latest_end", kind="choice", choices=["17:00", "18:00", "19:00", "20:00"],
              description="Latest time in the availability schedule"),
    ParamSpec(name="meeting_minutes", kind="choice", choices=[15, 30, 45, 60, 90, 120],
              description="Constraint: meeting duration"),
    ParamSpec(name="buffer_minutes", kind="choice", choices=[0, 5, 10, 15, 30],
              description="Constraint: free time required before and after the meeting"),
    ParamSpec(name="weekdays_only", kind="bool",
              description="Constraint: no meetings on weekends"),
    ParamSpec(name="no_meetings_before", kind="choice", choices=[None, "08:00", "09:00", "10:00"],
              description="Constraint: the meeting may not start before this time"),
    ParamSpec(name="no_meetings_after", kind="choice", choices=[None, "17:00", "18:00", "19:00"],
              description="Constraint: the meeting may not end after this time"),
    ParamSpec(name="high_priority", kind="bool",
              description="Constraint: the meeting must be in the first available slot"),
    ParamSpec(name="blackout", kind="choice", choices=[None, "12:00-13:00", "16:00-17:00"],
              description="Constraint: no meetings during this period"),
    ParamSpec(name="feasibility", kind="choice", choices=["feasible", "infeasible"],
              default="feasible",
              description="Whether the instance must have a common slot (not drawn)"),
]


class _Unreachable(Exception):
    """The parameters admit no instance of the requested kind; names the culprits."""

    def __init__(self, names: list[str], why: str) -> None:
        super().__init__(why)
        self.names = names


def _problem(content: dict[str, Any]) -> CalendarProblem:
    return msgspec.convert(content, CalendarProblem)


def _constraints(p: dict[str, Any]) -> dict[str, Any]:
    """The constraint fields of a CalendarProblem from resolved parameters."""
    blackout = None
    if p["blackout"] is not None:
        b0, b1 = p["blackout"].split("-")
        blackout = (parse_hhmm(b0), parse_hhmm(b1))
    return {
        "meeting_minutes": p["meeting_minutes"],
        "buffer_minutes": p["buffer_minutes"],
        "weekdays_only": p["weekdays_only"],
        "no_meetings_before": None if p["no_meetings_before"] is None
        else parse_hhmm(p["no_meetings_before"]),
        "no_meetings_after": None if p["no_meetings_after"] is None
        else parse_hhmm(p["no_meetings_after"]),
        "high_priority": p["high_priority"],
        "blackout": blackout,
    }


def _uniform_int(rng: random.Random, low: int, high: int) -> int:
    """Like rng.randint(low, high), several times cheaper (this is the hot path)."""
    return low + int(rng.random() * (high - low + 1))


def _layout(rng: random.Random, room: int, k: int, mn: int, mx: int) -> list[tuple[int, int]]:
    """Exactly k blocks (grid units) in [0, room), lengths in [mn, mx], gaps of ≥ 1 unit."""
    if k == 0:
        return []
    lengths = [_uniform_int(rng, mn, mx) for _ in range(k)]
    excess = sum(lengths) + k - 1 - room
    i = _uniform_int(rng, 0, k - 1)
    while excess > 0:  # shorten blocks until they fit (callers ensure k*mn + k-1 <= room)
        cut = min(excess, lengths[i] - mn)
        lengths[i] -= cut
        excess -= cut
        i = (i + 1) % k
    free = room - (sum(lengths) + k - 1)
    cuts = sorted(_uniform_int(rng, 0, free) for _ in range(k))
    gaps = [cuts[0]] + [b - a for a, b in zip(cuts, cuts[1:], strict=False)]
    blocks, pos = [], 0
    for j in range(k):
        pos += gaps[j] + (1 if j else 0)
        blocks.append((pos, pos + lengths[j]))
        pos += lengths[j]
    return blocks


def _capacity(room: int, mn: int) -> int:
    """How many blocks of at least mn units fit in room units with 1-unit gaps."""
    return max(0, (room + 1) // (mn + 1))


def _to_minutes(blocks: list[tuple[int, int]], day_start: int) -> list[tuple[int, int]]:
    return [(day_start + a * GRID, day_start + b * GRID) for a, b in blocks]


class CalendarGenerator:
    """BA-Calendar: find a common meeting slot under availability and constraints."""

    name = "calendar"
    version = "1.0"
    params = PARAMS

    # -- card ---------------------------------------------------------------------------------

    def card(self) -> dict[str, Any]:
        return generator_card(
            self,
            title="BA-Calendar: calendar scheduling (procedural)",
            modalities=["text"],
            inputs=["text"],
            description=(
                "Procedurally generated calendar-scheduling problems: the availability of 2-10 "
                "participants over 1-7 days plus constraints (meeting duration, buffer time, "
                "weekdays only, no meetings before/after a time, high priority = first "
                "available slot, blackout periods). The model must name one day and time slot "
                "when everyone can meet, or state that no common slot exists."
            ),
            card_text=(
                "A BenchAgents-style generator (BA-Calendar). Each item lists every "
                "participant's free time blocks per day and the constraints a correct meeting "
                "must satisfy; the answer is '[day] [start]-[end]' or 'No common time slot "
                "available'. Answers come from an exact solver; a scorer checks each "
                "constraint separately (availability, duration, buffer, weekdays, time "
                "restrictions, priority, blackout) and reports pass-all and fraction passed. "
                "Complexity is 1 - feasible slots / slots where any participant is available. "
                "Tests planning, temporal arithmetic and constraint following in text."
            ),
            tasks=["planning", "constraint_satisfaction", "open_ended_qa", "constrained_output"],
            domain="calendar scheduling and temporal reasoning",
            fields={
                "question": field(
                    "input", "text",
                    "The full scheduling request: meeting duration and other constraints, each "
                    "participant's availability per day as HH:MM-HH:MM blocks, and the required "
                    "answer format.", style="instruction", extent="medium"),
                "answer": field(
                    "target", "text",
                    "The solver's answer: the first feasible slot as '[day] [HH:MM]-[HH:MM]', "
                    "or 'No common time slot available' for infeasible instances."),
            },
            structure=(
                "Each record has a textual scheduling request (input) and a short slot answer "
                "(target); metadata holds the parameters, constraints and complexity."
            ),
        )

    # -- sampling -----------------------------------------------------------------------------

    def sample(self, seed: int, params: dict[str, Any] | None = None) -> Instance:
        draw = params_rng(self.name, seed)
        values, drawn = resolve_params(self.params, params, draw)
        last: _Unreachable | None = None
        for _ in range(_PARAM_DRAWS):
            if drawn >= {"min_blocks_per_day", "max_blocks_per_day"}:
                lo, hi = sorted((values["min_blocks_per_day"], values["max_blocks_per_day"]))
                values["min_blocks_per_day"], values["max_blocks_per_day"] = lo, hi
            try:
                content = self._generate(instance_rng(self.name, seed, values), values)
            except _Unreachable as exc:
                if not set(exc.names) & drawn:
                    raise ParamError(str(exc)) from None
                last = exc
                values = redraw(self.params, values, drawn, draw)
                continue
            solution = solve(_problem(content))
            return Instance(
                generator=self.name,
                seed=seed,
                params=values,
                content=content,
                answer=slot_text(solution.first),
                complexity=solution.complexity,
            )
        raise ParamError(f"no instance after {_PARAM_DRAWS} parameter draws: {last}")

    def _generate(self, rng: random.Random, p: dict[str, Any]) -> dict[str, Any]:
        if p["min_blocks_per_day"] > p["max_blocks_per_day"]:
            raise _Unreachable(
                ["min_blocks_per_day", "max_blocks_per_day"],
                f"min_blocks_per_day={p['min_blocks_per_day']} exceeds "
                f"max_blocks_per_day={p['max_blocks_per_day']}",
            )
        constraints = _constraints(p)
        if p["feasibility"] == "feasible":
            return self._generate_feasible(rng, p, constraints)
        return self._generate_infeasible(rng, p, constraints)

    def _days(self, rng: random.Random, p: dict[str, Any]) -> list[str]:
        picked = set(rng.sample(range(7), p["n_days"]))
        return [WEEK[i] for i in sorted(picked)]

    def _generate_feasible(
        self, rng: random.Random, p: dict[str, Any], c: dict[str, Any]
    ) -> dict[str, Any]:
        day_start, day_end = parse_hhmm(p["earliest_start"]), parse_hhmm(p["latest_end"])
        mn, mx = p["min_block_minutes"] // GRID, p["max_block_minutes"] // GRID
        dur, buf = c["meeting_minutes"], c["buffer_minutes"]
        window_units = -(-(dur + 2 * buf) // GRID)
        if window_units > mx:
            raise _Unreachable(
                ["meeting_minutes", "buffer_minutes", "max_block_minutes"],
                f"a {dur}-minute meeting with {buf}-minute buffers cannot fit in a block of at "
                f"most max_block_minutes={p['max_block_minutes']}",
            )
        starts = self._candidate_starts(p, c, day_start, day_end)
        if not starts:
            raise _Unreachable(
                ["meeting_minutes", "buffer_minutes", "no_meetings_before", "no_meetings_after",
                 "blackout", "earliest_start", "latest_end"],
                "no meeting start satisfies the time restrictions within "
                f"{p['earliest_start']}-{p['latest_end']}",
            )
        room = (day_end - day_start) // GRID
        for _ in range(_ATTEMPTS):
            days = self._days(rng, p)
            options = [d for d in days if not (c["weekdays_only"] and d in WEEKEND)]
            if not options:
                continue
            day = rng.choice(options)
            start = rng.choice(starts)
            wa = (start - buf - day_start) // GRID
            wb = wa + window_units
            availability = self._availability(rng, p, days, room, mn, mx, day, (wa, wb))
            if availability is None:
                continue
            return self._content(days, availability, day_start, c)
        raise _Unreachable(
            ["min_blocks_per_day", "min_block_minutes", "meeting_minutes", "buffer_minutes"],
            f"min_blocks_per_day={p['min_blocks_per_day']} blocks of at least "
            f"{p['min_block_minutes']} minutes do not fit around the meeting",
        )

    def _candidate_starts(
        self, p: dict[str, Any], c: dict[str, Any], day_start: int, day_end: int
    ) -> list[int]:
        """Meeting starts (minutes) whose window starts on the grid and meets the restrictions."""
        dur, buf = c["meeting_minutes"], c["buffer_minutes"]
        lo = max(day_start + buf, c["no_meetings_before"] or 0)
        hi = min(day_end - buf - dur,
                 (c["no_meetings_after"] or 24 * 60) - dur)
        result = []
        for start in range(lo, hi + 1, UNIT):
            if (start - buf - day_start) % GRID:
                continue
            if c["blackout"] is not None:
                b0, b1 = c["blackout"]
                if start < b1 and start + dur > b0:
                    continue
            result.append(start)
        return result

    def _availability(
        self, rng: random.Random, p: dict[str, Any], days: list[str], room: int, mn: int,
        mx: int, fixed_day: str | None, window: tuple[int, int] | None,
    ) -> dict[str, dict[str, list[tuple[int, int]]]] | None:
        """Blocks (grid units from day start) per participant and day; None if a layout fails."""
        result: dict[str, dict[str, list[tuple[int, int]]]] = {}
        for i in range(p["n_participants"]):
            per_day: dict[str, list[tuple[int, int]]] = {}
            for day in days:
                k = _uniform_int(rng, p["min_blocks_per_day"], p["max_blocks_per_day"])
                if day == fixed_day and window is not None:
                    blocks = self._layout_around(rng, room, k, mn, mx, window)
                    if blocks is None:
                        return None
                else:
                    if k * mn + k - 1 > room:
                        return None
                    blocks = _layout(rng, room, k, mn, mx)
                per_day[day] = blocks
            result[f"p{i + 1}"] = per_day
        return result

    def _layout_around(
        self, rng: random.Random, room: int, k: int, mn: int, mx: int, window: tuple[int, int]
    ) -> list[tuple[int, int]] | None:
        """k blocks, one of which covers the window (grid units)."""
        wa, wb = window
        length = _uniform_int(rng, max(mn, wb - wa), mx)
        first, last = max(0, wb - length), min(wa, room - length)
        if first > last:
            return None
        a = _uniform_int(rng, first, last)
        b = a + length
        left_room, right_room = max(0, a - 1), max(0, room - b - 1)
        others = k - 1
        lo_left = max(0, others - _capacity(right_room, mn))
        hi_left = min(others, _capacity(left_room, mn))
        if lo_left > hi_left:
            return None
        n_left = _uniform_int(rng, lo_left, hi_left)
        left = _layout(rng, left_room, n_left, mn, mx)
        right = [(x + b + 1, y + b + 1) for x, y in _layout(rng, right_room, others - n_left,
                                                            mn, mx)]
        return [*left, (a, b), *right]

    def _generate_infeasible(
        self, rng: random.Random, p: dict[str, Any], c: dict[str, Any]
    ) -> dict[str, Any]:
        """Random availability, then re-drawn participant-days until no day has a slot."""
        day_start, day_end = parse_hhmm(p["earliest_start"]), parse_hhmm(p["latest_end"])
        mn, mx = p["min_block_minutes"] // GRID, p["max_block_minutes"] // GRID
        room = (day_end - day_start) // GRID
        people = [f"p{i + 1}" for i in range(p["n_participants"])]
        for _ in range(_ATTEMPTS // 10):
            days = self._days(rng, p)
            units = self._availability(rng, p, days, room, mn, mx, None, None)
            if units is None:
                continue
            for day in days:
                for _ in range(_REPAIRS):
                    one_day = CalendarProblem(
                        days=[day],
                        availability={q: {day: _to_minutes(units[q][day], day_start)}
                                      for q in people},
                        **c)
                    if solve(one_day).first is None:
                        break
                    k = _uniform_int(rng, p["min_blocks_per_day"], p["max_blocks_per_day"])
                    units[rng.choice(people)][day] = _layout(rng, room, k, mn, mx)
                else:
                    break  # this day kept a slot: start over
            else:
                return self._content(days, units, day_start, c)
        raise _Unreachable(
            ["n_participants", "n_days", "max_block_minutes", "min_blocks_per_day",
             "max_blocks_per_day", "meeting_minutes"],
            "feasibility='infeasible': no schedule without a common slot was found with "
            "these parameters",
        )

    def _content(
        self, days: list[str], units: dict[str, dict[str, list[tuple[int, int]]]],
        day_start: int, c: dict[str, Any],
    ) -> dict[str, Any]:
        availability = {
            person: {day: _to_minutes(blocks, day_start) for day, blocks in per_day.items()}
            for person, per_day in units.items()
        }
        problem = CalendarProblem(days=days, availability=availability, **c)
        return msgspec.to_builtins(problem)

    # -- verification -------------------------------------------------------------------------

    def verify(self, instance: Instance) -> list[CheckResult]:
        try:
            problem = _problem(instance.content)
        except msgspec.ValidationError as exc:
            return all_failed(f"content is not a calendar problem: {exc}")
        solution = solve(problem)
        return [
            self._check_consistency(instance.params, problem),
            self._check_feasibility(instance, solution),
            self._check_complexity(instance, solution.complexity),
        ]

    def _check_consistency(self, p: dict[str, Any], problem: CalendarProblem) -> CheckResult:
        """The schedule and constraints are exactly what the parameters say."""
        fail = failing("consistency")
        try:
            expected = _constraints(p)
            day_start, day_end = parse_hhmm(p["earliest_start"]), parse_hhmm(p["latest_end"])
        except (KeyError, ValueError, AttributeError) as exc:
            return fail(f"parameters incomplete or malformed: {exc!r}")
        got = {k: getattr(problem, k) for k in expected}
        got["blackout"] = tuple(got["blackout"]) if got["blackout"] is not None else None
        if got != expected:
            diff = sorted(k for k in expected if expected[k] != got[k])
            return fail(f"constraints differ from the parameters: {', '.join(diff)}")
        if len(problem.days) != p["n_days"] or len(set(problem.days)) != len(problem.days):
            return fail(f"expected {p['n_days']} distinct days, got {problem.days}")
        if any(d not in WEEK for d in problem.days) or problem.days != sorted(
                problem.days, key=WEEK.index):
            return fail(f"days must be week days in week order, got {problem.days}")
        if len(problem.availability) != p["n_participants"]:
            return fail(f"expected {p['n_participants']} participants, "
                        f"got {len(problem.availability)}")
        lo_len, hi_len = p["min_block_minutes"], p["max_block_minutes"]
        for person, per_day in problem.availability.items():
            if sorted(per_day, key=WEEK.index) != problem.days:
                return fail(f"{person} does not list exactly the schedule's days")
            for day, blocks in per_day.items():
                where = f"{person} {day}"
                if not p["min_blocks_per_day"] <= len(blocks) <= p["max_blocks_per_day"]:
                    return fail(f"{where}: {len(blocks)} blocks, outside "
                                f"[{p['min_blocks_per_day']}, {p['max_blocks_per_day']}]")
                prev_end = None
                for a, b in blocks:
                    if a % GRID or b % GRID:
                        return fail(f"{where}: block {hhmm(a)}-{hhmm(b)} is off the "
                                    f"{GRID}-minute grid")
                    if not lo_len <= b - a <= hi_len:
                        return fail(f"{where}: block {hhmm(a)}-{hhmm(b)} lasts {b - a} min, "
                                    f"outside [{lo_len}, {hi_len}]")
                    if a < day_start or b > day_end:
                        return fail(f"{where}: block {hhmm(a)}-{hhmm(b)} outside "
                                    f"{p['earliest_start']}-{p['latest_end']}")
                    if prev_end is not None and a <= prev_end:
                        return fail(f"{where}: blocks overlap, touch or are out of order")
                    prev_end = b
        return CheckResult(check="consistency", passed=True,
                           reason="schedule and constraints match the parameters")

    def _check_feasibility(self, instance: Instance, solution: Solution) -> CheckResult:
        """The exact solver agrees on feasibility and on the first available slot."""
        want = instance.params.get("feasibility", "feasible")
        solved = slot_text(solution.first)
        if (solution.first is not None) != (want == "feasible"):
            return CheckResult(
                check="feasibility", passed=False,
                reason=f"requested {want!r} but the solver finds "
                       f"{'a slot: ' + solved if solution.first else 'no slot'}")
        if instance.answer != solved:
            return CheckResult(check="feasibility", passed=False,
                               reason=f"stored answer {instance.answer!r} != solver's {solved!r}")
        return CheckResult(check="feasibility", passed=True,
                           reason=f"{solution.feasible_slots} feasible slots; answer {solved!r}")

    def _check_complexity(self, instance: Instance, complexity: float) -> CheckResult:
        return complexity_check(instance.complexity, complexity,
                                "1 - feasible slots / slots with any participant available")

    # -- scoring ------------------------------------------------------------------------------

    def score(self, instance: Instance, answer: str) -> Score:
        problem = _problem(instance.content)
        first = solve(problem).first
        parsed = parse_answer(answer)
        if parsed is None:
            return Score(correct=False, score=0.0,
                         detail={"parsed": None, "error": "no slot or no-slot statement found",
                                 "pass_all": False, "fraction_passed": 0.0, "constraints": {}})
        if parsed == NO_SLOT:
            # Every applicable constraint is judged by whether the model was right to refuse.
            right = first is None
            checks = {name: right for name in constraint_names(problem)}
        else:
            assert isinstance(parsed, Slot)
            checks = check_slot(problem, parsed, first)
        passed = sum(checks.values())
        pass_all = passed == len(checks)
        return Score(
            correct=pass_all,
            score=passed / len(checks),
            detail={
                "parsed": parsed if parsed == NO_SLOT else slot_text(parsed),
                "expected": instance.answer,
                "pass_all": pass_all,
                "fraction_passed": passed / len(checks),
                "constraints": checks,
            },
        )

    # -- rendering ----------------------------------------------------------------------------

    def render(self, instance: Instance, workspace: Path, mode: str = "default") -> RenderedItem:
        check_mode(mode, _MODES)
        problem = _problem(instance.content)
        return RenderedItem(
            input=prompt_text(problem),
            target=instance.answer,
            metadata={**instance_metadata(self, instance), "feasible": instance.answer != NO_SLOT},
        )


def prompt_text(problem: CalendarProblem) -> str:
    """The question in the style of the paper's Example 3, with every active constraint."""
    parts = [
        "You are a scheduling assistant. Given the following availability schedules for "
        "participants, find a common time slot for a meeting that lasts "
        f"{problem.meeting_minutes} minutes."
    ]
    if problem.buffer_minutes:
        parts.append(
            f"Additionally, ensure there is a buffer time of {problem.buffer_minutes} minutes "
            "before and after the meeting, during which every participant is also available.")
    if problem.weekdays_only:
        parts.append("No meetings on weekends (Saturday or Sunday).")
    if problem.no_meetings_before is not None:
        parts.append(f"The meeting must not start before {hhmm(problem.no_meetings_before)}.")
    if problem.no_meetings_after is not None:
        parts.append(f"The meeting must not end after {hhmm(problem.no_meetings_after)}.")
    if problem.blackout is not None:
        b0, b1 = problem.blackout
        parts.append(f"No meetings during {hhmm(b0)}-{hhmm(b1)}.")
    if problem.high_priority:
        parts.append(
            "This is a high-priority meeting: it must be scheduled in the first available "
            "slot (the earliest day in the schedule, then the earliest start time).")
    else:
        parts.append("If several slots work, any one of them is a correct answer.")
    lines = [" ".join(parts), "", "Availability:"]
    for person, per_day in problem.availability.items():
        lines.append(f"{person}:")
        for day in problem.days:
            blocks = ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in per_day.get(day, []))
            lines.append(f"  {day}: {blocks}")
    lines += [
        "",
        "What is the common time slot for the meeting? Answer in the format "
        '"[day] [start_time]-[end_time]" (for example "Monday 09:00-10:00"), or '
        f'"{NO_SLOT}" if there is none.',
    ]
    return "\n".join(lines)
