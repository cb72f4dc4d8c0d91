"""A repair that copies the Verifier's reason into the question is not used.

The case is the real one from a temporal build on the 1.5B: asked to make a TimeBank
question answerable, it appended the hint itself ("Note: The question should be
modified to include more context…"), and the item was accepted with that line in it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agents.orchestrator.repair import echoed_reason, repaired
from agents.settings import RunSettings
from store.events import BenchmarkItem, Envelope, RepairRequested, SampleRealized, SourceLabel

QUESTION = ("Given two events in the text:\nEvent 1: 'told' (Type: REPORTING)\n"
            "Event 2: 'assure' (Type: I_ACTION)\nDetermine the temporal relation between "
            "these events.")
REASON = ("answerable: The question only mentions that 'told' and 'assure' are actions taken "
          "by someone, without specifying who or when. hint: The question should be modified "
          "to include more context about the people involved in the events and their actions.")


class OneAnswer:
    """An LLM that answers every JSON request with one fixed repair."""

    def __init__(self, question: str) -> None:
        self.question = question
        self.calls = 0

    async def complete_json(self, purpose: str, messages: list[dict[str, Any]],
                            schema: dict[str, Any], **_: Any) -> Any:
        self.calls += 1
        return {"question": self.question}


def _repair(rewrite: str) -> tuple[SampleRealized, int]:
    item = BenchmarkItem(id="s-1", subtask="When events happen",
                         input=f"Read the context, then answer the question.\n\nContext:\n"
                               f"Howard told the convention he would assure a vote.\n\n"
                               f"Question: {QUESTION}",
                         target="BEFORE", metadata={"question": QUESTION})
    realized = SampleRealized(sample_id="s-1", item=item, source=SourceLabel(
        dataset_id="ca4f9ec3", item_id="0195", field_path="answer"))
    event = Envelope(event_id="e-1", run_id="r", agent="verifier", causation_id=None,
                     payload=RepairRequested(sample_id="s-1", reason=REASON))
    llm = OneAnswer(rewrite)
    out = asyncio.run(repaired(event, realized, RunSettings(), llm))  # type: ignore[arg-type]
    return out, llm.calls


def test_a_rewrite_that_appends_the_hint_is_not_used() -> None:
    leaked = (QUESTION + "\nNote: The question should be modified to include more context "
              "about the people involved in 't")
    out, calls = _repair(leaked)
    assert calls == 1
    assert out.item.metadata["question"] == QUESTION
    assert "Note:" not in out.item.input
    assert out.fallback.startswith("the rewrite was not used: it copies the Verifier's reason")
    assert "the question should be modified to include more context about the people involved" in out.fallback


def test_a_rewrite_in_its_own_words_is_used() -> None:
    rewrite = ("Howard told the convention something, then acted to assure a vote. What is "
               "the temporal relation between 'told' and 'assure'?")
    out, _ = _repair(rewrite)
    assert out.item.metadata["question"] == rewrite
    assert out.item.input.endswith(f"Question: {rewrite}")
    assert out.fallback == ""


def test_words_the_question_already_had_are_not_an_echo() -> None:
    # The reason quotes the question; a rewrite keeping those words copies nothing new.
    reason = f"answerable: {QUESTION} names no people. hint: name them."
    assert echoed_reason(QUESTION + " Name the people.", reason, QUESTION) is None
    assert echoed_reason("Please, the question should be modified to name them.", REASON) == (
        "the question should be modified to")
    assert echoed_reason("Who told whom, and when?", REASON) is None
