"""What the run's LLM calls cost: attempts recorded, failed attempts, tokens."""

from __future__ import annotations

from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, LLMCallRecorded


class LlmUsage(Projection):
    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.tokens = 0

    @on(LLMCallRecorded)
    def _call(self, env: Envelope[LLMCallRecorded]) -> None:
        p = env.payload
        self.calls += 1
        self.errors += p.error is not None
        self.tokens += p.prompt_tokens + p.completion_tokens
