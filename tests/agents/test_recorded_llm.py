"""RecordedLLM over a real SQLite event log: record before use, reuse, retries, faults; and
the ModelRouter that hands each role of each run the model its request names."""

from __future__ import annotations

import asyncio
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from agents.answers import letter_shares
from agents.models import ModelRouter, eval_role
from agents.recorded_llm import LLMCallFailed, RecordedLLM, RetryPolicy, request_key
from store.events import Envelope, LLMCallRecorded, RunRequested, new_event
from store.sqlite_log import SQLiteEventLog
from tests.agents.log_context import LogContext
from tools.llm.clients import ModelSpec
from tools.llm.scripted import (
    FaultPlan,
    ScriptedAnswer,
    ScriptedChatCompletionClient,
    register_responder,
)
from tools.llm.scripted_server import ScriptedServer

RUN = "run-llm-test"
FAST = RetryPolicy(max_attempts=8, base_delay_s=0.001, max_delay_s=0.005, timeout_s=10)
SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string"}, "n": {"type": "integer", "minimum": 0}},
    "required": ["label", "n"],
    "additionalProperties": False,
}


def echo_label(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
    """Answers with the last user message as the label (so answers differ per request)."""
    text = messages[-1]["content"]
    return json.dumps({"label": text, "n": len(text)}) if schema else f"echo: {text}"


def ask(text: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "You label things."}, {"role": "user", "content": text}]


async def _start(path: Path, **request: Any) -> tuple[SQLiteEventLog, Envelope]:
    log = SQLiteEventLog(path)
    req = new_event(RUN, "cli", RunRequested(requirement="r", size=1, seed=0, **request))
    (stored,) = await log.append([req])
    return log, stored


async def _recorded(log: SQLiteEventLog) -> list[LLMCallRecorded]:
    return [e.payload for e in await log.read(RUN) if isinstance(e.payload, LLMCallRecorded)]


