"""What the run's LLM calls cost: attempts recorded, failed attempts, tokens; attempts per
UTC day (all of them, and those of models under evaluation), for a daemon's daily budget."""

from __future__ import annotations

import time
from collections import Counter

from replay.projections.base import Projection
from store.dispatch import on
from store.events import EVAL_ROLE_PREFIX, Envelope, LLMCallRecorded


class LlmUsage(Projection):
    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.tokens = 0
        self.by_role: Counter[str] = Counter()  # attempts per role (`judge:<spec>`, ...)
        self.daily: Counter[str] = Counter()  # YYYY-MM-DD -> attempts
        self.daily_eval: Counter[str] = Counter()  # the same, role eval:<model> only

    @on(LLMCallRecorded)
    def _call(self, env: Envelope[LLMCallRecorded]) -> None:
        p = env.payload
        self.calls += 1
        self.errors += p.error is not None
        self.tokens += p.prompt_tokens + p.completion_tokens
        self.by_role[p.role] += 1
        day = utc_day(env.time)
        self.daily[day] += 1
        if p.role.startswith(EVAL_ROLE_PREFIX):
            self.daily_eval[day] += 1

    def building_calls(self) -> int:
        """Attempts made to build the benchmark: not to judge it, nor by evaluated models."""
        return sum(n for role, n in self.by_role.items()
                   if not role.startswith(("judge:", EVAL_ROLE_PREFIX)))


def utc_day(t: float) -> str:
    """The UTC day of a unix time, YYYY-MM-DD."""
    return time.strftime("%Y-%m-%d", time.gmtime(t))
