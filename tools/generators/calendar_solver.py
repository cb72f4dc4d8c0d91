"""Exact solver and constraint checks for calendar scheduling (BA-Calendar).

Times are minutes since midnight. Every boundary a problem can have (block
edges on a 15-minute grid, buffers of 5–30 minutes, durations, restrictions)
is a multiple of 5 minutes, so the earliest start of any feasible meeting is
too: deciding feasibility on a 5-minute grid is exact. Availability per
participant and day is a bit mask over 5-minute units (bit i = minutes
[5i, 5i+5) free), which makes the solver a few integer operations per day.

A *slot* is a meeting-length window starting on the 5-minute grid; the
complexity of a problem is 1 − feasible slots / slots where at least one
participant is available for the whole meeting (BenchAgents §4.1).
"""

from __future__ import annotations

import re

import msgspec

WEEK = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKEND = frozenset({"Saturday", "Sunday"})
UNIT = 5  # minutes per bit
NO_SLOT = "No common time slot available"


class CalendarProblem(msgspec.Struct, frozen=True, kw_only=True):
    """Availability plus the constraints a correct meeting slot must satisfy."""

    days: list[str]  # in week order
    availability: dict[str, dict[str, list[tuple[int, int]]]]  # participant → day → blocks
    meeting_minutes: int
    buffer_minutes: int = 0
    weekdays_only: bool = False
    no_meetings_before: int | None = None
    no_meetings_after: int | None = None
    high_priority: bool = False
    blackout: tuple[int, int] | None = None


class Slot(msgspec.Struct, frozen=True):
    day: str
    start: int
    end: int


