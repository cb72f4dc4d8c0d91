"""`benchagent eval --expect-order`: accuracy with bootstrap intervals per subtask and overall,
Kendall's τ, adjacent separability, and the small-n warning instead of false precision. The
three models are real HTTP servers answering from a script."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli, cli_json, types_of

from tools.llm.scripted_server import ScriptedServer

RUN = "text"


def _answers(home: Path) -> dict[str, str]:
    """Each item's text as the model sees it (its first line) → its labelled letter."""
    lines = (home / "runs" / RUN / "benchmark.jsonl").read_text().splitlines()
    return {json.loads(line)["input"]: json.loads(line)["target"] for line in lines}


def _family(home: Path) -> dict[str, set[str]]:
    """Three models of increasing ability: which items each one answers right."""
    answers = _answers(home)
    inputs = sorted(answers)
    return {"weak": set(inputs[:1]), "mid": set(inputs[: len(inputs) // 2]),
            "strong": set(inputs)}


def _responder(knows: set[str], answers: dict[str, str]) -> Any:
    def respond(messages: list[dict[str, Any]], schema: dict[str, Any] | None) -> str:
        text = messages[-1]["content"]
        item = next((i for i in answers if text.startswith(i)), None)
        if item in knows:
            return answers[item]
        right = answers.get(item or "", "A")
        return next(x for x in "ABCD" if x != right)  # a wrong letter

    return respond


def test_accuracy_intervals_order_and_separability(text_home: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    answers = _answers(text_home)
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(ScriptedServer(_responder(knows, answers)))
                   for name, knows in _family(text_home).items()}
        models = [f"openai:{name}@{servers[name].base_url}" for name in ("weak", "mid", "strong")]
        doc = cli_json(capsys, "eval", RUN, *[a for m in models for a in ("--model", m)],
                       "--expect-order", "<".join(models), "--home", str(text_home))
        assert all(s.calls == len(answers) for s in servers.values())
        code, out, err = cli(capsys, "eval", RUN, *[a for m in models for a in ("--model", m)],
                             "--expect-order", "<".join(models), "--home", str(text_home))
        assert all(s.calls == len(answers) for s in servers.values())  # answers reused
    n = len(answers)
    overall = {a["model"]: a["accuracy"] for a in doc["accuracy"] if a["scope"] == "all"}
    assert overall[models[0]]["estimate"] == pytest.approx(1 / n)
    assert overall[models[1]]["estimate"] == pytest.approx((n // 2) / n)
    assert overall[models[2]]["estimate"] == 1.0
    for iv in overall.values():
        assert iv["n"] == n and iv["low"] <= iv["estimate"] <= iv["high"]
        assert iv["warning"].startswith(f"only {n} items")  # no false precision
    subtasks = {a["scope"] for a in doc["accuracy"]} - {"all"}
    assert len(subtasks) >= 2
    assert sum(a["accuracy"]["n"] for a in doc["accuracy"]
               if a["model"] == models[0] and a["scope"] != "all") == n
    (consistency,) = [c for c in doc["consistency"] if c["scope"] == "all"]
    assert consistency["order"]["observed"] == models and consistency["order"]["tau"] == 1.0
    assert "no order can be" in consistency["order"]["warning"]  # three models: p ≥ 1/6
    low, high = consistency["separations"]
    assert (low["lower"], low["higher"]) == (models[0], models[1])
    assert high["direction"] == "as_expected" and high["low"] > 0  # mid misses half
    assert high["difference"] == pytest.approx(1 - (n // 2) / n)
    (request,) = [e.payload for e in types_of(text_home, RUN, "EvaluationRequested")
                  if e.payload.expected_order]
    assert request.expected_order == models

    assert code == 0, err
    assert "accuracy (%) with bootstrap 95% intervals" in out
    assert f"⚠ only {n} items: the interval is not reliable below 30" in out
    assert "Kendall τ +1.00" in out and "separable, as expected" in out


@pytest.mark.parametrize("order, message", [
    ("scripted:brain", "at least two models"),
    ("scripted:brain<scripted:brain", "appears twice"),
    ("scripted:brain<scripted:other", "scripted:other is not one of the --model specs"),
])
def test_a_bad_expected_order_is_one_line(text_home: Path, capsys: pytest.CaptureFixture[str],
                                          order: str, message: str) -> None:
    before = len(types_of(text_home, RUN, "EvaluationRequested"))
    code, out, err = cli(capsys, "eval", RUN, "--model", "scripted:brain", "--model",
                         "scripted:schema", "--expect-order", order, "--home", str(text_home))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert len(types_of(text_home, RUN, "EvaluationRequested")) == before


@pytest.mark.parametrize("judge, message", [
    ("gpt4", "--judge: unknown model spec 'gpt4'"),
    ("openai:gpt-4o", "--judge: openai:gpt-4o needs an API key"),
])
def test_a_judge_that_cannot_be_served_is_refused_before_anything_is_asked(
    text_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    judge: str, message: str,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    before = len(types_of(text_home, RUN, "EvaluationRequested"))
    code, out, err = cli(capsys, "eval", RUN, "--model", "scripted:brain", "--judge", judge,
                         "--home", str(text_home))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert len(types_of(text_home, RUN, "EvaluationRequested")) == before
