"""A scripted `ChatCompletionClient` for tests: answers come from a Python function.

A *responder* is `responder(messages, schema) -> str`, where `messages` are
OpenAI-style dicts (`{"role", "content"}`) and `schema` is the JSON schema of
the requested structured output (or None for free text). A responder that
also accepts a `purpose` keyword gets the schema's name (the LLM call's purpose).
Asked for `logprobs`, the client reports the answer's first word as its first token, certain
(log-probability 0); a responder that returns a `ScriptedAnswer` names the alternatives.

Faults are injected by a `FaultPlan`: with a seeded probability a call raises
a timeout, a 429 or a 500, or answers malformed JSON. The decision depends on
(seed, request content, how many times that request was seen), not on call
order, so it is the same under any concurrency. The HTTP server in
`tools.llm.scripted_server` uses the same plan.

`scripted:NAME` specs resolve through `register_responder(NAME, ...)`, or
import `pkg.module:attr` so that worker processes find the same responder.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import importlib
import inspect
import json
import threading
from collections import Counter
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    ChatCompletionTokenLogprob,
    CreateResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema

from tools.llm.clients import CONTINUATIONS_KEY, TransientLLMError

Responder = Callable[..., "str | ScriptedAnswer"]


def first_word(text: str) -> str:
    """What a scripted answer reports as its first token."""
    words = text.split()
    return words[0] if words else text


@dataclasses.dataclass(frozen=True)
class ScriptedAnswer:
    """A scripted answer whose first token had these alternatives (token → log-probability)."""

    text: str
    first_token_logprobs: dict[str, float]

    def token_logprobs(self) -> list[ChatCompletionTokenLogprob]:
        ranked = sorted(self.first_token_logprobs.items(), key=lambda kv: -kv[1])
        first = first_word(self.text)
        return [ChatCompletionTokenLogprob(
            token=first, logprob=self.first_token_logprobs.get(first, 0.0),
            bytes=list(first.encode()),
            top_logprobs=[TopLogprob(logprob=lp, bytes=list(t.encode())) for t, lp in ranked])]
FAULT_KINDS = ("timeout", "429", "500", "malformed")
MALFORMED_ANSWER = '{"answer": "truncated'  # what a cut-off JSON answer looks like

SCRIPTED_MODEL_INFO: ModelInfo = {
    "vision": True, "function_calling": False, "json_output": True,
    "structured_output": True, "family": "unknown", "multiple_system_messages": True,
}


# ------------------------------------------------------------------ faults


class FaultPlan:
    """Seeded fault injection: `decide(request_digest)` → None or a fault kind."""

    def __init__(self, rate: float = 0.0, seed: int = 0, kinds: Sequence[str] = FAULT_KINDS,
                 known: Sequence[str] = FAULT_KINDS):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {rate}")
        unknown = set(kinds) - set(known)
        if unknown or not kinds:
            raise ValueError(f"fault kinds must be among {', '.join(known)}")
        self.rate, self.seed, self.kinds = rate, seed, tuple(kinds)
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def decide(self, request_digest: str, wants_json: bool = True) -> str | None:
        """The fault for this request, if any. Malformed JSON only for a request that asked
        for JSON: a plain-text answer cannot be malformed, so it fails as a 500 instead."""
        with self._lock:
            self._seen[request_digest] += 1
            nth = self._seen[request_digest]
        if self.rate <= 0.0:
            return None
        h = hashlib.sha256(f"{self.seed}\x1f{request_digest}\x1f{nth}".encode()).digest()
        draw = int.from_bytes(h[:8], "big") / 2**64
        if draw >= self.rate:
            return None
        kind = self.kinds[h[8] % len(self.kinds)]
        if kind == "malformed" and not wants_json:
            kind = "500"
        with self._lock:
            self.injected[kind] += 1
        return kind


def request_digest(messages: Any, schema: Any) -> str:
    """A stable digest of a request's content (for fault decisions)."""
    raw = json.dumps([messages, schema], sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def response_format_parts(extra: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """(schema, purpose) from an OpenAI-style `response_format`, else (None, None)."""
    rf = extra.get("response_format")
    if isinstance(rf, Mapping) and rf.get("type") == "json_schema":
        js = rf.get("json_schema") or {}
        return js.get("schema"), js.get("name")
    if isinstance(rf, Mapping) and rf.get("type") == "json_object":
        return {"type": "object"}, None
    return None, None


def scripted_answer(responder: Responder, messages: list[dict[str, Any]],
                    schema: dict[str, Any] | None, purpose: str | None) -> ScriptedAnswer:
    """Call a responder (passing `purpose` only to those that accept it): its answer with the
    first token's alternatives (a plain text: certain)."""
    answer = (responder(messages, schema, purpose=purpose) if _accepts_purpose(responder)
              else responder(messages, schema))
    if isinstance(answer, ScriptedAnswer):
        return answer
    return ScriptedAnswer(text=answer, first_token_logprobs={first_word(answer): 0.0})


def _accepts_purpose(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "purpose" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def approx_tokens(text: str) -> int:
    """A deterministic token estimate (whitespace words); enough for usage accounting."""
    return len(text.split())


# --------------------------------------------------------- message shapes


def message_to_dict(message: LLMMessage) -> dict[str, Any]:
    """An AutoGen message as the OpenAI-style dict a responder sees."""
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return {"role": "user", "content": message.content}
        parts = [{"type": "text", "text": p} if isinstance(p, str) else {"type": "image"}
                 for p in message.content]
        return {"role": "user", "content": parts}
    if isinstance(message, AssistantMessage):
        return {"role": "assistant", "content": message.content if isinstance(message.content, str)
                else json.dumps([dataclasses.asdict(c) for c in message.content])}
    if isinstance(message, FunctionExecutionResultMessage):
        return {"role": "tool", "content": json.dumps([c.model_dump() for c in message.content])}
    raise TypeError(f"unsupported message type {type(message).__name__}")


# ---------------------------------------------------------- built-in responders


def schema_instance(schema: Mapping[str, Any] | None, key: str = "") -> Any:
    """A small value valid against `schema` (types, enums, required, min sizes); deterministic."""
    if not schema:
        return f"answer {key}".strip()
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combo in ("anyOf", "oneOf", "allOf"):
        if schema.get(combo):
            return schema_instance(schema[combo][0], key)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props: Mapping[str, Any] = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {name: schema_instance(props.get(name, {}), f"{key}.{name}".strip("."))
                for name in required}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        return [schema_instance(schema.get("items", {}), f"{key}[{i}]") for i in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(low, 0) + (1 if "exclusiveMinimum" in schema else 0)
        high = schema.get("maximum")
        if high is not None:
            value = min(value, high)
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    text = f"value {key}".strip()
    min_len = int(schema.get("minLength", 0))
    return text + "x" * max(0, min_len - len(text))


def schema_responder(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
    """Answers any request with a schema-valid instance (or a short text)."""
    if schema is None:
        return "ok"
    return json.dumps(schema_instance(schema), sort_keys=True)


# ------------------------------------------------------------------ registry

_REGISTRY: dict[str, Responder] = {"schema": schema_responder}


def register_responder(name: str, responder: Responder) -> None:
    """Make `scripted:NAME` answer with `responder` in this process."""
    _REGISTRY[name] = responder


def resolve_responder(name: str) -> Responder:
    if name in _REGISTRY:
        return _REGISTRY[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
        try:
            value = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"scripted responder {name!r} cannot be imported ({exc})") from None
        if callable(value):
            return value
    known = ", ".join(sorted(_REGISTRY))
    raise ValueError(f"no scripted responder {name!r} (registered: {known}; "
                     "or give scripted:pkg.module:attr)")


def scripted_client(name: str) -> ScriptedChatCompletionClient:
    return ScriptedChatCompletionClient(resolve_responder(name), model=f"scripted:{name}")


# -------------------------------------------------------------------- client


class ScriptedChatCompletionClient(ChatCompletionClient):
    """A real `ChatCompletionClient` answering from a responder, with optional faults."""

    def __init__(
        self,
        responder: Responder,
        *,
        model: str = "scripted",
        faults: FaultPlan | None = None,
        latency_s: float = 0.0,
    ) -> None:
        self._responder = responder
        self.model = model
        self.faults = faults or FaultPlan()
        self.latency_s = latency_s
        self.calls = 0  # every create(), faulty or not
        self._usage = RequestUsage(prompt_tokens=0, completion_tokens=0)

    @property
    def scores_text(self) -> bool:
        """Whether it answers scoring requests: its responder has `score_continuations(text,
        continuations) -> list[float]`."""
        return callable(getattr(self._responder, "score_continuations", None))

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | str = "auto",
        json_output: bool | type | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self.calls += 1
        dicts = [message_to_dict(m) for m in messages]
        if CONTINUATIONS_KEY in extra_create_args and self.scores_text:
            text = "".join(str(d["content"]) for d in dicts)
            scores = self._responder.score_continuations(  # type: ignore[attr-defined]
                text, list(extra_create_args[CONTINUATIONS_KEY]))
            return CreateResult(finish_reason="stop", content=json.dumps(scores), cached=False,
                                usage=RequestUsage(prompt_tokens=approx_tokens(text),
                                                   completion_tokens=0))
        schema, purpose = response_format_parts(extra_create_args)
        if schema is None and json_output is True:
            schema = {"type": "object"}
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        fault = self.faults.decide(request_digest(dicts, schema), wants_json=schema is not None)
        if fault == "timeout":
            raise TimeoutError("scripted timeout")
        if fault in ("429", "500"):
            raise TransientLLMError(f"scripted HTTP {fault}", status=int(fault))
        answer = (ScriptedAnswer(MALFORMED_ANSWER, {}) if fault == "malformed"
                  else scripted_answer(self._responder, dicts, schema, purpose))
        content = answer.text
        prompt = sum(approx_tokens(json.dumps(d["content"])) for d in dicts)
        usage = RequestUsage(prompt_tokens=prompt, completion_tokens=approx_tokens(content))
        self._usage = RequestUsage(
            prompt_tokens=self._usage.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._usage.completion_tokens + usage.completion_tokens,
        )
        return CreateResult(finish_reason="stop", content=content, usage=usage, cached=False,
                            logprobs=(answer.token_logprobs()
                                      if extra_create_args.get("logprobs") else None))

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | str = "auto",
        json_output: bool | type | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        result = await self.create(messages, json_output=json_output,
                                   extra_create_args=extra_create_args)
        assert isinstance(result.content, str)
        yield result.content
        yield result

    async def close(self) -> None:
        return None

    def actual_usage(self) -> RequestUsage:
        return self._usage

    def total_usage(self) -> RequestUsage:
        return self._usage

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Any] = []) -> int:
        return sum(approx_tokens(json.dumps(message_to_dict(m)["content"])) for m in messages)

    def remaining_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Any] = []) -> int:
        return max(0, 1_000_000 - self.count_tokens(messages))

    @property
    def capabilities(self) -> Any:  # deprecated in AutoGen, still abstract
        return SCRIPTED_MODEL_INFO

    @property
    def model_info(self) -> ModelInfo:
        return SCRIPTED_MODEL_INFO