class Solution(msgspec.Struct, frozen=True, kw_only=True):
    first: Slot | None  # the first feasible slot in week order, None if infeasible
    feasible_slots: int
    available_slots: int  # slots where at least one participant is available

    @property
    def complexity(self) -> float:
        if self.available_slots == 0:
            return 1.0
        return 1.0 - self.feasible_slots / self.available_slots


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_hhmm(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def slot_text(slot: Slot | None) -> str:
    """The answer format of BA-Calendar: "[day] [start]-[end]" or the no-slot sentence."""
    if slot is None:
        return NO_SLOT
    return f"{slot.day} {hhmm(slot.start)}-{hhmm(slot.end)}"


def _span_bits(lo: int, hi: int) -> int:
    """Bits lo..hi-1 set (empty when hi <= lo)."""
    if hi <= lo:
        return 0
    lo = max(lo, 0)
    return ((1 << (hi - lo)) - 1) << lo


def _blocks_mask(blocks: list[tuple[int, int]]) -> int:
    mask = 0
    for start, end in blocks:
        # Round inwards so an off-grid block never looks more available than it is.
        mask |= _span_bits(-(-start // UNIT), end // UNIT)
    return mask


def _run_starts(mask: int, width: int) -> int:
    """Bit i set iff bits i..i+width-1 are all set in mask (doubling, O(log width))."""
    covered = 1
    while covered < width:
        step = min(covered, width - covered)
        mask &= mask >> step
        covered += step
    return mask


def _allowed_starts(problem: CalendarProblem) -> int:
    """Start units allowed by the time-of-day restrictions and the blackout period."""
    dur = problem.meeting_minutes // UNIT
    lo = (problem.no_meetings_before or 0) // UNIT
    hi = 24 * 60 // UNIT if problem.no_meetings_after is None else problem.no_meetings_after // UNIT
    allowed = _span_bits(lo, hi - dur + 1)
    if problem.blackout is not None:
        b0, b1 = problem.blackout[0] // UNIT, problem.blackout[1] // UNIT
        allowed &= ~_span_bits(b0 - dur + 1, b1)
    return allowed


def solve(problem: CalendarProblem) -> Solution:
    """First feasible slot by the priority rule (earliest day, then time) and slot counts."""
    dur = problem.meeting_minutes // UNIT
    buf = problem.buffer_minutes // UNIT
    allowed = _allowed_starts(problem)
    first: Slot | None = None
    feasible = available = 0
    masks = {
        p: {d: _blocks_mask(blocks) for d, blocks in days.items()}
        for p, days in problem.availability.items()
    }
    for day in problem.days:
        day_masks = [m.get(day, 0) for m in masks.values()]
        common = -1 if day_masks else 0
        anyone = 0
        for m in day_masks:
            common &= m
            anyone |= _run_starts(m, dur)
        available += anyone.bit_count()
        if problem.weekdays_only and day in WEEKEND:
            continue
        # Window [s - buffer, s + duration + buffer) must be free for everyone.
        starts = (_run_starts(common, dur + 2 * buf) << buf) & allowed if common > 0 else 0
        feasible += starts.bit_count()
        if starts and first is None:
            unit = (starts & -starts).bit_length() - 1
            first = Slot(day, unit * UNIT, unit * UNIT + problem.meeting_minutes)
    return Solution(first=first, feasible_slots=feasible, available_slots=available)


def _free(blocks: list[tuple[int, int]], start: int, end: int) -> bool:
    """Blocks never touch (there is a gap between them), so one block must hold the span."""
    return any(a <= start and end <= b for a, b in blocks)


def constraint_names(problem: CalendarProblem) -> list[str]:
    """The constraints that apply to a problem, in the order `check_slot` reports them."""
    names = ["availability", "meeting_duration"]
    optional = [
        ("buffer_time", bool(problem.buffer_minutes)),
        ("weekdays_only", problem.weekdays_only),
        ("no_meetings_before", problem.no_meetings_before is not None),
        ("no_meetings_after", problem.no_meetings_after is not None),
        ("blackout", problem.blackout is not None),
        ("priority", problem.high_priority),
    ]
    return names + [name for name, active in optional if active]


def check_slot(problem: CalendarProblem, slot: Slot, first: Slot | None) -> dict[str, bool]:
    """Each applicable constraint, checked on its own for a proposed slot."""
    people = problem.availability.values()
    in_schedule = slot.day in problem.days
    results = {
        "availability": in_schedule
        and all(_free(p.get(slot.day, []), slot.start, slot.end) for p in people),
        "meeting_duration": slot.end - slot.start == problem.meeting_minutes,
    }
    if problem.buffer_minutes:
        b = problem.buffer_minutes
        results["buffer_time"] = in_schedule and all(
            _free(p.get(slot.day, []), slot.start - b, slot.start)
            and _free(p.get(slot.day, []), slot.end, slot.end + b)
            for p in people
        )
    if problem.weekdays_only:
        results["weekdays_only"] = slot.day not in WEEKEND
    if problem.no_meetings_before is not None:
        results["no_meetings_before"] = slot.start >= problem.no_meetings_before
    if problem.no_meetings_after is not None:
        results["no_meetings_after"] = slot.end <= problem.no_meetings_after
    if problem.blackout is not None:
        b0, b1 = problem.blackout
        results["blackout"] = slot.end <= b0 or slot.start >= b1
    if problem.high_priority:
        results["priority"] = first is not None and (slot.day, slot.start) == (
            first.day, first.start)
    return results


_DAY_ALTS = "|".join(
    [d.lower() for d in WEEK] + ["mon", "tues", "tue", "wed", "thurs", "thur", "thu", "fri",
                                 "sat", "sun"]
)
_TIME = r"\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?"
_SLOT_RE = re.compile(
    rf"\b(?P<day>{_DAY_ALTS})\b\.?,?\s*(?:from\s+|at\s+|,\s*)?(?P<t1>{_TIME})\s*"
    rf"(?:-|–|—|to|until|till)\s*(?P<t2>{_TIME})",
    re.IGNORECASE,
)
_NO_SLOT_RE = re.compile(
    r"no\s+(?:common\s+)?(?:time\s+)?slot|no\s+(?:common\s+|available\s+)?time\b|"
    r"no\s+(?:feasible\s+|valid\s+)?solution|not\s+possible\s+to\s+schedule",
    re.IGNORECASE,
)


def _clock(text: str) -> int | None:
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(?:([ap])\.?m\.?)?", text.strip(), re.IGNORECASE)
    if not m:
        return None
    hours, minutes = int(m.group(1)), int(m.group(2) or 0)
    meridiem = (m.group(3) or "").lower()
    if meridiem == "p" and hours < 12:
        hours += 12
    elif meridiem == "a" and hours == 12:
        hours = 0
    if hours > 24 or minutes > 59 or (m.group(2) is None and not meridiem):
        return None
    return hours * 60 + minutes


def _full_day(token: str) -> str:
    token = token.lower()
    return next(d for d in WEEK if d.lower().startswith(token[:3]))


def parse_answer(answer: str) -> Slot | str | None:
    """The slot a model proposed, NO_SLOT, or None when it states neither.

    Models often reason before answering, so the statement that comes last wins.
    """
    slots = list(_SLOT_RE.finditer(answer))
    nos = list(_NO_SLOT_RE.finditer(answer))
    last_slot = slots[-1] if slots else None
    last_no = nos[-1] if nos else None
    if last_no is not None and (last_slot is None or last_no.start() > last_slot.start()):
        return NO_SLOT
    if last_slot is None:
        return None
    start, end = _clock(last_slot.group("t1")), _clock(last_slot.group("t2"))
    if start is None or end is None:
        return None
    return Slot(_full_day(last_slot.group("day")), start, end)
