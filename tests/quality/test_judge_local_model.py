"""The judge end to end on the real embedded model (local:qwen2.5-coder-0.5b)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from agents.judging import judge_benchmark, judge_item
from agents.recorded_llm import RecordedLLM
from store.events import BenchmarkItem, LLMCallRecorded, RunRequested, Subtask, new_event
from store.quality import ITEM_METRICS
from store.sqlite_log import SQLiteEventLog
from tools.llm.clients import make_client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "agents"))
from log_context import LogContext  # noqa: E402

MODEL = "local:qwen2.5-coder-0.5b"
RUN = "run-judge-local"
SUBTASK = Subtask(name="Cause identification", description="name the cause of an event",
                  capability="causal reasoning", answer_format="multiple_choice")
ITEM = BenchmarkItem(
    id="cause-1", subtask=SUBTASK.name,
    input="The ground was wet in the morning although it had not rained. What is the most "
          "likely cause?",
    choices=["A sprinkler ran overnight", "The sun was shining", "It snowed in July"],
    target="A")


def _model_ready() -> str | None:
    try:
        import llama_cpp  # noqa: F401

        from tools.llm.weights import model_path

        model_path(MODEL.split(":", 1)[1])
    except Exception as exc:  # not installed here: `make test` installs both
        return f"{MODEL} unavailable: {exc}"
    return None


@pytest.mark.slow
@pytest.mark.timeout(1800)
async def test_the_local_model_judges_an_item_and_the_benchmark(tmp_path: Path) -> None:
    reason = _model_ready()
    if reason:
        pytest.skip(reason)
    log = SQLiteEventLog(tmp_path / "events.db")
    (cause,) = await log.append([new_event(RUN, "cli", RunRequested(
        requirement="Evaluate whether a model can identify the causes of everyday events.",
        size=1, seed=0))])
    client = make_client(MODEL)
    llm = RecordedLLM(client, LogContext(log, RUN, "judge"), "judge", MODEL)
    requirement = "Evaluate whether a model can identify the causes of everyday events."
    item = await judge_item(llm, requirement, SUBTASK, "s1", ITEM, judge=MODEL, vision=False,
                            media_dir=tmp_path, cause=cause)
    bench = await judge_benchmark(llm, requirement, [SUBTASK], {"s1": ITEM}, judge=MODEL,
                                  cause=cause)
    await client.close()
    for m in ITEM_METRICS:  # the grammar held: every score 1-5 and a reason for each
        assert 1 <= item.scores.get(m).score <= 5 and item.scores.get(m).reason
    assert 1 <= bench.uia.score <= 5 and bench.uia.reason and item.unseen_media == []
    records = [e.payload for e in await log.read(RUN) if isinstance(e.payload, LLMCallRecorded)]
    assert {r.purpose for r in records if r.error is None} == {"judge.item", "judge.benchmark"}
    await log.close()
