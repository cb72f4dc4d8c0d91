"""The recorded LLM: every attempt becomes an `LLMCallRecorded` event before its answer is used.

`RecordedLLM` implements `agents.base.LLM` over any AutoGen `ChatCompletionClient`:

- The request key is a sha256 of the canonical JSON of (role, purpose, model,
  messages, params, schema). If the run already holds an answered call with
  that key, the recorded answer is returned and the model is not called: a
  resumed run re-pays nothing, and a replay never needs a model.
- Otherwise the model is called; each attempt (answer or error, tokens,
  latency) is emitted with key `<request_key>:<attempt>` and the answer used is
  the one the log returns, so two workers racing on the same call agree.
- Timeouts, 429, 5xx, connection errors, malformed JSON and JSON that breaks
  the schema are retried with exponential backoff; a non-transient error (bad
  request, auth) stops at once with `LLMCallFailed`. Transient errors beyond the
  retry budget are the world's failure, not the run's: `ModelUnavailable` (an
  `agents.base.ServiceUnavailable`), which stops the run for `--resume`.

The model's identity in the key leaves out the base URL (`openai:MODEL`), so
serving the same model from another port does not invalidate a run's answers.
API keys never reach an event: clients read them from the environment, and
error texts are scrubbed of them. Which model a role of a run gets is the
router's business (`agents.models.ModelRouter`, behind `ctx.llm(role)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import structlog
from autogen_core import Image
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    SystemMessage,
    UserMessage,
)

from agents.base import LLM, AgentContext, ChoiceAnswer, ServiceUnavailable
from store.events import Envelope, LLMCallRecorded, Payload
from store.log import StoreUnavailable
from tools.canonical import canonical_json
from tools.llm.clients import (
    CONTINUATIONS_KEY,
    DEFAULT_TIMEOUT_S,
    ModelSpec,
    describe_error,
    is_transient,
    parse_model_spec,
)

log = structlog.get_logger(__name__)

DEFAULT_PARAMS: dict[str, Any] = {"temperature": 0.0}
# A choice asks for this many alternatives of its first token (OpenAI allows up to 20).
CHOICE_ALTERNATIVES = 10
RECORD_PATIENCE_S = 60.0  # how long a paid answer waits for the log to take it


class LLMCallFailed(Exception):
    """No usable answer: retries exhausted or a non-transient error. One clear line."""


class ModelUnavailable(LLMCallFailed, ServiceUnavailable):
    """Every attempt of the retry budget failed transiently (unreachable, timeouts, 429, 5xx,
    garbled bodies): the model server, not the run, is at fault."""


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Attempts per request and the backoff between them (small in tests)."""

    max_attempts: int = 5
    base_delay_s: float = 0.5
    multiplier: float = 2.0
    max_delay_s: float = 8.0
    timeout_s: float = DEFAULT_TIMEOUT_S  # per attempt

    def delay(self, attempt: int, request_key: str) -> float:
        """Backoff before attempt `attempt + 1`, with jitter derived from the key (no RNG)."""
        raw = self.base_delay_s * self.multiplier ** max(0, attempt - 1)
        jitter = int(request_key[:4] or "0", 16) / 0xFFFF  # spreads concurrent retries
        return min(self.max_delay_s, raw) * (0.5 + 0.5 * jitter)


DEFAULT_RETRY = RetryPolicy()


def request_key(
    role: str, purpose: str, model: str, messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any], schema: Mapping[str, Any] | None,
) -> str:
    """sha256 of the canonical JSON of everything that determines an answer."""
    body = {"role": role, "purpose": purpose, "model": model, "messages": list(messages),
            "params": dict(params), "schema": schema}
    return hashlib.sha256(canonical_json(body)).hexdigest()


