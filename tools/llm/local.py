"""The embedded local model: an AutoGen `ChatCompletionClient` over llama.cpp (`local:NAME`).

Why not autogen-ext's `LlamaCppChatCompletionClient`: it builds one `Llama` per client and
runs calls on the default thread pool with no serialization (llama.cpp is not thread-safe),
accepts only pydantic types for `json_output`, lets llama-cpp-python silently fall back to
unconstrained JSON when a schema cannot be converted, has no completion-style path for base
models, and does not pin a seed. This adapter is thin and does those things:

- one `Llama` per model per process, loaded lazily on the first request, shared by every
  client of that model;
- every call goes through that model's single worker thread (a FIFO queue): calls from any
  event loop or thread run one at a time, in arrival order, and never block the loop;
- `n_threads` = CPUs available to the process (`BENCHAGENT_LLM_THREADS` overrides);
- temperature 0 (greedy) and a fixed seed, so the same request always gives the same answer;
  a mild repeat penalty (1.1) stops small models from looping until max_tokens;
- the KV state of a prompt's head is reused from the previous call or from saved heads of
  earlier prompts (`local_decode`: whole 64-token chunks only, so the answer is bit-identical
  to a fresh context's; `BENCHAGENT_LLM_PREFIX_CACHE_MB`, default 256, caps the saved heads;
  0 keeps only the live context's);
- structured requests are decoded under a grammar built from the JSON schema
  (`local_grammar`, which also enforces numeric bounds and string lengths), checked lazily:
  only the picked token is tested, and the whole vocabulary is filtered only when the grammar
  rejects it (same answer as a full pass at temperature 0); decoding stops at the end of the
  JSON value; a schema the converter cannot handle is an error, never a silent fallback;
  keywords no grammar enforces are logged, and an answer breaking them is logged too
  (callers validate answers anyway);
- the schema of a structured request is also stated, at the end of the last user message (so
  requests with different schemas share their prompt head);
- chat models are prompted with the chat template stored in their GGUF; base models
  (`prompt_style="completion"`, Gemma-3-270M) with a plain transcript ending in "Assistant:".

Structured requests (all equivalent; pick one per call):

    extra_create_args={"response_format": {"type": "json_schema",
                                           "json_schema": {"name": "...", "schema": {...}}}}
    extra_create_args={"response_format": {"type": "json_object", "schema": {...}}}
    extra_create_args={"json_schema": {...}}
    json_output=<schema dict | msgspec Struct type | pydantic model type>
    json_output=True  or  response_format={"type": "json_object"}  (any JSON object)

`extra_create_args={"continuations": [...]}` scores instead of generating: the answer is the
JSON list of each continuation's log-probability right after the messages' text (raw text,
no chat template; a cloze item's options filled into its blank).

`extra_create_args` also takes `seed`, `temperature`, `max_tokens` (default 1024), `top_p`,
`top_k`, `stop` and `repeat_penalty`, and `logprobs`/`top_logprobs` (each generated token's
likeliest alternatives, as OpenAI reports them); other keys are ignored with a warning. At temperature 0
the seed changes nothing: a retry of the same request gets the same answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import structlog
from autogen_core import CancellationToken
from autogen_core.models import (
    AssistantMessage,
    ChatCompletionClient,
    ChatCompletionTokenLogprob,
    CreateResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema

from tools.llm import llama_env  # before any llama_cpp import: sets OMP_WAIT_POLICY
from tools.llm.clients import CONTINUATIONS_KEY
from tools.llm.local_models import LOCAL_MODELS, LocalModel, get_local_model
from tools.llm.weights import model_path

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_REPEAT_PENALTY",
    "DEFAULT_SEED",
    "GenerationTimings",
    "LOCAL_MODELS",
    "LocalChatCompletionClient",
    "LocalRuntimeMissing",
    "make_local_client",
    "resolve_json_schema",
    "with_schema_hint",
    "unload_local_model",
]

log = structlog.get_logger(__name__)

DEFAULT_SEED = 1234
DEFAULT_MAX_TOKENS = 1024
# Greedy decoding makes small models loop ("X can also be caused by ...") until max_tokens,
# which truncates structured answers; a mild penalty over the last 64 tokens breaks the loops
# (measured: the 0.5B model's looping answers end normally at 1.05-1.1). Still deterministic.
DEFAULT_REPEAT_PENALTY = 1.1
_ANY_JSON_OBJECT: dict[str, Any] = {"type": "object"}
_PARAM_KEYS = {"seed", "temperature", "max_tokens", "top_p", "top_k", "stop", "repeat_penalty",
               "logprobs", "top_logprobs"}
_FORMAT_KEYS = {"response_format", "json_schema"}
# Transcript for base models: role labels a pretrained model continues naturally.
_COMPLETION_LABELS = {"system": "", "user": "User: ", "assistant": "Assistant: "}
_COMPLETION_STOPS = ["\nUser:", "\nAssistant:"]
_SCHEMA_HINT = "Answer with one JSON value that satisfies this JSON schema:\n"
HintPlacement = Literal["end", "system"]

# Prompts are evaluated in chunks of this many tokens at fixed positions; a reused KV prefix
# is a whole number of chunks, so the answer is the one a fresh context gives (local_decode).
# Small chunks let shorter shared heads be reused; on this CPU, prompt evaluation is no slower
# in chunks of 64 than of 512 (perf/local_speed.py).
PROMPT_CHUNK = 64
DEFAULT_PREFIX_CACHE_MB = 256

T = TypeVar("T")


def prefix_cache_bytes() -> int:
    """Bytes of saved prompt-head KV states kept per model (`BENCHAGENT_LLM_PREFIX_CACHE_MB`)."""
    env = os.environ.get("BENCHAGENT_LLM_PREFIX_CACHE_MB")
    return max(0, int(env if env else DEFAULT_PREFIX_CACHE_MB)) * 1024 * 1024


def llama_threads() -> int:
    """Threads for llama.cpp: the CPUs this process may run on."""
    env = os.environ.get("BENCHAGENT_LLM_THREADS")
    if env:
        return max(1, int(env))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class LocalRuntimeMissing(RuntimeError):
    """llama-cpp-python is not installed."""


# --------------------------------------------------------------------------- schemas


def _schema_of_type(tp: type) -> dict[str, Any]:
    dump = getattr(tp, "model_json_schema", None)  # pydantic
    if callable(dump):
        return dump()
    import msgspec  # Structs, dataclasses, TypedDicts...

    return msgspec.json.schema(tp)


def resolve_json_schema(
    json_output: object, extra_create_args: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The JSON schema a request must satisfy, or None for free text.

    Accepts the OpenAI-style `response_format`, a bare `json_schema`, or `json_output`;
    two different schemas in one request are a ValueError.
    """
    found: list[dict[str, Any]] = []
    fmt = extra_create_args.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, Mapping) else None
        if kind == "json_schema":
            inner = fmt.get("json_schema")
            if not isinstance(inner, Mapping) or not isinstance(inner.get("schema"), Mapping):
                raise ValueError("response_format json_schema needs {'json_schema': {'schema': {...}}}")
            found.append(dict(inner["schema"]))
        elif kind == "json_object":
            schema = fmt.get("schema")
            found.append(dict(schema) if isinstance(schema, Mapping) else _ANY_JSON_OBJECT)
        elif kind != "text":
            raise ValueError(f"unsupported response_format: {fmt!r}")
    bare = extra_create_args.get("json_schema")
    if bare is not None:
        if not isinstance(bare, Mapping):
            raise ValueError("extra_create_args['json_schema'] must be a JSON schema dict")
        found.append(dict(bare))
    if json_output is True:
        found.append(_ANY_JSON_OBJECT)
    elif isinstance(json_output, Mapping):
        found.append(dict(json_output))
    elif isinstance(json_output, type):
        found.append(_schema_of_type(json_output))
    elif json_output not in (None, False):
        raise ValueError(f"json_output must be a bool, a schema dict or a type, not {json_output!r}")
    distinct = {json.dumps(s, sort_keys=True) for s in found}
    if len(distinct) > 1:
        raise ValueError("the request names more than one JSON schema")
    return found[0] if found else None


