"""Model specs and the AutoGen `ChatCompletionClient` each one selects.

    openai:MODEL[@BASE_URL]   any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp)
    local:NAME                the embedded GGUF model (`tools.llm.local`)
    scripted:NAME             a registered scripted responder, or `scripted:pkg.module:attr`

Structured output, the one convention every client honours:

    await client.create(messages, extra_create_args={"response_format": {
        "type": "json_schema", "json_schema": {"name": purpose, "schema": schema}}})

`OpenAIChatCompletionClient` passes a dict `response_format` through to the
server unchanged (only a pydantic class switches it to the beta parse API).

Errors: `is_transient` says whether an exception is worth a retry, for any
client here. Transient is whatever the transport did wrong: a timeout, a
connection refused or reset mid-body, 408/409/429, 5xx, and a 200 whose body is
not a chat completion (garbled, truncated, empty, HTML from a proxy: checked on
the HTTP response itself, `MalformedResponse`, before the SDK parses it). Final
is what no retry can fix: 400 (e.g. a request too large), 401/403 (the key),
404 (the model or the URL); `describe_error` says in one line what to change.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
import structlog

if TYPE_CHECKING:
    from autogen_core.models import ChatCompletionClient, ModelInfo

log = structlog.get_logger(__name__)

VALID_FORMS = "openai:MODEL[@BASE_URL], local:NAME or scripted:NAME"
PLACEHOLDER_KEY = "not-needed"  # servers on our own machine rarely check keys
DEFAULT_TIMEOUT_S = 600.0
# `extra_create_args` key of a scoring request, answered by clients whose `scores_text` is
# true (the local model; a scripted responder that scores): no text is generated, the answer
# is the JSON list of each continuation's log-probability right after the messages' text.
CONTINUATIONS_KEY = "continuations"

_URL_AT = re.compile(r"@(?=https?://)")
_NAME = re.compile(r"^[A-Za-z0-9][\w.\-/:]*$")


class ModelSpec(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # openai | local | scripted
    name: str
    base_url: str | None = None

    @property
    def identity(self) -> str:
        """What the model is, without where it is served: part of every request key."""
        return f"{self.kind}:{self.name}"

    def display(self) -> str:
        """The spec as written, with any user:password in the URL removed (safe to log)."""
        if not self.base_url:
            return self.identity
        parts = urlsplit(self.base_url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        return f"{self.identity}@{urlunsplit(parts._replace(netloc=netloc))}"


def _bad(spec: str, why: str) -> ValueError:
    return ValueError(f"unknown model spec {spec!r}: {why}; expected {VALID_FORMS}")


def parse_model_spec(spec: str) -> ModelSpec:
    """Parse `kind:name[@url]`; `ValueError` (one line, listing the valid forms) otherwise."""
    if not isinstance(spec, str) or ":" not in spec:
        raise _bad(str(spec), "no kind prefix")
    kind, _, rest = spec.strip().partition(":")
    if kind == "openai":
        model, url = (_URL_AT.split(rest, maxsplit=1) + [""])[:2]
        if not _NAME.match(model) or (url and (not urlsplit(url).hostname or " " in url)):
            raise _bad(spec, "expected openai:MODEL or openai:MODEL@http(s)://HOST[:PORT]/v1")
        return ModelSpec(kind="openai", name=model, base_url=url or None)
    if kind in ("local", "scripted"):
        if not _NAME.match(rest):
            raise _bad(spec, f"{kind} needs a NAME")
        if kind == "local":
            _check_local_name(spec, rest)
        return ModelSpec(kind=kind, name=rest)
    raise _bad(spec, f"unknown kind {kind!r}")


def _check_local_name(spec: str, name: str) -> None:
    try:
        from tools.llm.local import LOCAL_MODELS
    except ImportError:
        return  # the local backend is not installed; make_client reports it
    if name not in LOCAL_MODELS:
        raise _bad(spec, f"no local model {name!r} (known: {', '.join(sorted(LOCAL_MODELS))})")


def make_client(
    spec: str | ModelSpec, key_env: str = "OPENAI_API_KEY", *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> ChatCompletionClient:
    """A client for `spec`. The API key is read from the variable named `key_env`, never logged."""
    ms = spec if isinstance(spec, ModelSpec) else parse_model_spec(spec)
    if ms.kind == "openai":
        return _openai_client(ms, key_env, timeout_s)
    if ms.kind == "local":
        try:
            from tools.llm.local import make_local_client
        except ImportError as exc:
            raise ValueError(f"local models are unavailable here ({exc})") from None
        return make_local_client(ms.name)
    from tools.llm.scripted import scripted_client

    return scripted_client(ms.name)


def check_available(spec: str, key_env: str | None = "OPENAI_API_KEY") -> None:
    """Can `spec` be served on this machine? `ValueError` (one line) if not.

    `key_env=None` skips the API-key check (the caller does not know the variable yet).
    Cheap on purpose (no model load, no network, no hashing): a command checks every
    model it was given before it writes anything, and the real load reports the rest.
    """
    ms = parse_model_spec(spec)
    if ms.kind == "openai":
        if key_env is not None and not os.environ.get(key_env) and ms.base_url is None:
            raise ValueError(f"{ms.display()} needs an API key: set the environment variable {key_env}")
        return
    if ms.kind == "scripted":
        from tools.llm.scripted import resolve_responder

        resolve_responder(ms.name)
        return
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise ValueError(f"{spec} needs llama-cpp-python built with GGML_NATIVE=OFF: "
                         "install it with `make local-runtime`")
    from tools.llm.local_models import get_local_model
    from tools.llm.weights import WeightsError, cache_dir, locate_parts

    model = get_local_model(ms.name)
    if not (cache_dir() / model.filename).exists():
        try:
            locate_parts(model)
        except WeightsError as exc:
            raise ValueError(str(exc)) from None


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Used when AutoGen does not know the model name (any self-hosted model).
_GENERIC_MODEL_INFO: ModelInfo = {
    "vision": True, "function_calling": False, "json_output": True,
    "structured_output": True, "family": "unknown", "multiple_system_messages": True,
}


def _openai_client(ms: ModelSpec, key_env: str, timeout_s: float) -> ChatCompletionClient:
    from autogen_ext.models.openai import OpenAIChatCompletionClient

    key = os.environ.get(key_env) or None
    if key is None:
        if ms.base_url is None:
            raise ValueError(f"{ms.display()} needs an API key: set the environment variable {key_env}")
        if not _is_loopback(ms.base_url):
            log.warning("llm.no_api_key", model=ms.display(), key_env=key_env)
        key = PLACEHOLDER_KEY
    # Our RecordedLLM retries (and records every attempt): the SDK must not retry silently.
    config: dict[str, Any] = {"model": ms.name, "api_key": key, "max_retries": 0,
                              "timeout": timeout_s, "http_client": _checked_http_client()}
    if ms.base_url:
        config["base_url"] = ms.base_url
    try:
        return OpenAIChatCompletionClient(**config)
    except ValueError:  # "model_info is required when model name is not a valid OpenAI model"
        return OpenAIChatCompletionClient(**config, model_info=_GENERIC_MODEL_INFO)


def _checked_http_client() -> Any:
    """The SDK's own HTTP client, plus a check that a 2xx completion is a completion.

    Without it a 200 with a garbled body reaches the SDK's parser and escapes as a
    `JSONDecodeError` (or as a `TypeError` deep in AutoGen for JSON that is not a
    completion), which says nothing about the transport being at fault.
    """
    import openai

    return openai.DefaultAsyncHttpxClient(event_hooks={"response": [_check_completion_body]})


async def _check_completion_body(response: Any) -> None:
    if not 200 <= response.status_code < 300 or not str(response.request.url.path).endswith(
            "/chat/completions"):
        return
    if "text/event-stream" in response.headers.get("content-type", ""):
        return  # a stream is parsed event by event by the SDK
    body = await response.aread()  # a reset mid-body raises the transport's own error here
    problem = completion_body_problem(body)
    if problem is not None:
        raise MalformedResponse(f"HTTP {response.status_code} {problem}")


def completion_body_problem(body: bytes) -> str | None:
    """Why an HTTP body is not a chat completion (None if it is one)."""
    if not body.strip():
        return "with an empty body"
    try:
        doc = json.loads(body)
    except ValueError:
        return f"with a body that is not JSON ({len(body)} bytes: {body[:40]!r})"
    choices = doc.get("choices") if isinstance(doc, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict) \
            or not isinstance(choices[0].get("message"), dict):
        return f"with JSON that is not a chat completion ({len(body)} bytes: {body[:40]!r})"
    return None


# ---------------------------------------------------------------- errors


class TransientLLMError(Exception):
    """A failure worth retrying (rate limit, server error, timeout); `status` if HTTP."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class MalformedResponse(TransientLLMError):
    """A 2xx whose body is not a chat completion: the transport's fault, not the model's."""


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


