"""Prefix reuse and the lazy grammar on the real Qwen2.5-Coder-0.5B: same answers as a fresh
context with llama.cpp's full grammar pass, fewer prompt tokens evaluated."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from tools.llm import llama_env  # noqa: F401  (first: llama.cpp must see OMP_WAIT_POLICY)

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make local-runtime)")

from autogen_core.models import SystemMessage, UserMessage  # noqa: E402

from tools.llm.local import (  # noqa: E402
    PROMPT_CHUNK,
    _runtime,
    make_local_client,
    with_schema_hint,
)
from tools.llm.local_decode import PrefixStates, common_prefix  # noqa: E402
from tools.llm.local_grammar import schema_to_gbnf  # noqa: E402
from tools.llm.local_models import TEST_LOCAL_MODEL  # noqa: E402

# A head long enough to span several chunks, shared by every request below.
HEAD = ("You judge short everyday stories. A story names an event; you say what most likely "
        "caused it or what it most likely caused, in plain words, without inventing facts. "
        "Keep every answer short. ") * 4
SCHEMA = {
    "type": "object",
    "properties": {"cause": {"type": "string", "maxLength": 80},
                   "plausible": {"type": "boolean"},
                   "strength": {"type": "integer", "minimum": 1, "maximum": 5}},
    "required": ["cause", "plausible", "strength"],
    "additionalProperties": False,
}
STORIES = ["The ice cream melted on the table.", "The bus arrived forty minutes late.",
           "The plant by the window died."]
FORMAT = {"response_format": {"type": "json_schema", "json_schema": {"name": "c", "schema": SCHEMA}},
          "max_tokens": 48}


def ask(story: str, system: str = HEAD) -> list:
    return [SystemMessage(content=system), UserMessage(content=f"Story: {story}", source="u")]


def old_answer(messages: list[dict[str, str]], schema: dict | None, max_tokens: int) -> str:
    """The answer the client gave before: empty context, llama-cpp-python's own completion
    with its full grammar pass (run on the model's worker thread)."""
    from llama_cpp import LlamaGrammar

    runtime = _runtime(TEST_LOCAL_MODEL)

    def job() -> str:
        llama = runtime._ensure_loaded()
        formatted = runtime._formatter(messages=messages)
        tokens = llama.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special,
                                special=True)
        llama.reset()
        grammar = LlamaGrammar.from_string(schema_to_gbnf(schema), verbose=False) if schema else None
        out = llama.create_completion(tokens, max_tokens=max_tokens, temperature=0.0,
                                      repeat_penalty=1.1, seed=1234, grammar=grammar,
                                      stop=["<|im_end|>"])
        runtime._evaluator.forget_live()  # the context no longer holds what it recorded
        return out["choices"][0]["text"]

    return runtime.submit(job).result()


@pytest.fixture(scope="module")
def client():
    return make_local_client(TEST_LOCAL_MODEL)


async def test_reuse_and_lazy_grammar_give_the_answers_of_a_fresh_full_grammar_pass(client) -> None:
    runtime = _runtime(TEST_LOCAL_MODEL)
    await client.load()
    runtime.submit(runtime._evaluator.states.clear).result()
    runtime.submit(runtime._evaluator.forget_live).result()
    new, reused = [], []
    for story in STORIES:  # one head: the second and third reuse its chunks
        result = await client.create(ask(story), extra_create_args=FORMAT)
        new.append(result.content)
        reused.append(client.last_timings.reused_prompt_tokens)
    free = await client.create(ask(STORIES[0]), extra_create_args={"max_tokens": 24})
    assert reused[0] == 0 and min(reused[1:]) >= 2 * PROMPT_CHUNK
    assert all(r % PROMPT_CHUNK == 0 for r in reused)
    for story, answer in zip(STORIES, new, strict=True):
        messages = with_schema_hint([{"role": "system", "content": HEAD},
                                     {"role": "user", "content": f"Story: {story}"}], SCHEMA)
        before = old_answer(messages, SCHEMA, 48)
        assert answer.strip() == before.strip()
        json.loads(answer)
    plain = [{"role": "system", "content": HEAD}, {"role": "user", "content": f"Story: {STORIES[0]}"}]
    assert free.content == old_answer(plain, None, 24)


async def test_saved_heads_serve_calls_that_alternate_between_prompts(client) -> None:
    runtime = _runtime(TEST_LOCAL_MODEL)
    await client.load()
    runtime.submit(runtime._evaluator.states.clear).result()
    other = "You list what people need for a trip. Name things only. " * 8
    first = await client.create(ask(STORIES[1]), extra_create_args=FORMAT)
    await client.create(ask("A weekend by the sea.", system=other), extra_create_args=FORMAT)
    assert len(runtime._evaluator.states) == 2
    again = await client.create(ask(STORIES[1]), extra_create_args=FORMAT)
    # The live context holds the other head: this one came back from a saved state.
    assert client.last_timings.reused_prompt_tokens >= 2 * PROMPT_CHUNK
    assert again.content == first.content


async def test_concurrent_callers_sharing_a_head_are_serialized_and_unchanged(client) -> None:
    runtime = _runtime(TEST_LOCAL_MODEL)
    sequential = [(await client.create(ask(s), extra_create_args=FORMAT)).content for s in STORIES]
    runtime.submit(runtime._evaluator.states.clear).result()
    together = await asyncio.gather(*(client.create(ask(s), extra_create_args=FORMAT)
                                      for s in [*STORIES, *reversed(STORIES)]))
    assert [r.content for r in together] == [*sequential, *reversed(sequential)]


async def test_max_tokens_is_honoured_and_json_stops_at_its_end(client) -> None:
    short = await client.create(ask(STORIES[0]), extra_create_args={"max_tokens": 5})
    assert short.finish_reason == "length" and short.usage.completion_tokens == 5
    cut = await client.create(ask(STORIES[0]), extra_create_args={**FORMAT, "max_tokens": 6})
    assert cut.finish_reason == "length" and cut.usage.completion_tokens == 6
    whole = await client.create(ask(STORIES[2]), extra_create_args={**FORMAT, "max_tokens": 200})
    assert whole.finish_reason == "stop" and whole.content.rstrip().endswith("}")
    json.loads(whole.content)
    assert whole.usage.completion_tokens < 200


def test_prefix_states_keep_the_most_recent_within_their_bytes() -> None:
    states = PrefixStates(max_bytes=250)
    shared_head = np.arange(100, dtype=np.intc)
    heads = [np.concatenate([shared_head, np.full(28, 1000 + i, dtype=np.intc)]) for i in range(4)]
    for head in heads[:2]:
        states.add(head, b"x" * 100)
    found, shared = states.best(list(heads[0]) + [999])
    assert found is not None and shared == 128
    states.touch(found)  # heads[0] is now the most recent
    states.add(heads[2], b"y" * 100)  # over 250 bytes: the least recent (heads[1]) goes
    assert states.bytes == 200 and len(states) == 2
    assert states.best(list(heads[1]))[1] == 100  # its own state is gone: the shared head only
    states.add(heads[3], b"z" * 300)  # larger than the whole budget: not kept
    assert len(states) == 2
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2 and common_prefix([], [1]) == 0
