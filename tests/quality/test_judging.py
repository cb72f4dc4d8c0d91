"""The judge protocol: schema order, prompts as the evaluated model sees the item, and judging
through the recorded LLM over a real HTTP server and a real SQLite log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from agents.judging import (
    JudgeAnswerError,
    example_items,
    judge_benchmark,
    judge_item,
    parse_item_answer,
)
from agents.prompts import judge as prompts
from agents.recorded_llm import RecordedLLM, RetryPolicy, answer_problem, to_llm_messages
from store.events import BenchmarkItem, Envelope, LLMCallRecorded, RunRequested, Subtask, new_event
from store.quality import ITEM_METRICS
from store.sqlite_log import SQLiteEventLog
from tools.llm.clients import make_client
from tools.llm.scripted_server import ScriptedServer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "agents"))
from log_context import LogContext  # noqa: E402

RUN = "run-judge"
FAST = RetryPolicy(max_attempts=3, base_delay_s=0.001, max_delay_s=0.005, timeout_s=20)
SUBTASK = Subtask(name="Chart reading", description="read values off a bar chart",
                  capability="visual quantitative reasoning", answer_format="multiple_choice")
IMAGE = "media/3f2a.png"
AUDIO = "media/77aa.wav"
ITEM = BenchmarkItem(id="chart-1", subtask="Chart reading",
                     input="Which bar is tallest in the chart?", choices=["red", "blue", "green"],
                     target="B", media=[IMAGE, AUDIO])


def _png(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), (200, 30, 30)).save(path)


def test_each_reason_comes_before_its_score_in_schema_order() -> None:
    keys = list(prompts.ITEM_SCHEMA["properties"])
    assert keys == [k for m in ITEM_METRICS for k in (f"{m}_reason", m)]
    assert list(prompts.BENCHMARK_SCHEMA["properties"]) == ["uia_reason", "uia"]
    assert prompts.ITEM_SCHEMA["required"] == keys
    for m in ITEM_METRICS:
        assert prompts.ITEM_SCHEMA["properties"][m] == {"type": "integer", "minimum": 1,
                                                        "maximum": 5}
        assert prompts.ITEM_SCHEMA["properties"][f"{m}_reason"]["maxLength"] <= 200


def test_the_schema_accepts_scores_1_to_5_and_nothing_else() -> None:
    good = {k: ("ok" if k.endswith("_reason") else 3) for k in prompts.ITEM_SCHEMA["properties"]}
    assert answer_problem(json.dumps(good), prompts.ITEM_SCHEMA) is None
    for bad in (0, 6, "3"):
        assert answer_problem(json.dumps({**good, "tsd": bad}), prompts.ITEM_SCHEMA)
    scores = parse_item_answer({**good, "ssc": 5, "ssc_reason": " deep "})
    assert scores.ssc.score == 5 and scores.ssc.reason == "deep"
    with pytest.raises(JudgeAnswerError, match="qac"):
        parse_item_answer({**good, "qac": 9})


def test_the_item_schema_compiles_to_a_small_local_grammar() -> None:
    local_grammar = pytest.importorskip("tools.llm.local_grammar")
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    gbnf = local_grammar.schema_to_gbnf(prompts.ITEM_SCHEMA)
    llama_grammar.LlamaGrammar.from_string(gbnf, verbose=False)  # llama.cpp parses it
    assert len(gbnf) < 4000, len(gbnf)


def test_rubric_has_anchors_1_3_5_for_every_metric_and_the_attribution_principles() -> None:
    text = prompts.rubric(("uia", *ITEM_METRICS))
    for m in ("uia", *ITEM_METRICS):
        assert f"{m.upper()} ({prompts.NAMES[m]})" in text
        for k in (1, 3, 5):
            assert f"  {k} = {prompts.ANCHORS[m][k]}" in text
    p = prompts.PRINCIPLES
    assert "FSQ" in p and "QAC" in p and "CQC, not QAC" in p
    assert "lowers CQC and never raises SSC" in p


def test_a_text_only_judge_is_told_which_media_it_cannot_see(tmp_path: Path) -> None:
    prompt = prompts.item_prompt("Test chart reading.", SUBTASK, ITEM, vision=False,
                                 media_dir=tmp_path)
    assert prompt.unseen_media == [IMAGE, AUDIO]
    user = prompt.messages[-1]["content"]
    assert isinstance(user, str)  # no image parts
    # The item as the Evaluator shows it: question, attached-media lines, lettered options.
    assert "Which bar is tallest in the chart?" in user
    assert f"[attached media: {IMAGE}]" in user and "B. blue" in user
    assert '"labelled_answer": "B. blue"' in user
    assert '"media_you_cannot_see"' in user and "do not guess" in user


def test_a_vision_judge_gets_images_as_content_parts_but_not_audio(tmp_path: Path) -> None:
    _png(tmp_path / IMAGE)
    prompt = prompts.item_prompt("Test chart reading.", SUBTASK, ITEM, vision=True,
                                 media_dir=tmp_path)
    assert prompt.unseen_media == [AUDIO]
    parts = prompt.messages[-1]["content"]
    assert parts[0]["type"] == "text" and AUDIO in parts[0]["text"]
    assert parts[1:] == [{"type": "image", "path": str(tmp_path / IMAGE)}]
    converted = to_llm_messages(prompt.messages)  # the recorded LLM's own conversion
    image = converted[-1].content[1]
    assert (image.image.width, image.image.height) == (8, 6)


def test_the_uia_examples_cover_every_subtask_before_repeating_one() -> None:
    items = {f"{s}-{i}": BenchmarkItem(id=f"{s}-{i}", subtask=s, input="q", target="a")
             for s in ("a", "b", "c") for i in range(4)}
    assert example_items(items, 5) == ["a-0", "b-0", "c-0", "a-1", "b-1"]
    assert example_items(items, 50) == sorted(items, key=lambda k: (k[2], k[0]))


def _judge_responder(seen: list[dict[str, Any]]) -> Any:
    """Scores that depend on what the request carries: the test can tell an answer was used."""

    def respond(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
        seen.append({"messages": messages, "schema": schema})
        user = messages[-1]["content"]
        if schema and schema.get("title") == prompts.BENCHMARK:
            return json.dumps({"uia_reason": "covers the requirement", "uia": 4})
        has_image = isinstance(user, list) and any(p.get("type") == "image_url" for p in user)
        answer: dict[str, Any] = {}
        for m in ITEM_METRICS:
            answer[f"{m}_reason"] = f"{m}: image seen" if has_image else f"{m}: text only"
            answer[m] = 5 if has_image else 2
        return json.dumps(answer)

    return respond


async def _start(path: Path) -> tuple[SQLiteEventLog, Envelope]:
    log = SQLiteEventLog(path)
    (cause,) = await log.append([new_event(RUN, "cli", RunRequested(requirement="r", size=1,
                                                                      seed=0))])
    return log, cause


async def test_judging_over_http_records_every_call_and_judging_again_reuses_them(
    tmp_path: Path,
) -> None:
    _png(tmp_path / IMAGE)
    log, cause = await _start(tmp_path / "events.db")
    seen: list[dict[str, Any]] = []
    with ScriptedServer(_judge_responder(seen)) as server:
        spec = f"openai:judge-model@{server.base_url}"
        client = make_client(spec, "NO_KEY_NEEDED")
        llm = RecordedLLM(client, LogContext(log, RUN, "judge"), "judge", spec, retry=FAST)
        item_vision = await judge_item(llm, "Test chart reading.", SUBTASK, "s1", ITEM,
                                       judge="openai:judge-model", vision=True,
                                       media_dir=tmp_path, cause=cause)
        item_text = await judge_item(llm, "Test chart reading.", SUBTASK, "s1", ITEM,
                                     judge="openai:judge-model", vision=False,
                                     media_dir=tmp_path, cause=cause)
        bench = await judge_benchmark(llm, "Test chart reading.", [SUBTASK], {"s1": ITEM},
                                      judge="openai:judge-model", cause=cause)
        calls = server.calls
        again = await judge_item(llm, "Test chart reading.", SUBTASK, "s1", ITEM,
                                 judge="openai:judge-model", vision=True, media_dir=tmp_path,
                                 cause=cause)
        assert server.calls == calls == 3  # the recorded answer was reused: no new call
        await client.close()
    # The image reached the model as an image part (a data: URL on the wire).
    first_user = seen[0]["messages"][-1]["content"]
    assert [p["type"] for p in first_user] == ["text", "image_url"]
    assert first_user[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert item_vision.scores.cqc.score == 5 and item_vision.unseen_media == [AUDIO]
    assert item_text.scores.cqc.score == 2 and item_text.unseen_media == [IMAGE, AUDIO]
    assert item_text.scores.fsq.reason == "fsq: text only"
    assert again == item_vision
    assert bench.uia.score == 4 and bench.items_shown == ["s1"]
    records = [e.payload for e in await log.read(RUN) if isinstance(e.payload, LLMCallRecorded)]
    assert sorted(r.purpose for r in records) == [prompts.BENCHMARK, prompts.ITEM, prompts.ITEM]
    assert all(r.role == "judge" and r.error is None for r in records)
    await log.close()