_TRANSIENT_STATUS = frozenset({408, 409, 425, 429})
_FINAL_HINTS = {
    400: "the server rejected the request: shorten the prompt or check the parameters the "
         "server accepts",
    401: "the server refused the API key: set a valid key in the variable --llm-key-env names",
    403: "the API key may not use this model: check the key's permissions or the model name",
    404: "no such model or endpoint: check the model name in the spec and that the base URL "
         "ends with /v1",
    413: "the request is too large for the server: shorten the prompt or the media",
    422: "the server could not process the request: check the parameters it accepts",
}


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it was raised from or during, outermost first (no cycles)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__
                                        else current.__context__)
    return chain


def is_transient(exc: BaseException) -> bool:
    """A later attempt may succeed: timeouts, connection errors (also a reset mid-body),
    408/409/425/429, 5xx, and a 2xx body that is not a completion (garbled, truncated,
    empty: `MalformedResponse`, or the SDK's own `JSONDecodeError` when it parses one)."""
    try:
        import openai
    except ImportError:  # pragma: no cover - openai is a core dependency
        openai = None  # type: ignore[assignment]
    for link in _causes(exc):
        if isinstance(link, TransientLLMError | TimeoutError | asyncio.TimeoutError
                      | ConnectionError | json.JSONDecodeError):
            return True
        if openai is not None and isinstance(
                link, openai.APIConnectionError | openai.APITimeoutError
                | openai.APIResponseValidationError):
            return True
        status = _status(link)
        if status is not None:
            return status in _TRANSIENT_STATUS or status >= 500
    return False


def describe_error(exc: BaseException) -> str:
    """One line for the log: type, HTTP status if any, message (no headers, no keys); a
    final error also says what to fix, a connection error what the transport did."""
    status = _status(exc)
    text = " ".join(str(exc).split())[:300]
    head = type(exc).__name__ + (f" {status}" if status is not None else "")
    line = f"{head}: {text}" if text else head
    cause = next((c for c in _causes(exc)[1:] if str(c).strip()), None)
    if cause is not None and status is None:
        line += f" ({type(cause).__name__}: {' '.join(str(cause).split())[:200]})"
    if status in _FINAL_HINTS:
        line += f" — {_FINAL_HINTS[status]}"
    return line
