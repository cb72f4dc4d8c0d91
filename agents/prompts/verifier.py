"""Verifier prompt: the semantic checks of one realized item."""

from __future__ import annotations

from typing import Any

from agents.prompts.common import messages, obj, text

CHECK = "verifier.check"
SEMANTIC_CHECKS = ("answerable", "answer_matches", "depends_on_signal")

_VERDICT = obj({"passed": {"type": "boolean"}, "reason": text(160)})
CHECK_SCHEMA = obj(
    {
        "answerable": _VERDICT,
        "answer_matches": _VERDICT,
        "depends_on_signal": _VERDICT,
        "repairable": {"type": "boolean"},
        "repair_hint": text(160),
    },
    title=CHECK,
)

_SYSTEM = (
    "You are the Verifier of a benchmark-building system. You judge one benchmark item "
    "strictly. Answer with JSON only."
)


def check_messages(sample_id: str, subtask: dict[str, Any],
                   item: dict[str, Any]) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "Check this item: (1) answerable — the question can be answered from the given input "
        "and media alone; (2) answer_matches — the labelled answer is the correct answer to "
        "the question; (3) depends_on_signal — answering requires the subtask's capability, "
        "not a shortcut. Give each a verdict and a reason. If an item fails only because of "
        "how its question is worded, say it is repairable and how.",
        {"sample_id": sample_id, "subtask": subtask, "item": item},
    )
