"""Design agent prompts: propose candidate subtasks, review them, revise after grounding failed."""

from __future__ import annotations

from typing import Any

from agents.prompts.common import ANSWER_FORMATS, messages, obj, text
from store.events import REVIEW_DECISIONS

PROPOSE = "design.propose"
REVIEW = "design.review"
REVISE = "design.revise"

SUBTASK = obj(
    {
        "name": {"type": "string", "minLength": 3, "maxLength": 60},
        "description": text(240),
        "capability": text(120),
        "answer_format": {"enum": ANSWER_FORMATS},
        "distinct_focus": text(160),
    }
)

def propose_schema(max_subtasks: int = 6) -> dict[str, Any]:
    most = max(1, min(6, max_subtasks))
    return obj(
        {"subtasks": {"type": "array", "items": SUBTASK, "minItems": min(2, most), "maxItems": most},
         "reason": text(200)},
        title=PROPOSE,
    )


PROPOSE_SCHEMA = propose_schema()

_REVIEW_ITEM = obj(
    {
        "name": {"type": "string", "maxLength": 80},
        "decision": {"enum": list(REVIEW_DECISIONS)},
        "reason": text(200),
        "revised": SUBTASK,
    }
)
_REVIEWS = {"type": "array", "items": _REVIEW_ITEM, "minItems": 1, "maxItems": 6}
REVIEW_SCHEMA = obj({"reviews": _REVIEWS}, title=REVIEW)
REVISE_SCHEMA = obj({"reviews": _REVIEWS}, title=REVISE)

_SYSTEM = (
    "You are the Design agent of a benchmark-building system. You turn an evaluation "
    "requirement into independent, testable subtasks; each isolates one capability and is "
    "answered in one format. Answer with JSON only."
)


def propose_messages(requirement: str, max_subtasks: int = 6) -> list[dict[str, Any]]:
    most = max(1, min(6, max_subtasks))
    return messages(
        _SYSTEM,
        f"Propose {min(2, most)} to {most} distinct candidate subtasks for this requirement. "
        "They may differ in granularity, coverage and emphasis. For each give a short name "
        "(at most six words, no numbering), a description, the capability it isolates, the "
        "answer format, and `distinct_focus`: what its items test that the other subtasks' "
        "items do not. Subtasks that test the same capability in other words are one subtask: "
        "propose it once.",
        {"requirement": requirement},
    )


def review_messages(requirement: str, candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "Review every candidate subtask against the requirement. Keep a well-posed one; "
        "revise one whose formulation or scope needs refining (give the revised subtask, "
        "keeping its intent); discard one with a marginal or unclear contribution. Give a "
        "reason for each decision; discard one that tests what another candidate already "
        "tests. For keep or discard, repeat the subtask as `revised`.",
        {"requirement": requirement, "candidates": candidates},
    )


def revise_messages(
    requirement: str,
    failures: list[dict[str, Any]],
    datasets: list[str],
) -> list[dict[str, Any]]:
    return messages(
        _SYSTEM,
        "These subtasks could not be grounded in the available datasets (reasons given). "
        "Revise each so that the datasets listed can support it while keeping the "
        "requirement's intent, or discard it if no revision can. Give a reason for each.",
        {"requirement": requirement, "failed": failures, "available_datasets": datasets},
    )