# --------------------------------------------------------------------------- messages


def _message_dicts(messages: Sequence[LLMMessage]) -> list[dict[str, str]]:
    """AutoGen messages as role/content dicts; anything a text model cannot take is refused."""
    out: list[dict[str, str]] = []
    for msg in messages:
        if isinstance(msg, SystemMessage):
            out.append({"role": "system", "content": msg.content})
        elif isinstance(msg, UserMessage):
            content = msg.content
            if not isinstance(content, str):
                if not all(isinstance(part, str) for part in content):
                    raise ValueError("local models take text only (no images)")
                content = "\n".join(content)  # type: ignore[arg-type]
            out.append({"role": "user", "content": content})
        elif isinstance(msg, AssistantMessage):
            if not isinstance(msg.content, str):
                raise ValueError("local models do not support function calls")
            out.append({"role": "assistant", "content": msg.content})
        elif isinstance(msg, FunctionExecutionResultMessage):
            raise ValueError("local models do not support function calls")
        else:
            raise ValueError(f"unsupported message type: {type(msg).__name__}")
    return out


def with_schema_hint(
    messages: list[dict[str, str]], schema: dict[str, Any], placement: HintPlacement = "end"
) -> list[dict[str, str]]:
    """The messages with the schema stated, by default at the end of the last user message.

    The grammar alone keeps the answer valid, but a small model that does not know it is
    writing JSON tends to pour prose into the first string field; told the schema, it answers
    shorter and to the point (0.5B model, 10 agent-like prompts: 510 vs 814 tokens). At the
    end, the hint leaves the head of the prompt (system text, item, passage) the same for
    requests with different schemas, so their KV prefix can be reused (perf/local_speed.py
    compares the two placements).
    """
    hint = _SCHEMA_HINT + json.dumps(schema, separators=(",", ":"))
    if placement == "end" and messages and messages[-1]["role"] == "user":
        last = {"role": "user", "content": f"{messages[-1]['content']}\n\n{hint}"}
        return [*messages[:-1], last]
    if messages and messages[0]["role"] == "system":
        first = {"role": "system", "content": f"{messages[0]['content']}\n\n{hint}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": hint}, *messages]


