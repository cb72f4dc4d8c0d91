"""Model-based metrics in the Evaluator (BenchAgents' E-Agent): open-ended answers scored by a
judge against the item's rubric, over real HTTP and a real SQLite log; exact match stays for
short answers and generators keep their own scorers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli, types_of

from agents.answer_judging import judge_open_answer, rubric_for
from agents.prompts import rubric
from agents.recorded_llm import RecordedLLM, RetryPolicy
from agents.scoring import score_answer
from benchagent.cli import main
from store.events import (
    BenchmarkItem,
    GeneratedBy,
    LLMCallRecorded,
    ModelAnswered,
    RunRequested,
    SourceLabel,
    new_event,
)
from store.sqlite_log import SQLiteEventLog
from tests.agents import scripted_brain
from tests.agents.build_helpers import register_brains
from tests.agents.log_context import LogContext
from tools.generators.registry import get_generator
from tools.llm.clients import make_client
from tools.llm.scripted import register_responder
from tools.llm.scripted_server import ScriptedServer

FAST = RetryPolicy(max_attempts=2, base_delay_s=0.001, max_delay_s=0.002, timeout_s=20)
SOURCE = SourceLabel(dataset_id="d", item_id="1", field_path="answer")


class WritingBrain(scripted_brain.ScriptedBrain):
    """Designs two constrained-writing subtasks (BA-Text is the generator that fits them)."""

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"reason": "two kinds of constrained writing", "subtasks": [
            {"name": "Constrained long-form writing", "answer_format": "free_text",
             "capability": "constraint following in long-form text generation",
             "description": "Write a long text (recipe, lesson plan, essay) that follows "
                            "positive, negative, positional and sequencing constraints.",
             "distinct_focus": "where things go and in what order"},
            {"name": "Rule-bound technical reports", "answer_format": "free_text",
             "capability": "rule obedience in technical documents",
             "description": "Draft a technical report or scientific article that obeys "
                            "conditional and iterative rules.",
             "distinct_focus": "rules that depend on conditions or repeat"}]}

    def answer(self, messages: list[dict[str, Any]]) -> str:
        return "## Introduction\n- a first point\n## Conclusion\nThat is all."


def test_ba_text_answers_are_scored_with_the_judge_on_their_judge_only_constraints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    register_brains()
    register_responder("writing-brain", WritingBrain())
    home, pool = tmp_path / "home", tmp_path / "empty-pool"
    (pool / "dataset_cards").mkdir(parents=True)
    assert main(["build", "I want to evaluate constrained long-form text generation",
                 "--size", "4", "--seed", "3", "--llm", "scripted:writing-brain",
                 "--pool", str(pool), "--home", str(home), "--run-id", "w", "--json"]) == 0
    capsys.readouterr()
    with ScriptedServer(WritingBrain()) as server:
        spec = f"openai:judge@{server.base_url}"
        argv = ["eval", "w", "--model", "scripted:writing-brain", "--judge", spec,
                "--home", str(home), "--json"]
        code, out, err = cli(capsys, *argv)
        assert code == 0, err
        answers = [e.payload for e in types_of(home, "w", "ModelAnswered")]
        judged = [a for a in answers if a.judged is not None]
        assert judged and server.calls == len(judged)  # one rubric call per open answer
        for a in judged:
            needed = [c["id"] for c in a.detail["judge_needed"]]
            assert [v.criterion for v in a.judged.verdicts] == needed
            assert all(v.reason and v.text for v in a.judged.verdicts)
            assert a.judged.judge == spec and a.scorer == "generator:ba_text+judge"
            checked = [c for c in a.detail["constraints"].values()
                       if c["check"] == "programmatic"]
            passed = sum(c["passed"] for c in checked) + sum(v.satisfied
                                                             for v in a.judged.verdicts)
            assert a.score == pytest.approx(passed / (len(checked) + len(needed)))
            assert a.judged.score == a.score
        others = [a for a in answers if a.judged is None]
        assert all(not a.detail.get("judge_needed") for a in others)
        rubric_calls = [e.payload for e in types_of(home, "w", "LLMCallRecorded")
                        if e.payload.purpose == "evaluator.rubric"]
        assert len(rubric_calls) == len(judged)
        assert all(c.role == f"judge:{spec}" for c in rubric_calls)
        # The reason comes before the verdict, criterion by criterion (the log stores the
        # schema with sorted keys; the request sends it in this order).
        ids = [v.criterion for v in judged[0].judged.verdicts]
        assert list(rubric.schema([rubric.Criterion(id=i, text="t") for i in ids])
                    ["properties"]) == [k for i in ids for k in (f"{i}_reason", i)]
        assert [k for i in ids for k in (f"{i}_reason", i)] in [
            c.json_schema["required"] for c in rubric_calls]
        doc = json.loads(out)
        # Evaluating again reuses every answer: the judge is not called again.
        code, out2, err = cli(capsys, *argv)
        assert code == 0 and server.calls == len(judged)
        assert json.loads(out2)["evaluations"] == doc["evaluations"]


def _rubric_judge(seen: list[str]) -> Any:
    def respond(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
        body = messages[-1]["content"]
        seen.append(body)
        agrees = "Paris" in body.split("The model's response:", 1)[1].split(">>>", 1)[0]
        return json.dumps({"correct_reason": "same city" if agrees else "another city",
                           "correct": agrees})

    return respond


async def test_free_text_and_long_answers_go_to_the_judge_short_and_choice_answers_do_not(
    tmp_path: Path,
) -> None:
    log = SQLiteEventLog(tmp_path / "events.db")
    (cause,) = await log.append([new_event("r", "cli", RunRequested(
        requirement="r", size=1, seed=0), None)])
    seen: list[str] = []
    free = BenchmarkItem(id="f", subtask="s", input="Where is the Louvre?",
                         target="In Paris, on the right bank of the Seine",
                         metadata={"answer_format": "free_text"})
    long_form = BenchmarkItem(id="l", subtask="s", input="Describe where the Louvre stands.",
                              target="It stands in the centre of Paris on the right bank "
                                     "of the river Seine")
    short = BenchmarkItem(id="s", subtask="s", input="Capital of France?", target="Paris")
    choice = BenchmarkItem(id="c", subtask="s", input="Capital?", choices=["Paris", "Rome"],
                           target="A")
    with ScriptedServer(_rubric_judge(seen)) as server:
        spec = f"openai:judge@{server.base_url}"
        client = make_client(spec, "NO_KEY")
        llm = RecordedLLM(client, LogContext(log, "r", "evaluator"), "judge", spec, retry=FAST)
        ctx = LogContext(log, "r", "evaluator", llm)

        async def judged(item: BenchmarkItem, answer: str) -> ModelAnswered:
            score, scorer, detail = score_answer(item, answer, SOURCE)
            answered = ModelAnswered(model="m", sample_id=item.id, answer=answer, score=score,
                                     scorer=scorer, detail=detail)
            return await judge_open_answer(ctx, spec, item, answered, cause=cause)

        right = await judged(free, "The Louvre is in Paris.")
        wrong = await judged(free, "It is in Rome.")
        exact = await judged(free, "In Paris, on the right bank of the Seine")
        long_ok = await judged(long_form, "Central Paris, right bank.")
        short_miss = await judged(short, "Lyon")
        picked = await judged(choice, "B")
        assert server.calls == 3  # exact match, a short answer and a choice need no judge
        await client.close()
    assert (right.score, right.scorer, right.judged.verdicts[0].satisfied) == (
        1.0, "exact_match+judge", True)
    assert right.judged.verdicts[0].reason == "same city"
    assert (wrong.score, wrong.judged.verdicts[0].satisfied) == (0.0, False)
    assert (exact.score, exact.scorer, exact.judged) == (1.0, "exact_match", None)
    assert long_ok.score == 1.0 and long_ok.judged is not None
    assert (short_miss.score, short_miss.scorer, short_miss.judged) == (0.0, "exact_match", None)
    assert (picked.scorer, picked.judged) == ("choice_match", None)
    assert "reference_answer" in seen[0] and "In Paris, on the right bank" in seen[0]
    records = [e.payload for e in await log.read("r") if isinstance(e.payload, LLMCallRecorded)]
    assert [r.purpose for r in records] == ["evaluator.rubric"] * 3
    await log.close()


async def test_a_judge_that_fails_leaves_the_programmatic_score_and_says_why(
    tmp_path: Path,
) -> None:
    log = SQLiteEventLog(tmp_path / "events.db")
    (cause,) = await log.append([new_event("r", "cli", RunRequested(
        requirement="r", size=1, seed=0), None)])

    def broken(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
        return "not json"

    gen = get_generator("ba_text")
    seed, instance = next(  # an instance with a constraint only a judge can check
        (s, i) for s in range(100)
        if (i := gen.sample(s, {"checks": "mixed", "positive": 2, "negative": 2}))
        and gen.score(i, str(i.answer)).detail["judge_needed"])
    source = GeneratedBy(name="ba_text", version=gen.version, seed=seed, params=instance.params)
    item = BenchmarkItem(id="g", subtask="s", input="write", target=str(instance.answer),
                         metadata={"generator": "ba_text"})
    with ScriptedServer(broken) as server:
        spec = f"openai:judge@{server.base_url}"
        client = make_client(spec, "NO_KEY")
        llm = RecordedLLM(client, LogContext(log, "r", "evaluator"), "judge", spec, retry=FAST)
        score, scorer, detail = score_answer(item, str(instance.answer), source)
        answered = ModelAnswered(model="m", sample_id="g", answer=str(instance.answer),
                                 score=score, scorer=scorer, detail=detail)
        criteria, reference = rubric_for(item, answered)
        result = await judge_open_answer(LogContext(log, "r", "evaluator", llm), spec, item,
                                         answered, cause=cause)
        await client.close()
    assert criteria and reference is None and server.calls == FAST.max_attempts
    assert result.judged is None and result.score == score and result.scorer == scorer
    assert "malformed JSON" in result.detail["judge_error"]
    await log.close()