class AnswerMemo:
    """What one run's log already says about LLM calls: answers and attempts by request key.

    Filled from `ctx.history()` (read incrementally: the history only grows)
    and from the attempts this process records. Shared by every `RecordedLLM`
    of a run in a process, so an answer recorded by one role is seen by all.
    """

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.first_token_logprobs: dict[str, dict[str, float]] = {}
        self.attempts: dict[str, int] = {}
        self.inflight: dict[str, asyncio.Future[str]] = {}
        self._scanned = 0

    def note(self, payload: LLMCallRecorded) -> None:
        key = payload.request_key
        self.attempts[key] = max(self.attempts.get(key, 0), payload.attempt)
        if payload.error is None and payload.answer is not None:
            self.answers.setdefault(key, payload.answer)
            if payload.first_token_logprobs is not None:
                self.first_token_logprobs.setdefault(key, payload.first_token_logprobs)

    async def refresh(self, ctx: AgentContext) -> None:
        history = await ctx.history()
        if len(history) < self._scanned:  # a different (shorter) view: start over
            self._scanned = 0
        for env in history[self._scanned:]:
            if isinstance(env.payload, LLMCallRecorded):
                self.note(env.payload)
        self._scanned = len(history)


class ConcurrencyLimit:
    """An `asyncio.Semaphore` per event loop (a semaphore is bound to the loop that uses it)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sem: asyncio.Semaphore | None = None

    def get(self) -> asyncio.Semaphore | None:
        if self.limit is None:
            return None
        loop = asyncio.get_running_loop()
        if self._sem is None or self._loop is not loop:
            self._loop, self._sem = loop, asyncio.Semaphore(self.limit)
        return self._sem


class RecordedLLM(LLM):
    """`agents.base.LLM` for one role of one run."""

    def __init__(
        self,
        client: ChatCompletionClient,
        ctx: AgentContext,
        role: str,
        model_spec: str | ModelSpec,
        params: Mapping[str, Any] | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        memo: AnswerMemo | None = None,
        limit: ConcurrencyLimit | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        self.client = client
        self.ctx = ctx
        self.role = role
        self.spec = model_spec if isinstance(model_spec, ModelSpec) else parse_model_spec(model_spec)
        self.params = dict(DEFAULT_PARAMS if params is None else params)
        self.retry = retry
        self.memo = memo or AnswerMemo()
        self._limit = limit or ConcurrencyLimit(None)
        self._secrets = [s for s in secrets if s]

    # -- the LLM protocol ----------------------------------------------------------

    async def complete_json(
        self, purpose: str, messages: list[dict[str, Any]], schema: dict[str, Any], *,
        cause: Envelope[Payload], sampling: Mapping[str, Any] | None = None,
    ) -> Any:
        answer = await self._complete(purpose, messages, schema, cause,
                                      {**self.params, **sampling} if sampling else self.params)
        return parse_json_answer(answer)

    async def complete_text(
        self, purpose: str, messages: list[dict[str, Any]], *, cause: Envelope[Payload],
        sampling: Mapping[str, Any] | None = None,
    ) -> str:
        return await self._complete(purpose, messages, None, cause,
                                    {**self.params, **sampling} if sampling else self.params)

    async def complete_choice(
        self, purpose: str, messages: list[dict[str, Any]], *, cause: Envelope[Payload],
    ) -> ChoiceAnswer:
        params = {**self.params, "logprobs": True, "top_logprobs": CHOICE_ALTERNATIVES}
        text = await self._complete(purpose, messages, None, cause, params)
        key = request_key(self.role, purpose, self.spec.identity, messages, params, None)
        return ChoiceAnswer(text=text, first_token_logprobs=self.memo.first_token_logprobs.get(key))

    async def continuation_logprobs(
        self, purpose: str, text: str, continuations: list[str], *, cause: Envelope[Payload],
    ) -> list[float] | None:
        if not getattr(self.client, "scores_text", False):
            return None
        params = {**self.params, CONTINUATIONS_KEY: list(continuations)}
        answer = await self._complete(purpose, [{"role": "user", "content": text}], None, cause,
                                      params)
        try:
            scores = msgspec.json.decode(answer, type=list[float])
        except msgspec.DecodeError as exc:
            raise LLMCallFailed(f"{self.role}/{purpose}: {self.spec.display()} scored "
                                f"unreadably: {exc}") from None
        if len(scores) != len(continuations):
            raise LLMCallFailed(f"{self.role}/{purpose}: {self.spec.display()} scored "
                                f"{len(scores)} of {len(continuations)} continuations")
        return scores

    # -- internals -----------------------------------------------------------------

    async def _complete(
        self, purpose: str, messages: list[dict[str, Any]], schema: dict[str, Any] | None,
        cause: Envelope[Payload], params: dict[str, Any],
    ) -> str:
        llm_messages = to_llm_messages(messages)  # fails fast on a malformed message list
        key = request_key(self.role, purpose, self.spec.identity, messages, params, schema)
        if key not in self.memo.answers:
            await self.memo.refresh(self.ctx)
        while key not in self.memo.answers and key in self.memo.inflight:
            # The same request is being answered right now: wait for it, don't pay twice.
            pending = self.memo.inflight[key]
            await asyncio.wait({pending})
            failure = None if pending.cancelled() else pending.exception()
            if isinstance(failure, LLMCallFailed):
                raise type(failure)(str(failure))
        if key in self.memo.answers:
            return self.memo.answers[key]
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.memo.inflight[key] = future
        try:
            answer = await self._attempts(key, purpose, messages, llm_messages, schema, cause,
                                          params)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(answer)
            return answer
        finally:
            del self.memo.inflight[key]

    async def _attempts(
        self, key: str, purpose: str, messages: list[dict[str, Any]],
        llm_messages: list[LLMMessage], schema: dict[str, Any] | None, cause: Envelope[Payload],
        params: dict[str, Any],
    ) -> str:
        extra: dict[str, Any] = dict(params)
        if schema is not None:
            extra["response_format"] = {
                "type": "json_schema", "json_schema": {"name": purpose, "schema": schema}}
        first = self.memo.attempts.get(key, 0) + 1  # a resumed run numbers on
        last_error = "no attempt made"
        answered_badly = False  # the last attempt got an answer, but not a usable one
        for attempt in range(first, first + self.retry.max_attempts):
            if attempt > first:
                await asyncio.sleep(self.retry.delay(attempt - first, key))
            answer, error, transient, usage, latency_ms, alternatives = await self._call(
                llm_messages, extra, schema)
            payload = LLMCallRecorded(
                request_key=key, role=self.role, purpose=purpose, model=self.spec.display(),
                messages=messages, params=params, json_schema=schema, attempt=attempt,
                answer=answer, error=error, prompt_tokens=usage[0], completion_tokens=usage[1],
                latency_ms=latency_ms, first_token_logprobs=alternatives,
            )
            stored = (await self._record(payload, cause, f"{key}:{attempt}")).payload
            if isinstance(stored, LLMCallRecorded):
                payload = stored  # the log's version wins if another worker got there first
            self.memo.note(payload)
            if payload.error is None and payload.answer is not None:
                return payload.answer
            last_error = payload.error or "no answer"
            answered_badly = answer is not None
            log.warning("llm.attempt_failed", role=self.role, purpose=purpose, attempt=attempt,
                        error=last_error, transient=transient)
            if not transient:
                raise LLMCallFailed(
                    f"{self.role}/{purpose}: {self.spec.display()} failed: {last_error}")
        why = (f"{self.role}/{purpose}: {self.spec.display()} gave no usable answer after "
               f"{self.retry.max_attempts} attempts; last error: {last_error}")
        if answered_badly:  # the model answers, wrongly: waiting will not help
            raise LLMCallFailed(why)
        raise ModelUnavailable(why)

    async def _record(self, payload: LLMCallRecorded, cause: Envelope[Payload],
                      key: str) -> Envelope[Payload]:
        """Append the attempt; a store that does not answer (restarting) is waited for up to
        `RECORD_PATIENCE_S`: an answer is paid for, losing it would mean paying again."""
        deadline = time.monotonic() + RECORD_PATIENCE_S
        delay = 0.2
        while True:
            try:
                return await self.ctx.emit(payload, cause=cause, key=key)
            except StoreUnavailable as exc:
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("llm.record_waiting_for_store", role=self.role, error=str(exc))
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    async def _call(
        self, llm_messages: list[LLMMessage], extra: dict[str, Any], schema: dict[str, Any] | None,
    ) -> tuple[str | None, str | None, bool, tuple[int, int], float, dict[str, float] | None]:
        """One attempt: (answer, error, transient, (prompt, completion tokens), latency ms,
        the first token's alternatives when asked for and given)."""
        async with self._limit.get() or contextlib.nullcontext():
            start = time.perf_counter()  # latency of the model, not of the queue before it
            try:
                result = await asyncio.wait_for(
                    self.client.create(llm_messages, extra_create_args=extra),
                    self.retry.timeout_s)
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, then classified
                latency = round((time.perf_counter() - start) * 1000, 3)
                return (None, self._scrub(describe_error(exc)), is_transient(exc), (0, 0),
                        latency, None)
            latency = round((time.perf_counter() - start) * 1000, 3)
        usage = (result.usage.prompt_tokens or 0, result.usage.completion_tokens or 0)
        content = result.content
        if not isinstance(content, str):
            return None, "answer is a function call, not text", True, usage, latency, None
        problem = answer_problem(content, schema)
        alternatives = first_token_alternatives(result) if extra.get("logprobs") else None
        return content, problem, True, usage, latency, alternatives

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


# ------------------------------------------------------------------ answers


def first_token_alternatives(result: CreateResult) -> dict[str, float] | None:
    """The first generated token's alternatives (token text → log-probability), the token
    itself included; None when the client reported no log-probabilities."""
    if not result.logprobs:
        return None
    first = result.logprobs[0]
    found = {first.token: first.logprob}
    for alt in first.top_logprobs or []:
        token = bytes(alt.bytes or []).decode("utf-8", errors="replace")
        found[token] = max(alt.logprob, found.get(token, -math.inf))
    return {t: round(lp, 4) for t, lp in found.items()}

_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(?P<body>.*?)\n?```$", re.S)
_validators: dict[bytes, Any] = {}


def parse_json_answer(text: str) -> Any:
    """JSON from a model answer; a fenced ```json block is accepted. ValueError otherwise."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group("body").strip()
    return json.loads(stripped)


def answer_problem(answer: str, schema: dict[str, Any] | None) -> str | None:
    """Why an answer cannot be used (None if it can): empty, malformed JSON, schema-invalid."""
    if not answer.strip():
        return "empty answer"
    if schema is None:
        return None
    try:
        value = parse_json_answer(answer)
    except ValueError as exc:
        return f"malformed JSON: {exc}"
    key = canonical_json(schema)
    validator = _validators.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        validator = _validators[key] = cls(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"schema violation at {where}: {error.message[:200]}"


# ----------------------------------------------------------------- messages


def to_llm_messages(messages: Sequence[Mapping[str, Any]]) -> list[LLMMessage]:
    """OpenAI-style dicts → AutoGen messages.

    `content` is a string, or (user messages) a list of `{"type": "text", "text"}`,
    `{"type": "image", "path"}` and `{"type": "image_url", "image_url": {"url"}}` parts.
    """
    if not messages:
        raise ValueError("an LLM request needs at least one message")
    result: list[LLMMessage] = []
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if role == "system" and isinstance(content, str):
            result.append(SystemMessage(content=content))
        elif role == "assistant" and isinstance(content, str):
            result.append(AssistantMessage(content=content, source="assistant"))
        elif role == "user" and isinstance(content, str):
            result.append(UserMessage(content=content, source="user"))
        elif role == "user" and isinstance(content, list):
            result.append(UserMessage(content=[_part(i, p) for p in content], source="user"))
        else:
            raise ValueError(f"message {i}: expected role system|user|assistant with text "
                             f"content, got role {role!r}")
    return result


def _part(i: int, part: Any) -> str | Image:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if kind == "text":
        return str(part["text"])
    if kind == "image":
        return Image.from_file(Path(part["path"]))
    if kind == "image_url":
        return Image.from_uri(part["image_url"]["url"])
    raise ValueError(f"message {i}: unsupported content part {part!r:.80}")
