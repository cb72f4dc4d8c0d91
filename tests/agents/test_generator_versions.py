"""A generated item is re-created only by the generator version that made it: the Verifier
fails its check with the reason, the scorer refuses with a recorded reason (no crash)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from agents.evaluator import EvaluatorAgent
from agents.orchestrator.generated import realize_generated
from agents.plans import GENERATOR_TOOL
from agents.scoring import REFUSED, score_answer
from agents.sources import get_generator
from agents.verifier import generator_verdict
from store import events as ev
from store.events import Envelope, new_event
from store.sqlite_log import SQLiteEventLog
from tests.agents.log_context import LogContext

RUN = "gen-versions"


def generated_sample(generator: str = "calendar") -> ev.SampleRealized:
    plan = ev.TransformationPlan(
        plan_id="p", subtask="t", dataset_id=f"gen-{generator}", instructions="",
        answer_format="generator", target_source="generator",
        tools=[{"name": GENERATOR_TOOL, "arguments": {"generator": generator, "params": {}}}])
    slot = ev.SlotAssigned(sample_id="t-gen-0000-a1", slot=0, subtask="t",
                           dataset_id=f"gen-{generator}", plan_id="p",
                           source_item_id=f"{generator}#0")
    (realized,) = [e for e, _ in realize_generated(slot, plan, get_generator(generator),
                                                   run_seed=3).batch
                   if isinstance(e, ev.SampleRealized)]
    return realized


def with_version(sample: ev.SampleRealized, version: str) -> ev.SampleRealized:
    assert sample.generated_by is not None
    return msgspec.structs.replace(
        sample, source=msgspec.structs.replace(sample.generated_by, version=version))


def test_the_verifier_re_creates_only_the_recorded_version() -> None:
    sample = generated_sample()
    assert sample.generated_by is not None and sample.generated_by.version == "1.0"
    assert generator_verdict(sample.generated_by).passed
    old = with_version(sample, "0.9").generated_by
    assert old is not None
    verdict = generator_verdict(old)
    assert not verdict.passed and verdict.check == "generator"
    assert verdict.reason == ("the item was made by calendar version 0.9, this build has "
                              "version 1.0: its instance cannot be re-created")


def test_the_scorer_refuses_another_version_with_a_reason() -> None:
    sample = generated_sample()
    score, scorer, _ = score_answer(sample.item, sample.item.target, sample.source)
    assert (score, scorer) == (1.0, "generator:calendar")
    old = with_version(sample, "0.9")
    assert score_answer(old.item, old.item.target, old.source) == (
        0.0, REFUSED, {"error": "the item was made by calendar version 0.9, this build has "
                                "version 1.0: its instance cannot be re-created"})


class AnswersTheTarget:
    """A scripted evaluated model: always answers `answer`."""

    def __init__(self, answer: str) -> None:
        self.answer = answer

    async def complete_text(self, purpose: str, messages: list[dict[str, Any]], *,
                            cause: Envelope, sampling: Any = None) -> str:
        return self.answer


async def test_evaluating_an_item_of_another_version_records_the_refusal(tmp_path: Path) -> None:
    sample = with_version(generated_sample(), "0.9")
    log = SQLiteEventLog(tmp_path / "events.db")
    try:
        (req,) = await log.append([new_event(RUN, "cli", ev.RunRequested(
            requirement="r", size=1, seed=3))])
        (real,) = await log.append([new_event(RUN, "orchestrator", sample, req.event_id, "s")])
        (acc,) = await log.append([new_event(RUN, "verifier", ev.SampleAccepted(
            sample_id=sample.sample_id, subtask="t"), real.event_id, "s")])
        await log.append([new_event(RUN, "verifier", ev.BenchmarkPublished(
            sample_ids=[sample.sample_id], accepted=1, rejected=0, content_hash="h"),
            acc.event_id, "publish")])
        (asked,) = await log.append([new_event(RUN, "cli", ev.EvaluationRequested(
            models=["scripted:any"]), req.event_id, "eval")])
        ctx = LogContext(log, RUN, "evaluator", llm=AnswersTheTarget(sample.item.target))
        await EvaluatorAgent().handle(asked, ctx)
        events = await log.read(RUN)
    finally:
        await log.close()
    (answered,) = [e.payload for e in events if isinstance(e.payload, ev.ModelAnswered)]
    assert answered.scorer == REFUSED and answered.score == 0.0
    assert "made by calendar version 0.9" in answered.detail["error"]
    (scored,) = [e.payload for e in events if isinstance(e.payload, ev.EvaluationScored)]
    assert scored.accuracy == 0.0 and scored.n == 1