async def test_answer_is_recorded_with_everything_before_use(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db")
    client = ScriptedChatCompletionClient(echo_label, model="scripted:echo")
    llm = RecordedLLM(client, LogContext(log, RUN), "design", "scripted:echo", {"temperature": 0.0},
                      retry=FAST)
    answer = await llm.complete_json("label", ask("cat"), SCHEMA, cause=cause)
    assert answer == {"label": "cat", "n": 3}
    (rec,) = await _recorded(log)
    assert rec.answer == json.dumps(answer) and rec.error is None and rec.attempt == 1
    assert rec.role == "design" and rec.purpose == "label" and rec.model == "scripted:echo"
    assert rec.messages == ask("cat") and rec.params == {"temperature": 0.0}
    assert rec.json_schema == SCHEMA
    assert rec.prompt_tokens > 0 and rec.completion_tokens > 0 and rec.latency_ms >= 0
    assert rec.request_key == request_key("design", "label", "scripted:echo", ask("cat"),
                                          {"temperature": 0.0}, SCHEMA)
    await log.close()


async def test_answer_is_not_used_when_it_cannot_be_recorded(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db")
    client = ScriptedChatCompletionClient(echo_label)
    ctx = LogContext(log, RUN, fail_emit=True)
    llm = RecordedLLM(client, ctx, "design", "scripted:echo", retry=FAST)
    with pytest.raises(OSError, match="disk full"):
        await llm.complete_json("label", ask("cat"), SCHEMA, cause=cause)
    assert client.calls == 1 and ctx.emits == 1  # answered, but not handed to the caller
    await log.close()


async def test_same_request_reuses_the_recorded_answer_even_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    log, cause = await _start(db)
    client = ScriptedChatCompletionClient(echo_label)
    llm = RecordedLLM(client, LogContext(log, RUN), "design", "scripted:echo", retry=FAST)
    first = await llm.complete_json("label", ask("dog"), SCHEMA, cause=cause)
    again = await llm.complete_json("label", ask("dog"), SCHEMA, cause=cause)
    assert again == first and client.calls == 1
    await log.close()

    # A new process: new log handle, new client, new LLM object; nothing re-paid.
    log2 = SQLiteEventLog(db)
    client2 = ScriptedChatCompletionClient(echo_label)
    llm2 = RecordedLLM(client2, LogContext(log2, RUN), "design", "scripted:echo", retry=FAST)
    assert await llm2.complete_json("label", ask("dog"), SCHEMA, cause=cause) == first
    assert client2.calls == 0
    # A different purpose, role or message is a different request.
    await llm2.complete_json("label-v2", ask("dog"), SCHEMA, cause=cause)
    other_role = RecordedLLM(client2, LogContext(log2, RUN), "verifier", "scripted:echo", retry=FAST)
    await other_role.complete_json("label", ask("dog"), SCHEMA, cause=cause)
    assert client2.calls == 2
    assert len(await _recorded(log2)) == 3
    await log2.close()


async def test_identical_concurrent_requests_call_the_model_once(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db")
    client = ScriptedChatCompletionClient(echo_label, latency_s=0.02)
    llm = RecordedLLM(client, LogContext(log, RUN), "grounding", "scripted:echo", retry=FAST)
    answers = await asyncio.gather(
        *[llm.complete_json("label", ask("same"), SCHEMA, cause=cause) for _ in range(5)])
    assert all(a == answers[0] for a in answers)
    assert client.calls == 1 and len(await _recorded(log)) == 1
    await log.close()


async def test_flaky_client_completes_50_requests_with_every_attempt_recorded(
    tmp_path: Path,
) -> None:
    log, cause = await _start(tmp_path / "events.db")
    faults = FaultPlan(rate=0.2, seed=7)
    client = ScriptedChatCompletionClient(echo_label, faults=faults)
    llm = RecordedLLM(client, LogContext(log, RUN), "orchestrator", "scripted:echo", retry=FAST)
    answers = await asyncio.gather(
        *[llm.complete_json("label", ask(f"item {i}"), SCHEMA, cause=cause) for i in range(50)])
    assert [a["label"] for a in answers] == [f"item {i}" for i in range(50)]

    records = await _recorded(log)
    assert len(records) == client.calls  # every attempt, failed or not, is an event
    failed = [r for r in records if r.error is not None]
    assert len(failed) == sum(faults.injected.values()) > 0
    assert set(faults.injected) <= {"timeout", "429", "500", "malformed"}
    assert len(faults.injected) >= 3  # the seed exercises several kinds of fault
    by_key: dict[str, list[LLMCallRecorded]] = {}
    for r in records:
        by_key.setdefault(r.request_key, []).append(r)
    assert len(by_key) == 50
    for attempts in by_key.values():
        assert [a.attempt for a in attempts] == list(range(1, len(attempts) + 1))
        assert [a.error is None for a in attempts] == [False] * (len(attempts) - 1) + [True]
    await log.close()


async def test_malformed_and_schema_invalid_json_are_retried(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db")
    answers = iter(['{"label": "x", "n": ', '{"label": "x", "n": -1}', '```json\n{"label": "x", "n": 1}\n```'])
    client = ScriptedChatCompletionClient(lambda messages, schema: next(answers))
    llm = RecordedLLM(client, LogContext(log, RUN), "design", "scripted:seq", retry=FAST)
    assert await llm.complete_json("label", ask("x"), SCHEMA, cause=cause) == {"label": "x", "n": 1}
    records = await _recorded(log)
    assert [r.attempt for r in records] == [1, 2, 3]
    assert records[0].error.startswith("malformed JSON")
    assert records[1].error.startswith("schema violation at n")
    assert records[0].answer == '{"label": "x", "n": '  # the bad answer is kept for audit
    assert records[2].error is None
    await log.close()


async def test_gives_up_after_max_attempts_with_a_clear_error(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db")
    client = ScriptedChatCompletionClient(echo_label, faults=FaultPlan(rate=1.0, kinds=["500"]))
    retry = RetryPolicy(max_attempts=3, base_delay_s=0.001, max_delay_s=0.002)
    llm = RecordedLLM(client, LogContext(log, RUN), "design", "scripted:echo", retry=retry)
    with pytest.raises(LLMCallFailed, match=r"design/label: scripted:echo gave no usable answer "
                                            r"after 3 attempts; last error: TransientLLMError 500"):
        await llm.complete_json("label", ask("x"), SCHEMA, cause=cause)
    records = await _recorded(log)
    assert [(r.attempt, r.answer) for r in records] == [(1, None), (2, None), (3, None)]
    await log.close()

    # Resumed later with a healthy model: attempts number on, the request succeeds.
    log2 = SQLiteEventLog(tmp_path / "events.db")
    llm2 = RecordedLLM(ScriptedChatCompletionClient(echo_label), LogContext(log2, RUN), "design",
                       "scripted:echo", retry=retry)
    assert await llm2.complete_json("label", ask("x"), SCHEMA, cause=cause) == {"label": "x", "n": 1}
    assert [r.attempt for r in await _recorded(log2)] == [1, 2, 3, 4]
    await log2.close()


async def test_non_transient_error_fails_at_once(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db")

    def broken(messages: Any, schema: Any) -> str:
        raise ValueError("model does not support this request")

    llm = RecordedLLM(ScriptedChatCompletionClient(broken), LogContext(log, RUN), "design",
                      "scripted:broken", retry=FAST)
    with pytest.raises(LLMCallFailed, match="ValueError: model does not support"):
        await llm.complete_json("label", ask("x"), SCHEMA, cause=cause)
    assert len(await _recorded(log)) == 1
    await log.close()


async def test_timeout_per_attempt_is_recorded_and_retried(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db")
    calls = Counter[str]()

    class SlowOnce(ScriptedChatCompletionClient):
        async def create(self, messages: Any, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] == 1:
                await asyncio.sleep(5)
            return await super().create(messages, **kwargs)

    retry = RetryPolicy(max_attempts=3, base_delay_s=0.001, timeout_s=0.1)
    llm = RecordedLLM(SlowOnce(echo_label), LogContext(log, RUN), "design", "scripted:echo",
                      retry=retry)
    assert await llm.complete_text("say", ask("hi"), cause=cause) == "echo: hi"
    records = await _recorded(log)
    assert records[0].error.startswith("TimeoutError") and records[1].answer == "echo: hi"
    assert records[1].json_schema is None
    await log.close()


async def test_router_gives_each_role_the_model_its_run_names(tmp_path: Path) -> None:
    register_responder("test-echo", echo_label)
    made: list[str] = []

    def maker(spec: ModelSpec, key_env: str, timeout: float) -> ScriptedChatCompletionClient:
        made.append(spec.identity)
        return ScriptedChatCompletionClient(echo_label if spec.name == "test-echo" else
                                            (lambda m, s: json.dumps({"label": "s", "n": 0})))

    router = ModelRouter(retry=FAST, client_maker=maker)
    log, cause = await _start(tmp_path / "events.db", llm="scripted:test-echo",
                              role_models={"verifier": "scripted:schema"})
    ctx = LogContext(log, RUN)
    design, verifier = router.llm("design", ctx), router.llm("verifier", ctx)
    evaluated = router.llm(eval_role("scripted:other"), ctx)
    assert (await design.complete_json("label", ask("a"), SCHEMA, cause=cause))["label"] == "a"
    assert (await verifier.complete_json("label", ask("a"), SCHEMA, cause=cause))["label"] == "s"
    assert (await evaluated.complete_json("label", ask("a"), SCHEMA, cause=cause))["label"] == "s"
    assert (await router.llm("grounding", ctx).complete_text("say", ask("b"), cause=cause)
            ) == "echo: b"
    # One client per model spec, whatever the number of roles on it.
    assert sorted(made) == ["scripted:other", "scripted:schema", "scripted:test-echo"]
    calls = {(r.role, r.model) for r in await _recorded(log)}
    assert calls == {("design", "scripted:test-echo"), ("verifier", "scripted:schema"),
                     ("eval:scripted:other", "scripted:other"),
                     ("grounding", "scripted:test-echo")}
    await router.close()
    await log.close()


async def test_router_answers_from_the_runs_log_in_a_new_process(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db", llm="scripted:echo-again")
    register_responder("echo-again", echo_label)
    first = ModelRouter(retry=FAST)
    answer = await first.llm("design", LogContext(log, RUN)).complete_json(
        "label", ask("x"), SCHEMA, cause=cause)
    await first.close()

    def no_model(spec: ModelSpec, key_env: str, timeout: float) -> ScriptedChatCompletionClient:
        def refuse(messages: Any, schema: Any) -> str:
            raise AssertionError("the recorded answer must be reused")
        return ScriptedChatCompletionClient(refuse)

    again = ModelRouter(retry=FAST, client_maker=no_model)
    assert await again.llm("design", LogContext(log, RUN)).complete_json(
        "label", ask("x"), SCHEMA, cause=cause) == answer
    assert len(await _recorded(log)) == 1
    await log.close()


async def test_a_bad_model_spec_in_the_run_is_a_clear_error(tmp_path: Path) -> None:
    log, cause = await _start(tmp_path / "events.db", llm="gpt-4o")
    with pytest.raises(ValueError, match="expected openai:MODEL"):
        await ModelRouter(retry=FAST).llm("design", LogContext(log, RUN)).complete_text(
            "say", ask("x"), cause=cause)
    await log.close()


def test_request_keys_never_change() -> None:
    """Recorded answers are found by request key: a key that changed would re-pay every
    recorded call of every existing run."""
    key = request_key("design", "label", "scripted:echo", ask("cat"), {"temperature": 0.0},
                      SCHEMA)
    assert key == "ace27f61b9cf0e061053b85ed8937184384a320518816546c7ab021859fac69e"


async def test_over_http_a_server_failing_20_percent_never_loses_a_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-test-SECRET-never-in-the-log"
    monkeypatch.setenv("BENCH_TEST_KEY", secret)
    with ScriptedServer(echo_label, failure_rate=0.2, seed=3) as server:
        # The run names the model and the key's variable, never the key.
        log, cause = await _start(tmp_path / "events.db",
                                  llm=f"openai:bench-model@{server.base_url}",
                                  llm_key_env="BENCH_TEST_KEY")
        router = ModelRouter(retry=FAST, max_concurrency=8)
        llm = router.llm("evaluator", LogContext(log, RUN))
        answers = await asyncio.gather(*[
            llm.complete_json("label", ask(f"q{i}"), SCHEMA, cause=cause) for i in range(30)])
        await router.close()
    assert [a["label"] for a in answers] == [f"q{i}" for i in range(30)]
    records = await _recorded(log)
    assert len(records) == server.calls
    assert server.outcomes["ok"] == 30 and sum(server.outcomes.values()) == server.calls
    errors = Counter(r.error.split(":")[0] for r in records if r.error)
    assert errors["RateLimitError 429"] == server.outcomes["429"]
    assert errors["InternalServerError 500"] == server.outcomes["500"]
    assert errors["malformed JSON"] == server.outcomes["malformed"]
    assert records[0].model == f"openai:bench-model@{server.base_url}"
    assert secret.encode() not in (tmp_path / "events.db").read_bytes()
    await log.close()


async def test_router_caps_concurrent_model_calls(tmp_path: Path) -> None:
    in_flight = Counter[str]()

    class Tracking(ScriptedChatCompletionClient):
        async def create(self, messages: Any, **kwargs: Any) -> Any:
            in_flight["now"] += 1
            in_flight["max"] = max(in_flight["max"], in_flight["now"])
            try:
                await asyncio.sleep(0.01)
                return await super().create(messages, **kwargs)
            finally:
                in_flight["now"] -= 1

    router = ModelRouter(retry=FAST, max_concurrency=3,
                         client_maker=lambda spec, env, timeout: Tracking(echo_label))
    log, cause = await _start(tmp_path / "events.db", llm="scripted:any")
    llm = router.llm("orchestrator", LogContext(log, RUN))
    await asyncio.gather(*[llm.complete_text("say", ask(f"{i}"), cause=cause) for i in range(12)])
    assert in_flight["max"] == 3
    await log.close()


async def test_an_embedded_model_queues_calls_before_their_timer_starts(tmp_path: Path) -> None:
    """The embedded model serves one request at a time; waiting for it is not its latency."""
    busy = asyncio.Lock()

    class OneAtATime(ScriptedChatCompletionClient):
        async def create(self, messages: Any, **kwargs: Any) -> Any:
            async with busy:  # like llama.cpp behind its own lock
                await asyncio.sleep(0.2)
                return await super().create(messages, **kwargs)

    patient = RetryPolicy(max_attempts=1, timeout_s=0.5)  # 6 calls × 0.2 s queue past 0.5 s
    router = ModelRouter(retry=patient, max_concurrency=8,
                         client_maker=lambda spec, env, timeout: OneAtATime(echo_label))
    log, cause = await _start(tmp_path / "events.db", llm="local:qwen2.5-coder-0.5b")
    llm = router.llm("orchestrator", LogContext(log, RUN))
    answers = await asyncio.gather(*[llm.complete_text("say", ask(f"{i}"), cause=cause)
                                     for i in range(6)])
    assert answers == [f"echo: {i}" for i in range(6)]
    records = await _recorded(log)
    assert len(records) == 6 and all(r.error is None for r in records)
    assert max(r.latency_ms for r in records) < 500  # each timed from its own turn
    await log.close()


def hesitant_letter(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> Any:
    """Answers B, giving it 0.7 of the probability, A 0.2 and a non-letter token the rest."""
    return ScriptedAnswer("B", {"B": math.log(0.7), "A": math.log(0.2), "Hmm": math.log(0.1)})


async def test_a_choice_is_recorded_with_its_first_tokens_alternatives(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    log, cause = await _start(db)
    client = ScriptedChatCompletionClient(hesitant_letter)
    llm = RecordedLLM(client, LogContext(log, RUN), "verifier", "scripted:h", retry=FAST)
    choice = await llm.complete_choice("solve", ask("Pick one.\nA. x\nB. y"), cause=cause)
    assert choice.text == "B" and choice.first_token_logprobs is not None
    assert letter_shares(choice.first_token_logprobs, 2) == pytest.approx(
        {"A": 0.2 / 0.9, "B": 0.7 / 0.9}, abs=1e-3)  # recorded to 4 decimals
    (rec,) = await _recorded(log)
    assert rec.params["logprobs"] is True and rec.first_token_logprobs == choice.first_token_logprobs
    # Plain text asks for none: a separate request, and no alternatives recorded.
    assert await llm.complete_text("solve", ask("Pick one.\nA. x\nB. y"), cause=cause) == "B"
    assert (await _recorded(log))[1].first_token_logprobs is None
    await log.close()
    # A new process gets the choice and its alternatives from the log, paying nothing.
    log2 = SQLiteEventLog(db)
    client2 = ScriptedChatCompletionClient(hesitant_letter)
    llm2 = RecordedLLM(client2, LogContext(log2, RUN), "verifier", "scripted:h", retry=FAST)
    assert await llm2.complete_choice("solve", ask("Pick one.\nA. x\nB. y"),
                                      cause=cause) == choice
    assert client2.calls == 0
    await log2.close()


async def test_over_http_a_choice_carries_the_servers_log_probabilities(tmp_path: Path) -> None:
    with ScriptedServer(hesitant_letter) as server:
        log, cause = await _start(tmp_path / "events.db", llm=f"openai:m@{server.base_url}")
        router = ModelRouter(retry=FAST)
        llm = router.llm("verifier", LogContext(log, RUN))
        choice = await llm.complete_choice("solve", ask("Pick one.\nA. x\nB. y"), cause=cause)
        # Through the openai library and AutoGen's OpenAI client, as from a real server.
        plain = await llm.complete_text("solve", ask("Pick one.\nA. x\nB. y"), cause=cause)
        await router.close()
    assert choice.text == plain == "B"
    assert choice.first_token_logprobs == pytest.approx(
        {"B": math.log(0.7), "A": math.log(0.2), "Hmm": math.log(0.1)}, abs=1e-4)
    await log.close()
