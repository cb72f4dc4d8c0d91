"""A repair: the item's question rewritten once by the LLM from the Verifier's reason.

The target never changes; a rewritten question that gives the answer away is not
used (the item is re-realized as it was, and the Verifier judges it again). A repair
that restores the source's question (`RepairRequested.restore_source_question`: the
planner's rewrite lost the answer) asks no model: the source question is put back and
`SampleRealized.fallback` says why.
"""

from __future__ import annotations

import msgspec

from agents.base import LLM
from agents.prompts import orchestrator as prompts
from agents.prompts.common import clip
from agents.realize import answer_leak, item_answers, with_question
from agents.settings import RunSettings
from store.events import Envelope, RepairRequested, SampleRealized


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
    if question and answer_leak(question, item_answers(item),
                                str(item.metadata.get("question", ""))):
        question = ""  # a repair may not give the answer away: the item stays as it was
    item = with_question(item, question) if question else item
    return SampleRealized(sample_id=p.sample_id, item=item, source=realized.source,
                          repair_of=p.sample_id)
