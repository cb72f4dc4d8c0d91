"""`ctx.llm(role)` for any run: the model comes from the run's own `RunRequested`.

A worker process serves many runs, each with its backbone (`llm`), per-role
models (`role_models`) and key variable (`llm_key_env`) recorded in its first
event. `RunLLMFactory` reads them from the history on the first call and
delegates to the recorded LLM of `agents.recorded_llm` (every attempt an
event, answers reused on resume). Role `eval:<SPEC>` means "the model SPEC",
used by the Evaluator for `--eval-model`.
"""

from __future__ import annotations

from typing import Any

from agents.base import LLM, AgentContext
from agents.recorded_llm import DEFAULT_RETRY, LLMFactory, RetryPolicy
from store.events import Envelope, RunRequested

EVAL_ROLE_PREFIX = "eval:"


def eval_role(model_spec: str) -> str:
    return f"{EVAL_ROLE_PREFIX}{model_spec}"


def spec_for_role(request: RunRequested, role: str) -> str:
    if role.startswith(EVAL_ROLE_PREFIX):
        return role[len(EVAL_ROLE_PREFIX):]
    return request.role_models.get(role, request.llm)


class RunLLMFactory:
    """Callable `(role, ctx) -> LLM`, as the buses expect; one per process."""

    def __init__(self, *, retry: RetryPolicy = DEFAULT_RETRY, max_concurrency: int | None = None,
                 params: dict[str, Any] | None = None) -> None:
        self.retry = retry
        self.max_concurrency = max_concurrency
        self.params = params
        self._factories: dict[str, LLMFactory] = {}

    def factory(self, request: RunRequested) -> LLMFactory:
        found = self._factories.get(request.llm_key_env)
        if found is None:
            found = self._factories[request.llm_key_env] = LLMFactory(
                request.llm, {}, request.llm_key_env, retry=self.retry, params=self.params,
                max_concurrency=self.max_concurrency)
        return found

    def __call__(self, role: str, ctx: AgentContext) -> LLM:
        return _RunBoundLLM(self, role, ctx)

    async def close(self) -> None:
        for f in self._factories.values():
            await f.close()


class _RunBoundLLM:
    def __init__(self, owner: RunLLMFactory, role: str, ctx: AgentContext) -> None:
        self._owner, self._role, self._ctx = owner, role, ctx
        self._llm: LLM | None = None

    async def _resolve(self) -> LLM:
        if self._llm is None:
            history = await self._ctx.history()
            request = next((e.payload for e in history if isinstance(e.payload, RunRequested)), None)
            if request is None:
                raise LookupError(f"run {self._ctx.run_id} has no RunRequested event")
            spec = spec_for_role(request, self._role)
            self._llm = self._owner.factory(request).for_spec(spec, self._role, self._ctx)
        return self._llm

    async def complete_json(self, purpose: str, messages: list[dict[str, Any]],
                            schema: dict[str, Any], *, cause: Envelope) -> Any:
        return await (await self._resolve()).complete_json(purpose, messages, schema, cause=cause)

    async def complete_text(self, purpose: str, messages: list[dict[str, Any]], *,
                            cause: Envelope) -> str:
        return await (await self._resolve()).complete_text(purpose, messages, cause=cause)
