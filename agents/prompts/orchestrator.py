"""Orchestrator prompts: sample-level planning (specialise the plan to one item) and repair."""

from __future__ import annotations

from typing import Any

from agents.prompts.common import messages, obj, text

SAMPLE_PLAN = "orchestrator.sample_plan"
REPAIR = "orchestrator.repair"


def sample_plan_schema(tools: list[str]) -> dict[str, Any]:
    """The sample plan; `tool_calls` only when some tool applies to the item's media."""
    properties: dict[str, Any] = {
        "question": text(400),
        "distractors": {"type": "array", "items": text(120), "maxItems": 4},
    }
    if tools:
        properties["tool_calls"] = {
            "type": "array",
            "maxItems": 3,
            "items": obj({"name": {"enum": tools}, "arguments": {"type": "object"}}),
        }
    properties["notes"] = text(160)
    return obj(properties, title=SAMPLE_PLAN)


REPAIR_SCHEMA = obj({"question": text(400), "notes": text(160)}, title=REPAIR)

_SYSTEM = (
    "You are the Orchestrator of a benchmark-building system. You specialise a dataset-level "
    "transformation plan to one source item. You never change the answer: it comes from the "
    "item's label. Answer with JSON only."
)


def sample_plan_messages(
    sample_id: str, subtask: dict[str, Any], plan: dict[str, Any], item: dict[str, Any],
    tools: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "Write the question the evaluated model will see for this item, following the plan "
        "and tested by the subtask; its correct answer must be the item's answer. If the plan "
        "asks for multiple choice and the item has no options, give up to 3 plausible but wrong "
        "distractors."
        + (" Add pure-tool calls only when the plan calls for them (media inputs are listed "
           "under `media`; write outputs under `out/`)." if tools else ""),
        {"sample_id": sample_id, "subtask": subtask, "plan": plan, "item": item,
         **({"tools": tools} if tools else {})},
    )


def repair_messages(sample_id: str, item: dict[str, Any], reason: str) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "A verifier found a problem with this benchmark item. Rewrite its question so the "
        "problem is gone. The answer must stay exactly the same.",
        {"sample_id": sample_id, "item": item, "problem": reason},
    )
