"""Grounding agent prompts: dataset preferences, transformation plans, Score-and-Filter."""

from __future__ import annotations

from typing import Any

from agents.prompts.common import ANSWER_FORMATS, messages, obj, text

PREFERENCES = "grounding.preferences"
PLAN = "grounding.plan"
SCORE = "grounding.score"

MODALITIES = ["text", "image", "audio", "video"]

PREFERENCES_SCHEMA = obj(
    {
        "modality": {"type": "array", "items": {"enum": MODALITIES}, "minItems": 1, "maxItems": 3},
        "annotation": text(120),
        "domain": text(80),
        "query": text(120),
        "reason": text(200),
    },
    title=PREFERENCES,
)


def plan_schema(roles: list[str], tools: list[str]) -> dict[str, Any]:
    """A plan for one dataset: its roles and the tools for its media are the only choices."""
    role_enum = {"enum": roles or ["none"]}
    properties: dict[str, Any] = {
        "instructions": text(300),
        "question_template": text(200),
        "input_fields": {"type": "array", "items": role_enum, "maxItems": 8},
        "target_field": role_enum,
        "answer_format": {"enum": ANSWER_FORMATS},
    }
    if tools:  # a text dataset has no tool to plan: the field is left out
        properties["tools"] = {
            "type": "array",
            "maxItems": 3,
            "items": obj({"name": {"enum": tools}, "arguments": {"type": "object"}}),
        }
    properties["reason"] = text(200)
    return obj(properties, title=PLAN)


SCORE_SCHEMA = obj(
    {
        "alignment": {"type": "integer", "minimum": 1, "maximum": 5},
        "robustness": {"type": "integer", "minimum": 1, "maximum": 5},
        "signal_preservation": {"type": "integer", "minimum": 1, "maximum": 5},
        "reason": text(200),
    },
    title=SCORE,
)

_SYSTEM = (
    "You are the Grounding agent of a benchmark-building system. You check that a subtask "
    "can be realized from real datasets through executable transformations. Answer with "
    "JSON only."
)


def preferences_messages(subtask: dict[str, Any]) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "Which data would support this subtask? Give the modalities its inputs truly need "
        "(text only, unless the subtask is about images, audio or video), the annotation "
        "structure (e.g. multiple-choice labels, free-text answers), the domain, and a keyword "
        "search query for a catalogue of datasets.",
        {"subtask": subtask},
    )


# What a plan is asked for; the 1.5B has been seen to copy it into the plan's instruction
# (agents.plan_signals.instruction_misfit refuses such an instruction).
PLAN_ASK = (
    "Write a transformation plan that turns each item of this dataset into a benchmark item "
    "for the subtask: the instructions (how an item is transformed), the instruction shown to "
    "the evaluated model above each item (`question_template`: one plain sentence that fits "
    "the items as they are, such as the example items; no placeholders in braces), which "
    "fields (roles) form the input, which role holds the answer (it must come from the "
    "dataset's own label) and the answer format.")


def plan_messages(subtask: dict[str, Any], dataset: dict[str, Any],
                  tools: list[dict[str, Any]],
                  examples: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    facts: dict[str, Any] = {"subtask": subtask, "dataset": dataset}
    if examples:
        facts["example_items"] = examples
    ask = PLAN_ASK
    if tools:
        ask += (" Optionally, pure-tool calls on the item's media: use \"{media}\" for the "
                "item's media file and \"{out}\" for the output.")
        facts["tools"] = [{"name": t["name"], "description": t["description"][:160],
                           "parameters": sorted(t["parameters"].get("properties", {}))}
                          for t in tools]
    return messages(_SYSTEM, ask, facts)


def score_messages(
    subtask: dict[str, Any], dataset: dict[str, Any], plan: dict[str, Any]
) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "Score this transformation plan from 1 (poor) to 5 (excellent) on: alignment with the "
        "subtask's evaluation intent; robustness of the transformation (it works on every "
        "item, no fragile steps); preservation of the evaluation signal (the answer stays "
        "correct and still requires the capability). Explain briefly.",
        {"subtask": subtask, "dataset": dataset, "plan": plan},
    )


GENERATOR_PLAN = "grounding.generator_plan"

GENERATOR_PLAN_SCHEMA = obj(
    {"instructions": text(300), "params": {"type": "object"}, "reason": text(200)},
    title=GENERATOR_PLAN,
)


def generator_plan_messages(subtask: dict[str, Any], dataset: dict[str, Any]) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "This dataset is a procedural generator whose answers are correct by construction. "
        "Choose its parameters (within the ranges listed under `params`) so that the "
        "generated problems test the subtask, and describe how they serve it.",
        {"subtask": subtask, "dataset": dataset},
    )