def completion_prompt(messages: list[dict[str, str]]) -> str:
    """A plain transcript for base models, ending where the assistant's answer starts."""
    blocks = [_COMPLETION_LABELS[m["role"]] + m["content"].strip() for m in messages]
    return "\n\n".join(blocks) + "\n\nAssistant:"


# --------------------------------------------------------------------------- runtime


@dataclass(frozen=True)
class GenerationTimings:
    """Where the time of one request went (llama.cpp's own counters)."""

    prompt_tokens: int  # prompt tokens evaluated now (the reused head excluded)
    prompt_seconds: float
    decoded_tokens: int  # tokens generated one by one
    decode_seconds: float  # sampling and grammar included
    total_seconds: float  # wall time inside llama.cpp
    reused_prompt_tokens: int = 0  # prompt head whose KV state was reused
    grammar_full_passes: int = 0  # decoded tokens the grammar had to filter the vocabulary for


@dataclass
class _Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: Literal["stop", "length"]
    timings: GenerationTimings
    logprobs: list[ChatCompletionTokenLogprob] | None = None


@dataclass
class _Request:
    messages: list[dict[str, str]]
    schema: dict[str, Any] | None
    temperature: float = 0.0
    seed: int = DEFAULT_SEED
    max_tokens: int = DEFAULT_MAX_TOKENS
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = DEFAULT_REPEAT_PENALTY
    stop: list[str] = field(default_factory=list)
    top_logprobs: int = 0


