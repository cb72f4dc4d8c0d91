"""Verifier prompts: a blind solve of one realized item, then one judgement of its checks.

The solve puts the item to the backbone exactly as an evaluated model sees it (the
Evaluator's prompt, no label): whether it reaches the label is evidence a model of
any size gives reliably; the Verifier asks for it when the judge doubts the item
is answerable or its label right (or first, for a rewritten question). The
judgement sees the label (and the blind answer when there is one), writes
its reason first (constrained decoding emits fields in schema order, so the model
reasons before it decides) and then names the one check that fails, or none.
Measured on the 0.5B and 1.5B local models, three separate booleans were answered
by position (the first true, the rest false), whatever the item.
"""

from __future__ import annotations

from typing import Any

from agents.prompts.common import messages, obj, text
from store.events import CheckName

SOLVE = "verifier.solve"
FIT = "verifier.fit"  # a cloze item's options scored in its blank (agents.cloze_fit)
CHECK = "verifier.check"
SEMANTIC_CHECKS: tuple[CheckName, ...] = ("answerable", "answer_matches", "depends_on_signal")
NO_FAILURE = "none"

CHECK_SCHEMA = obj(
    {
        "reason": text(300),
        "failed_check": {"type": "string", "enum": [NO_FAILURE, *SEMANTIC_CHECKS]},
        "repairable": {"type": "boolean"},
        "repair_hint": text(160),
    },
    title=CHECK,
)

_SYSTEM = (
    "You are the Verifier of a benchmark-building system. You decide whether one benchmark "
    "item is sound. Answer with JSON only."
)


def check_messages(sample_id: str, subtask: dict[str, Any],
                   item: dict[str, Any]) -> list[dict[str, Any]]:
    """`item` carries the label, and may carry `independent_answer` (a blind solve and
    whether it agrees with the label)."""
    solver = ("; `independent_answer` is what a solver answered without seeing the label"
              if "independent_answer" in item else "")
    return messages(
        _SYSTEM,
        "Judge this item. First give your reason, then name the check it fails, or none: "
        "answerable (the question can be answered from the input and media), answer_matches "
        f"(the labelled answer is the correct one{solver}), depends_on_signal (answering "
        "needs the subtask's capability, not a surface shortcut). If it fails only because "
        "of how its question is worded, say it is repairable and how.",
        {"sample_id": sample_id, "subtask": subtask, "item": item},
    )
