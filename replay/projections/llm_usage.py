"""What the run's LLM calls cost: attempts recorded, failed attempts, tokens, by role."""

from __future__ import annotations

from collections import Counter

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, LLMCallRecorded


class LlmUsage(Projection):
    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.tokens = 0
        self.by_role: Counter[str] = Counter()  # attempts per role (`judge:<spec>`, ...)

    @on(LLMCallRecorded)
    def _call(self, env: Envelope[LLMCallRecorded]) -> None:
        p = env.payload
        self.calls += 1
        self.errors += p.error is not None
        self.tokens += p.prompt_tokens + p.completion_tokens
        self.by_role[p.role] += 1

    def building_calls(self) -> int:
        """Attempts made to build the benchmark: not to judge it, nor by evaluated models."""
        return sum(n for role, n in self.by_role.items()
                   if not role.startswith(("judge:", "eval:")))
