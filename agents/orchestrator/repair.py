"""A repair: the item's question rewritten once by the LLM from the Verifier's reason.

The target never changes; a rewritten question that gives the answer away, or that
copies the Verifier's reason into itself, is not used (the item is re-realized as it
was, `SampleRealized.fallback` says why, and the Verifier judges it again). A repair
that restores the source's question (`RepairRequested.restore_source_question`: the
planner's rewrite lost the answer) asks no model: the source question is put back and
`SampleRealized.fallback` says why.
"""

from __future__ import annotations

import re

import msgspec

from agents.base import LLM
from agents.prompts import orchestrator as prompts
from agents.prompts.common import clip
from agents.realize import answer_leak, item_answers, with_question
from agents.settings import RunSettings
from store.events import Envelope, RepairRequested, SampleRealized

# Five words in a row is a phrase, not a shared topic word: the 1.5B's repairs append
# "Note: The question should be modified to include more context…" from the hint.
_ECHO_WORDS = 5


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _phrases(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + _ECHO_WORDS]) for i in range(len(words) - _ECHO_WORDS + 1)}


def echoed_reason(question: str, reason: str, before: str = "") -> str | None:
    """The longest run of words the rewrite copied from the Verifier's reason (five or
    more in a row that `before`, the item as it was, did not have), or None.

    Such a question speaks to its writer ("The question should be modified…"), not
    to the model under test."""
    words = _words(question)
    copied = _phrases(_words(reason)) - _phrases(_words(before))
    starts = [i for i in range(len(words) - _ECHO_WORDS + 1)
              if tuple(words[i:i + _ECHO_WORDS]) in copied]
    if not starts:
        return None
    spans: list[list[int]] = []
    for i in starts:  # overlapping five-word windows join into one copied span
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    first, last = max(spans, key=lambda s: s[1] - s[0])
    return " ".join(words[first:last + _ECHO_WORDS])


async def repaired(event: Envelope[RepairRequested], realized: SampleRealized,
                   settings: RunSettings, llm: LLM) -> SampleRealized:
    """The sample re-realized with its question rewritten (`repair_of` set)."""
    p = event.payload
    item = realized.item
    source_question = str(item.metadata.get("source_question", ""))
    if p.restore_source_question and source_question:
        metadata = {k: v for k, v in item.metadata.items() if k != "source_question"}
        restored = with_question(msgspec.structs.replace(item, metadata=metadata),
                                 source_question)
        restored = msgspec.structs.replace(restored, metadata={
            k: v for k, v in restored.metadata.items() if k != "repaired"})
        return SampleRealized(sample_id=p.sample_id, item=restored, source=realized.source,
                              repair_of=p.sample_id,
                              fallback=f"the source's question restored: {p.reason}")
    doc = {"input": clip(item.input, settings.prompt_chars * 2), "choices": item.choices,
           "question": item.metadata.get("question", ""), "answer": item.target}
    answer = await llm.complete_json(
        prompts.REPAIR, prompts.repair_messages(p.sample_id, doc, p.reason), prompts.REPAIR_SCHEMA,
        cause=event)
    question = str(answer.get("question", "")).strip()
    before = str(item.metadata.get("question", ""))
    unused = ""
    if question and (leak := answer_leak(question, item_answers(item), before)):
        unused = f"the rewrite was not used: it gives the answer away ({leak!r})"
    elif question and (echo := echoed_reason(question, p.reason, item.input)):
        unused = f"the rewrite was not used: it copies the Verifier's reason ({echo!r})"
    item = with_question(item, question) if question and not unused else item
    return SampleRealized(sample_id=p.sample_id, item=item, source=realized.source,
                          repair_of=p.sample_id, fallback=unused)
