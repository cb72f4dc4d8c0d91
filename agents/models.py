"""`ctx.llm(role)` for every run a process serves: one router, each run's own models.

A worker process serves many runs, each with its backbone (`llm`), per-role
models (`role_models`) and key variable (`llm_key_env`) recorded in its first
event. `ModelRouter` reads them from the run's `RunRequested` (its projection,
`ctx.state()`) on a role's first call, and answers through a `RecordedLLM`
(every attempt an event, answers reused on resume). Role `eval:<SPEC>` means
"the model SPEC": the Evaluator asks `ctx.llm(eval_role(spec))` for each model
under evaluation, like every other role asks for its own.

A model released on a run by the watcher (`ModelReleased.key_env`) is called with the
key variable the watcher named for its source.

The router keeps one client per model spec (and key variable) for the life of
the process, one answer memo per run (the most recent runs'), and one cap on the
model calls in flight.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from autogen_core.models import ChatCompletionClient
from cachetools import LRUCache

from agents.base import LLM, AgentContext, ChoiceAnswer
from agents.recorded_llm import (
    DEFAULT_PARAMS,
    DEFAULT_RETRY,
    AnswerMemo,
    ConcurrencyLimit,
    RecordedLLM,
    RetryPolicy,
)
from store.events import EVAL_ROLE_PREFIX, Envelope, Payload, RunRequested
from tools.llm.clients import ModelSpec, make_client, parse_model_spec

JUDGE_ROLE = "judge"
JUDGE_ROLE_PREFIX = "judge:"
MAX_RUNS = 64  # runs whose recorded answers the router keeps in memory

ClientMaker = Callable[[ModelSpec, str, float], ChatCompletionClient]


def eval_role(model_spec: str) -> str:
    """The role under which a model under evaluation answers (its calls are recorded so)."""
    return f"{EVAL_ROLE_PREFIX}{model_spec}"


def judge_role(model_spec: str) -> str:
    """The role under which the judge `model_spec` answers (its calls are recorded so)."""
    return f"{JUDGE_ROLE_PREFIX}{model_spec}"


def spec_for_role(request: RunRequested, role: str) -> str:
    """The model spec a run names for a role: `eval:<spec>` and `judge:<spec>` name it,
    else `role_models`, else `llm` (the backbone)."""
    for prefix in (EVAL_ROLE_PREFIX, JUDGE_ROLE_PREFIX):
        if role.startswith(prefix):
            return role[len(prefix):]
    return request.role_models.get(role, request.llm)


def _default_client(spec: ModelSpec, key_env: str, timeout_s: float) -> ChatCompletionClient:
    return make_client(spec, key_env, timeout_s=timeout_s)


class ModelRouter:
    """The one source of LLMs in a process: `router.llm(role, ctx)` is `ctx.llm(role)`."""

    def __init__(self, *, retry: RetryPolicy = DEFAULT_RETRY,
                 params: Mapping[str, Any] | None = None, max_concurrency: int | None = None,
                 client_maker: ClientMaker | None = None, max_runs: int = MAX_RUNS) -> None:
        self.retry = retry
        self.params = dict(DEFAULT_PARAMS if params is None else params)
        self._make = client_maker or _default_client
        self._clients: dict[tuple[ModelSpec, str], ChatCompletionClient] = {}
        self._memos: LRUCache[str, AnswerMemo] = LRUCache(maxsize=max_runs)
        self._limit = ConcurrencyLimit(max_concurrency)
        # An embedded model answers one request at a time: requests queue here, before the
        # attempt's timer starts, not inside the model where the wait would count as its own
        # latency (concurrent calls then time out while merely waiting their turn).
        self._local_limits: dict[ModelSpec, ConcurrencyLimit] = {}

    def llm(self, role: str, ctx: AgentContext) -> LLM:
        """The LLM `role` gets in `ctx`'s run (its model resolved on the first call)."""
        return _RunBoundLLM(self, role, ctx)

    async def recorded(self, role: str, ctx: AgentContext) -> RecordedLLM:
        """The recorded LLM on the model the run names for `role`."""
        state = await ctx.state()
        request = state.request.payload
        written = spec_for_role(request, role)
        spec = parse_model_spec(written)
        key_env = request.llm_key_env
        if role.startswith(EVAL_ROLE_PREFIX):  # a released model: the key its watcher named
            key_env = state.evaluations.key_env(written) or key_env
        return RecordedLLM(self.client(spec, key_env), ctx, role, spec, self.params,
                           retry=self.retry, memo=self.memo(ctx.run_id), limit=self._limit_for(spec),
                           secrets=[os.environ.get(request.llm_key_env, ""),
                                    os.environ.get(key_env, "")])

    def _limit_for(self, spec: ModelSpec) -> ConcurrencyLimit:
        if spec.kind != "local":
            return self._limit
        return self._local_limits.setdefault(spec, ConcurrencyLimit(1))

    def client(self, spec: ModelSpec, key_env: str) -> ChatCompletionClient:
        """One client per model spec and key variable, made on first use."""
        client = self._clients.get((spec, key_env))
        if client is None:
            client = self._clients[(spec, key_env)] = self._make(spec, key_env,
                                                                 self.retry.timeout_s)
        return client

    def memo(self, run_id: str) -> AnswerMemo:
        """The run's recorded answers, shared by every role of the run in this process."""
        memo = self._memos.get(run_id)
        if memo is None:
            memo = self._memos[run_id] = AnswerMemo()
        return memo

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        self._clients.clear()


class _RunBoundLLM:
    """`LLM` of one role in one run; resolves its model from the run on the first call."""

    def __init__(self, router: ModelRouter, role: str, ctx: AgentContext) -> None:
        self._router, self._role, self._ctx = router, role, ctx
        self._llm: RecordedLLM | None = None

    async def _resolve(self) -> RecordedLLM:
        if self._llm is None:
            self._llm = await self._router.recorded(self._role, self._ctx)
        return self._llm

    async def complete_json(self, purpose: str, messages: list[dict[str, Any]],
                            schema: dict[str, Any], *, cause: Envelope[Payload],
                            sampling: Mapping[str, Any] | None = None) -> Any:
        return await (await self._resolve()).complete_json(purpose, messages, schema,
                                                           cause=cause, sampling=sampling)

    async def complete_text(self, purpose: str, messages: list[dict[str, Any]], *,
                            cause: Envelope[Payload],
                            sampling: Mapping[str, Any] | None = None) -> str:
        return await (await self._resolve()).complete_text(purpose, messages, cause=cause,
                                                           sampling=sampling)

    async def complete_choice(self, purpose: str, messages: list[dict[str, Any]], *,
                              cause: Envelope[Payload]) -> ChoiceAnswer:
        return await (await self._resolve()).complete_choice(purpose, messages, cause=cause)

    async def continuation_logprobs(self, purpose: str, text: str, continuations: list[str], *,
                                    cause: Envelope[Payload]) -> list[float] | None:
        return await (await self._resolve()).continuation_logprobs(purpose, text, continuations,
                                                                   cause=cause)