class _ModelRuntime:
    """One loaded model and the single worker thread that owns it."""

    def __init__(self, model: LocalModel) -> None:
        self.model = model
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"llama-{model.name}")
        self._llama: Any = None  # llama_cpp.Llama, created on the worker thread
        self._formatter: Any = None  # Jinja2ChatFormatter from the GGUF's chat template
        self._grammars: dict[str, str] = {}
        self._evaluator: Any = None  # local_decode.PromptEvaluator, made with the Llama
        self.load_seconds: float | None = None
        self.n_threads = llama_threads()
        self.prefix_reuse = True

    async def run(self, job: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, job)

    def submit(self, job: Callable[..., T], *args: Any) -> Future[T]:
        """Queue `job` on the worker thread (for synchronous callers)."""
        return self._executor.submit(job, *args)

    def shutdown(self) -> None:
        self._executor.submit(self._close).result()
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._llama is not None:
            self._evaluator = None
            self._llama.close()
            self._llama = None

    # Everything below runs on the worker thread only.

    def _ensure_loaded(self) -> Any:
        if self._llama is not None:
            return self._llama
        try:  # imported late: the rest of the project works without it
            from llama_cpp import Llama
        except ImportError as exc:
            raise LocalRuntimeMissing(
                f"local:{self.model.name} needs llama-cpp-python built with GGML_NATIVE=OFF; "
                "install it with `make local-runtime`"
            ) from exc

        if llama_env.LOADED_TOO_EARLY:
            log.warning(
                "llama_cpp_imported_before_tools_llm",
                hint="OMP_WAIT_POLICY=PASSIVE came too late: threads may spin under load",
            )
        path = model_path(self.model.name)  # assembles/verifies: refuses a tampered file
        started = time.perf_counter()
        llama = Llama(
            model_path=str(path),
            n_ctx=self.model.n_ctx,
            n_batch=PROMPT_CHUNK,
            n_threads=self.n_threads,
            n_threads_batch=self.n_threads,
            seed=DEFAULT_SEED,
            verbose=False,
        )
        self.load_seconds = time.perf_counter() - started
        if self.model.prompt_style == "chat":
            self._formatter = _chat_formatter(llama, self.model)
        from tools.llm.local_decode import PrefixStates, PromptEvaluator

        self._evaluator = PromptEvaluator(llama, PROMPT_CHUNK, PrefixStates(prefix_cache_bytes()))
        self._llama = llama
        log.info(
            "local_model_loaded",
            model=self.model.name,
            seconds=round(self.load_seconds, 2),
            n_threads=self.n_threads,
            n_ctx=self.model.n_ctx,
        )
        return llama

    def load(self) -> float:
        self._ensure_loaded()
        assert self.load_seconds is not None
        return self.load_seconds

    def _grammar(self, schema: dict[str, Any]) -> str:
        from tools.llm.local_grammar import schema_to_gbnf, unenforced_keywords

        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            try:
                gbnf = schema_to_gbnf(schema)
            except Exception as exc:  # the converter raises bare Exceptions and asserts
                raise ValueError(f"JSON schema not supported for constrained decoding: {exc}") from exc
            loose = unenforced_keywords(schema)
            if loose:
                log.warning("local_llm_schema_partly_enforced", keywords=sorted(loose))
            grammar = self._grammars[key] = gbnf
        return grammar

    def tokenize(self, text: str) -> int:
        return len(self._ensure_loaded().tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def score(self, text: str, continuations: Sequence[str],
              cancelled: threading.Event) -> tuple[list[float], int] | None:
        """(log-probability of each continuation right after `text`, tokens evaluated)."""
        if cancelled.is_set():
            return None
        from tools.llm.local_decode import continuation_logprobs

        llama = self._ensure_loaded()
        add_bos = self.model.prompt_style != "chat"

        def tokens(t: str) -> list[int]:
            return llama.tokenize(t.encode("utf-8"), add_bos=add_bos, special=False)

        before = tokens(text)
        fulls = [tokens(text + c) for c in continuations]
        longest = max((len(f) for f in fulls), default=0)
        if longest >= self.model.n_ctx:
            raise ValueError(f"Requested tokens ({longest}) exceed context window of "
                             f"{self.model.n_ctx}")
        try:
            return continuation_logprobs(self._evaluator, before, fulls,
                                         self.prefix_reuse), longest
        except BaseException:
            self._evaluator.forget_live()
            raise

    def generate(self, request: _Request, cancelled: threading.Event) -> _Generation | None:
        if cancelled.is_set():  # cancelled while queued
            return None
        from tools.llm.local_decode import DecodeParams, decode

        llama = self._ensure_loaded()
        stop = list(request.stop)
        if self._formatter is not None:
            formatted = self._formatter(messages=request.messages)
            prompt_text = formatted.prompt
            add_bos = not formatted.added_special
            stop += formatted.stop if isinstance(formatted.stop, list) else [formatted.stop]
        else:
            prompt_text = completion_prompt(request.messages)
            add_bos = True
            stop += _COMPLETION_STOPS
        tokens = llama.tokenize(prompt_text.encode("utf-8"), add_bos=add_bos, special=True)
        if len(tokens) >= self.model.n_ctx:
            raise ValueError(f"Requested tokens ({len(tokens)}) exceed context window of "
                             f"{self.model.n_ctx}")
        grammar = self._grammar(request.schema) if request.schema is not None else None
        started = time.perf_counter()
        evaluated = self._evaluator.evaluate(tokens, reuse=self.prefix_reuse)
        decoded = decode(
            llama,
            tokens,
            DecodeParams(
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                top_k=request.top_k,
                top_p=request.top_p,
                repeat_penalty=request.repeat_penalty,
                seed=request.seed,
                stop=tuple(stop),
                stop_at_json_end=request.schema is not None,
                top_logprobs=request.top_logprobs,
            ),
            grammar=grammar,
            should_stop=cancelled.is_set,
            stop_token_ids=[llama.token_eos()],
        )
        return _Generation(
            text=decoded.text,
            prompt_tokens=len(tokens),
            completion_tokens=len(decoded.tokens),
            finish_reason=decoded.finish_reason,
            timings=GenerationTimings(
                prompt_tokens=evaluated.evaluated,
                prompt_seconds=evaluated.seconds,
                decoded_tokens=len(decoded.tokens),
                decode_seconds=decoded.seconds,
                total_seconds=time.perf_counter() - started,
                reused_prompt_tokens=evaluated.reused,
                grammar_full_passes=decoded.grammar_full_passes,
            ),
            logprobs=[_token_logprobs(t) for t in decoded.logprobs] if request.top_logprobs
            else None,
        )


def _token_logprobs(t: Any) -> ChatCompletionTokenLogprob:
    """A `local_decode.TokenLogprobs` as AutoGen (and OpenAI) report one token."""
    return ChatCompletionTokenLogprob(
        token=t.token.decode("utf-8", errors="replace"), logprob=t.logprob, bytes=list(t.token),
        top_logprobs=[TopLogprob(logprob=lp, bytes=list(b)) for b, lp in t.top])


def _chat_formatter(llama: Any, model: LocalModel) -> Any:
    """The chat template stored in the GGUF, as llama-cpp-python itself would use it."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise RuntimeError(f"local:{model.name} has no chat template in its GGUF")
    eos_id, bos_id = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=llama._model.token_get_text(eos_id) if eos_id != -1 else "",
        bos_token=llama._model.token_get_text(bos_id) if bos_id != -1 else "",
        stop_token_ids=[eos_id],
    )


_runtimes: dict[str, _ModelRuntime] = {}
_runtimes_lock = threading.Lock()


def _runtime(name: str) -> _ModelRuntime:
    with _runtimes_lock:
        runtime = _runtimes.get(name)
        if runtime is None:
            runtime = _runtimes[name] = _ModelRuntime(get_local_model(name))
        return runtime


def unload_local_model(name: str) -> None:
    """Free a loaded model (tests, perf); the next request loads it again."""
    with _runtimes_lock:
        runtime = _runtimes.pop(name, None)
    if runtime is not None:
        runtime.shutdown()


def _warn_if_invalid(model: str, text: str, schema: dict[str, Any]) -> None:
    """Log an answer that breaks a constraint the grammar could not express (callers check)."""
    import jsonschema

    try:
        jsonschema.validate(json.loads(text), schema)
    except (ValueError, jsonschema.ValidationError, jsonschema.SchemaError) as exc:
        log.warning("local_llm_schema_violation", model=model, error=str(exc).splitlines()[0])


# --------------------------------------------------------------------------- client


class LocalChatCompletionClient(ChatCompletionClient):
    """`local:NAME` as an AutoGen model client. Cheap to create: the model loads on first use."""

    scores_text = True  # answers `continuations` requests (`CONTINUATIONS_KEY`)

    def __init__(self, name: str) -> None:
        self._model = get_local_model(name)
        self._model_info = ModelInfo(
            vision=False,
            function_calling=False,
            json_output=True,
            family=ModelFamily.UNKNOWN,
            structured_output=True,
            multiple_system_messages=True,
        )
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self._last = RequestUsage(prompt_tokens=0, completion_tokens=0)
        self.last_timings: GenerationTimings | None = None  # of the latest request

    @property
    def name(self) -> str:
        return self._model.name

    @property
    def _runtime(self) -> _ModelRuntime:
        # Looked up on each use, not kept: unload_local_model() may replace it.
        return _runtime(self._model.name)

    @property
    def spec(self) -> str:
        return f"local:{self._model.name}"

    async def load(self) -> float:
        """Load the model now (normally done by the first request); returns load seconds."""
        runtime = self._runtime
        return await runtime.run(runtime.load)

    def _request(
        self, messages: Sequence[LLMMessage], json_output: object, extra: Mapping[str, Any]
    ) -> _Request:
        unknown = set(extra) - _PARAM_KEYS - _FORMAT_KEYS
        if unknown:
            log.warning("local_llm_ignored_args", model=self._model.name, keys=sorted(unknown))
        stop = extra.get("stop") or []
        schema = resolve_json_schema(json_output, extra)
        texts = _message_dicts(messages)
        return _Request(
            messages=with_schema_hint(texts, schema) if schema is not None else texts,
            schema=schema,
            temperature=float(extra.get("temperature", 0.0)),
            seed=int(extra.get("seed", DEFAULT_SEED)),
            max_tokens=int(extra.get("max_tokens", DEFAULT_MAX_TOKENS)),
            top_p=float(extra.get("top_p", 0.95)),
            top_k=int(extra.get("top_k", 40)),
            repeat_penalty=float(extra.get("repeat_penalty", DEFAULT_REPEAT_PENALTY)),
            stop=[stop] if isinstance(stop, str) else list(stop),
            top_logprobs=(max(1, int(extra.get("top_logprobs") or 1))
                          if extra.get("logprobs") else 0),
        )

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        if tools:
            raise ValueError("local models do not support tool calls")
        if CONTINUATIONS_KEY in extra_create_args:
            return await self._score(messages, extra_create_args[CONTINUATIONS_KEY],
                                     cancellation_token)
        request = self._request(messages, json_output, extra_create_args)
        runtime = self._runtime
        generation = await _cancellable(
            lambda cancelled: runtime.generate(request, cancelled), runtime, cancellation_token)
        usage = RequestUsage(
            prompt_tokens=generation.prompt_tokens, completion_tokens=generation.completion_tokens
        )
        self._last = usage
        self.last_timings = generation.timings
        self._total = RequestUsage(
            prompt_tokens=self._total.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._total.completion_tokens + usage.completion_tokens,
        )
        if request.schema is not None and generation.finish_reason == "stop":
            _warn_if_invalid(self._model.name, generation.text, request.schema)
        log.debug(
            "local_llm_call",
            model=self._model.name,
            structured=request.schema is not None,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            seconds=round(generation.timings.total_seconds, 3),
            finish_reason=generation.finish_reason,
        )
        return CreateResult(
            finish_reason=generation.finish_reason,
            content=generation.text,
            usage=usage,
            cached=False,
            logprobs=generation.logprobs,
        )

    async def _score(self, messages: Sequence[LLMMessage], continuations: Sequence[str],
                     cancellation_token: CancellationToken | None) -> CreateResult:
        text = "".join(m["content"] for m in _message_dicts(messages))
        runtime = self._runtime
        scores, tokens = await _cancellable(
            lambda cancelled: runtime.score(text, list(continuations), cancelled), runtime,
            cancellation_token)
        usage = RequestUsage(prompt_tokens=tokens, completion_tokens=0)
        self._last = usage
        self._total = RequestUsage(prompt_tokens=self._total.prompt_tokens + tokens,
                                   completion_tokens=self._total.completion_tokens)
        return CreateResult(finish_reason="stop", content=json.dumps(scores), usage=usage,
                            cached=False)

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: Any = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Not incremental: yields the whole answer, then the result (the contract's shape)."""
        result = await self.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        assert isinstance(result.content, str)
        yield result.content
        yield result

    async def close(self) -> None:
        """The model is shared by every client of this process: use unload_local_model()."""

    def actual_usage(self) -> RequestUsage:
        return self._last

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        """Tokens of the message texts (blocks until the model is loaded and idle)."""
        text = "\n".join(m["content"] for m in _message_dicts(messages))
        runtime = self._runtime
        return runtime.submit(runtime.tokenize, text).result()

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        return max(self._model.n_ctx - self.count_tokens(messages, tools=tools), 0)

    @property
    def capabilities(self) -> ModelInfo:  # type: ignore[override]
        return self._model_info

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info


async def _cancellable(job: Callable[[threading.Event], T | None], runtime: _ModelRuntime,
                       token: CancellationToken | None) -> T:
    """Run `job` on the model's worker thread; cancelling stops it at its next token (or
    before it starts: the job then returns None)."""
    cancelled = threading.Event()
    future = asyncio.ensure_future(runtime.run(lambda: job(cancelled)))
    if token is not None:
        token.link_future(future)
    try:
        result = await future
    except asyncio.CancelledError:
        cancelled.set()
        raise
    if result is None:
        raise asyncio.CancelledError()
    return result


def make_local_client(name: str) -> ChatCompletionClient:
    """The client for `local:NAME`; ValueError naming the known models for an unknown NAME."""
    return LocalChatCompletionClient(name)
