"""Model specs, the OpenAI client against the scripted HTTP server, and the scripted client."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import jsonschema
import pytest
from autogen_core.models import SystemMessage, UserMessage

from tools.llm.clients import (
    MalformedResponse,
    ModelSpec,
    TransientLLMError,
    completion_body_problem,
    describe_error,
    is_transient,
    make_client,
    parse_model_spec,
)
from tools.llm.scripted import (
    FaultPlan,
    ScriptedChatCompletionClient,
    schema_instance,
)
from tools.llm.scripted_server import ScriptedServer

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
RESPONSE_FORMAT = {"response_format": {"type": "json_schema",
                                       "json_schema": {"name": "judge", "schema": SCHEMA}}}


def messages(text: str = "hello") -> list[Any]:
    return [SystemMessage(content="Be brief."), UserMessage(content=text, source="user")]


# ---------------------------------------------------------------- specs


@pytest.mark.parametrize(("spec", "expected"), [
    ("openai:gpt-4o-mini", ModelSpec(kind="openai", name="gpt-4o-mini")),
    ("openai:qwen2.5:7b@http://127.0.0.1:11434/v1",
     ModelSpec(kind="openai", name="qwen2.5:7b", base_url="http://127.0.0.1:11434/v1")),
    ("openai:meta-llama/Llama-3.1-8B@https://vllm.example.org/v1",
     ModelSpec(kind="openai", name="meta-llama/Llama-3.1-8B",
               base_url="https://vllm.example.org/v1")),
    ("scripted:schema", ModelSpec(kind="scripted", name="schema")),
    ("scripted:tests.fixtures:responder", ModelSpec(kind="scripted", name="tests.fixtures:responder")),
])
def test_parse_valid_specs(spec: str, expected: ModelSpec) -> None:
    assert parse_model_spec(spec) == expected


@pytest.mark.parametrize("spec", [
    "gpt-4o", "", "openai:", "openai:@http://x/v1", "openai:gpt@ftp://x", "cloud:foo",
    "scripted:", "local:", "openai:gpt 4", "openai:gpt@http:///v1",
])
def test_bad_specs_name_the_valid_forms(spec: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_model_spec(spec)
    text = str(err.value)
    assert "\n" not in text and "openai:MODEL[@BASE_URL], local:NAME or scripted:NAME" in text


def test_identity_leaves_out_the_url_and_display_hides_credentials() -> None:
    spec = parse_model_spec("openai:m@http://user:pw@127.0.0.1:9/v1")
    assert spec.identity == "openai:m"
    assert spec.display() == "openai:m@http://127.0.0.1:9/v1"


def test_openai_without_key_or_base_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    with pytest.raises(ValueError, match="set the environment variable NO_SUCH_KEY_VAR"):
        make_client("openai:gpt-4o-mini", key_env="NO_SUCH_KEY_VAR")


def test_unknown_scripted_responder_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no scripted responder 'nope'"):
        make_client("scripted:nope")
    with pytest.raises(ValueError, match="cannot be imported"):
        make_client("scripted:no_such_module_xyz:fn")


def test_scripted_spec_can_import_a_responder() -> None:
    client = make_client("scripted:tools.llm.scripted:schema_responder")
    result = asyncio.run(client.create(messages(), extra_create_args=RESPONSE_FORMAT))
    jsonschema.validate(json.loads(result.content), SCHEMA)


# ------------------------------------------------------ OpenAI client over HTTP


async def test_openai_client_sends_the_schema_and_gets_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # loopback: a placeholder key is used
    seen: list[tuple[Any, ...]] = []

    def responder(msgs: list[dict[str, Any]], schema: dict[str, Any] | None, purpose: str | None
                  ) -> str:
        seen.append((msgs, schema, purpose))
        return json.dumps({"answer": msgs[-1]["content"].upper()})

    with ScriptedServer(responder) as server:
        client = make_client(f"openai:tiny-model@{server.base_url}")
        result = await client.create(messages("ping"),
                                     extra_create_args={**RESPONSE_FORMAT, "temperature": 0.0})
        await client.close()
    assert json.loads(result.content) == {"answer": "PING"}
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    (msgs, schema, purpose), = seen
    assert schema == SCHEMA and purpose == "judge"
    assert [m["role"] for m in msgs] == ["system", "user"] and msgs[-1]["content"] == "ping"
    assert server.calls == 1


async def test_http_failures_surface_as_transient_errors() -> None:
    with ScriptedServer(failure_rate=1.0, failure_kinds=("429",)) as server:
        client = make_client(f"openai:m@{server.base_url}")
        with pytest.raises(Exception) as rate_limited:
            await client.create(messages())
        await client.close()
    assert is_transient(rate_limited.value)
    assert describe_error(rate_limited.value).startswith("RateLimitError 429")

    with ScriptedServer(failure_rate=1.0, failure_kinds=("500",)) as server:
        client = make_client(f"openai:m@{server.base_url}")
        with pytest.raises(Exception) as server_error:
            await client.create(messages())
        await client.close()
    assert is_transient(server_error.value) and server.calls == 1  # the SDK did not retry

    with ScriptedServer() as server:
        url = server.base_url.replace("/v1", "/nowhere")
        client = make_client(f"openai:m@{url}")
        with pytest.raises(Exception) as not_found:
            await client.create(messages())
        await client.close()
    assert not is_transient(not_found.value)

    with ScriptedServer() as server:
        dead_url = server.base_url
    client = make_client(f"openai:m@{dead_url}")
    with pytest.raises(Exception) as refused:
        await client.create(messages())
    await client.close()
    assert is_transient(refused.value)


@pytest.mark.parametrize(("kind", "said"), [
    ("garbled", "body that is not JSON"),
    ("truncated", "body that is not JSON"),
    ("empty", "empty body"),
    ("reset", "peer closed connection"),
])
async def test_a_bad_200_body_is_the_transport_s_fault_and_transient(kind: str, said: str) -> None:
    with ScriptedServer(failure_rate=1.0, failure_kinds=(kind,)) as server:
        client = make_client(f"openai:m@{server.base_url}")
        with pytest.raises(Exception) as bad_body:
            await client.create(messages(), extra_create_args=RESPONSE_FORMAT)
        await client.close()
        assert server.outcomes[kind] == 1 and server.calls == 1  # the SDK did not retry
    assert is_transient(bad_body.value), describe_error(bad_body.value)
    line = describe_error(bad_body.value)
    assert said in line and "\n" not in line


async def test_a_200_with_json_that_is_not_a_completion_is_transient() -> None:
    # A proxy answering for the model (an error page as JSON, an empty choices list).
    for body in (b'{"choices": []}', b'{"detail": "upstream busy"}', b"[]"):
        assert completion_body_problem(body) is not None
    assert completion_body_problem(
        b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}}]}') is None
    assert is_transient(MalformedResponse("HTTP 200 with JSON that is not a chat completion"))
    assert is_transient(json.JSONDecodeError("Expecting value", "{not json", 0))


@pytest.mark.parametrize(("kind", "hint"), [
    ("400", "shorten the prompt"),
    ("401", "set a valid key in the variable --llm-key-env names"),
    ("403", "check the key's permissions"),
    ("404", "check the model name"),
])
async def test_errors_no_retry_can_fix_are_final_and_say_what_to_fix(kind: str, hint: str) -> None:
    with ScriptedServer(failure_rate=1.0, failure_kinds=(kind,)) as server:
        client = make_client(f"openai:m@{server.base_url}")
        with pytest.raises(Exception) as final:
            await client.create(messages())
        await client.close()
    assert not is_transient(final.value)
    line = describe_error(final.value)
    assert line.split(":")[0].endswith(kind) and hint in line and "\n" not in line


async def test_server_overlaps_concurrent_calls() -> None:
    with ScriptedServer(latency_s=0.2) as server:
        client = make_client(f"openai:m@{server.base_url}")
        await client.create(messages("warm-up"))
        start = time.perf_counter()
        await asyncio.gather(*[client.create(messages(f"m{i}")) for i in range(16)])
        elapsed = time.perf_counter() - start
        await client.close()
    assert server.calls == 17
    assert elapsed < 1.6, f"16 calls of 200 ms took {elapsed:.2f}s: not concurrent"


# ------------------------------------------------------------ scripted client


async def test_scripted_client_counts_usage_and_passes_schema_and_purpose() -> None:
    seen: list[Any] = []

    def responder(msgs: Any, schema: Any, **kw: Any) -> str:
        seen.append((schema, kw.get("purpose")))
        return '{"answer": "yes"}'

    client = ScriptedChatCompletionClient(responder)
    r1 = await client.create(messages(), extra_create_args=RESPONSE_FORMAT)
    r2 = await client.create(messages("no schema"))
    assert r1.content == '{"answer": "yes"}' and seen == [(SCHEMA, "judge"), (None, None)]
    assert client.calls == 2
    total = client.total_usage()
    assert total.prompt_tokens == r1.usage.prompt_tokens + r2.usage.prompt_tokens > 0
    assert client.model_info["json_output"] is True


async def test_fault_injection_is_seeded_and_independent_of_order() -> None:
    async def outcomes(seed: int, order: list[int]) -> dict[int, str]:
        client = ScriptedChatCompletionClient(lambda m, s: "ok", faults=FaultPlan(0.3, seed))
        result: dict[int, str] = {}
        for i in order:
            try:
                r = await client.create(messages(f"q{i}"))
                result[i] = "malformed" if r.content != "ok" else "ok"
            except TransientLLMError as exc:
                result[i] = str(exc.status)
            except TimeoutError:
                result[i] = "timeout"
        return result

    forward = await outcomes(11, list(range(200)))
    backward = await outcomes(11, list(reversed(range(200))))
    other_seed = await outcomes(12, list(range(200)))
    assert forward == backward
    assert forward != other_seed
    failed = sum(v != "ok" for v in forward.values())
    assert 35 <= failed <= 85  # ~30% of 200
    # Plain-text requests cannot be malformed JSON: that fault comes as a 500 instead.
    assert set(forward.values()) == {"ok", "timeout", "429", "500"}
    plan, text_plan = FaultPlan(0.5, 3), FaultPlan(0.5, 3)
    kinds = {plan.decide(f"r{i}") for i in range(200)}
    text_kinds = {text_plan.decide(f"r{i}", wants_json=False) for i in range(200)}
    assert "malformed" in kinds and "malformed" not in text_kinds and "500" in text_kinds


def test_fault_plan_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="within"):
        FaultPlan(rate=1.5)
    with pytest.raises(ValueError, match="fault kinds"):
        FaultPlan(rate=0.1, kinds=["404"])


@pytest.mark.parametrize("schema", [
    SCHEMA,
    {"type": "object", "properties": {
        "subtasks": {"type": "array", "minItems": 2, "maxItems": 6, "items": {
            "type": "object", "required": ["name", "score"],
            "properties": {"name": {"type": "string", "minLength": 12},
                           "score": {"type": "number", "minimum": 0.5, "maximum": 1},
                           "kind": {"enum": ["mc", "short"]}}}},
        "ok": {"type": "boolean"}, "note": {"type": ["null", "string"]}},
     "required": ["subtasks", "ok", "note"]},
])
def test_schema_instance_is_valid(schema: dict[str, Any]) -> None:
    jsonschema.validate(schema_instance(schema), schema)
