"""The judge of open-ended answers: a response checked against a per-item rubric
(BenchAgents §3, E-Agent: model-based metrics for generative outputs).

Each criterion gets a one-sentence reason, then a true/false verdict, in schema order (the
judge reasons before it commits). The rubric is the item's: the judge-only constraints a
generator lists (BA-Text), or agreement with the reference answer for a free-text item.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from agents.prompts.common import clip, facts_block, obj, text

RUBRIC = "evaluator.rubric"
REASON_CHARS = 160
_TASK_CHARS = 3000
_RESPONSE_CHARS = 4000

_SYSTEM = (
    "You judge whether a model's response satisfies each criterion of a rubric. For each "
    "criterion, write a one-sentence reason first, then true if the response satisfies it "
    "and false if it does not. Judge the response only, never the task. Answer with JSON only."
)


class Criterion(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # a schema property name: letters, digits, _
    text: str


def schema(criteria: Sequence[Criterion]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for c in criteria:  # reason before verdict, criterion by criterion
        props[f"{c.id}_reason"] = text(REASON_CHARS)
        props[c.id] = {"type": "boolean"}
    return obj(props, title=RUBRIC)


def messages(task: str, response: str, criteria: Sequence[Criterion],
             reference: str | None) -> list[dict[str, Any]]:
    facts: dict[str, Any] = {"criteria": {c.id: c.text for c in criteria}}
    if reference is not None:
        facts["reference_answer"] = clip(reference, 1000)
    body = (
        "The task the model was given:\n"
        f"<<<\n{clip(task, _TASK_CHARS)}\n>>>\n\n"
        "The model's response:\n"
        f"<<<\n{clip(response, _RESPONSE_CHARS)}\n>>>\n\n"
        "Does the response satisfy each criterion?\n\n" + facts_block(facts)
    )
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": body}]
