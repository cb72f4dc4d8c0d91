"""Pieces shared by the prompt modules."""

from __future__ import annotations

from typing import Any

import msgspec

from store.events import AnswerFormat

# The answer formats an LLM may choose (store.events.AnswerFormat also has "any", "generator").
ANSWER_FORMATS: list[AnswerFormat] = ["multiple_choice", "short_answer", "free_text"]


_encoder = msgspec.json.Encoder(order="sorted")


def facts_block(facts: dict[str, Any]) -> str:
    """The request's facts as a fenced JSON block (stable key order)."""
    body = msgspec.json.format(_encoder.encode(facts), indent=1).decode()
    return "```json\n" + body + "\n```"


def messages(system: str, user: str, facts: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"{user}\n\n{facts_block(facts)}"},
    ]


def obj(properties: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    """A closed object schema whose properties are all required."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if title:
        schema = {"title": title, **schema}
    return schema


def text(max_length: int = 400) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def clip(value: str, limit: int) -> str:
    """Source text shown to a model, cut at `limit` characters with a visible mark."""
    return value if len(value) <= limit else value[:limit] + " […]"
