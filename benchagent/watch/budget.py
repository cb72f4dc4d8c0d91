"""What the day (UTC) has spent, read from the log: a daemon never spends without bound.

- calls: LLM attempts recorded today by models under evaluation (role `eval:<model>`) in
  every watched run, plus every attempt of a refresh run (its whole build);
- runs: refresh runs started today.

Before starting an evaluation the watcher adds what the evaluations already started will
still cost (counted as a whole benchmark each, as if none of their calls were made yet: the
budget errs on the side of spending less) and what this one will (one call per item); a
refresh needs a run left and a call left. What the budget stopped is recorded (`BudgetExhausted`) once a
day per thing stopped. A refresh already started is finished even if it crosses the call
budget: a half-built benchmark would be worth nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from replay.projections import RunState
from replay.projections.llm_usage import utc_day


class DailyBudget(msgspec.Struct, frozen=True, kw_only=True):
    runs: int  # refresh runs a day
    calls: int  # model calls a day


def calls_on(day: str, states: Iterable[RunState]) -> int:
    return sum(s.llm.daily[day] if s.lineage.refresh is not None else s.llm.daily_eval[day]
               for s in states)


def refreshes_on(day: str, states: Iterable[RunState]) -> int:
    return sum(1 for s in states
               if s.lineage.refresh is not None and utc_day(s.lineage.refresh.time) == day)
