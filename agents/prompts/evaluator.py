"""Evaluator prompt: how a benchmark item is put to an evaluated model."""

from __future__ import annotations

from typing import Any

from agents.answers import letter

ANSWER = "evaluator.answer"

_SYSTEM = (
    "Answer the benchmark question. For multiple choice, reply with the letter of the "
    "correct option only. Otherwise reply with the answer only, as briefly as possible."
)


def answer_messages(
    input_text: str, choices: list[str] | None, media: list[str]
) -> list[dict[str, Any]]:
    body = input_text
    if media:
        body += "\n\n" + "\n".join(f"[attached media: {m}]" for m in media)
    if choices:
        body += "\n\nOptions:\n" + "\n".join(f"{letter(i)}. {c}" for i, c in enumerate(choices))
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": body}]
