"""The pipeline's real requests on real General-Bench items, for the perf scripts.

Built with the agents' own prompt builders and schemas (agents/prompts/*.py) from the
General-Bench subset, as a demo run would send them: design.propose, grounding.plan,
grounding.score, orchestrator.sample_plan and verifier.check, plus the verifier's blind
solve. Nothing here calls a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.plans import card_summary, text_roles
from agents.prompts import design, grounding, orchestrator, verifier
from agents.prompts.common import clip
from agents.prompts.evaluator import answer_messages, letter
from agents.realize import Draft
from store.events import BenchmarkItem, Subtask, TransformationPlan
from tools.cards import DatasetCard
from tools.pool import Pool, SourceItem

REPO = Path(__file__).resolve().parent.parent
POOL = REPO.parent / "shared/datasets/general-bench-subset/data"
REQUIREMENT = ("I want to evaluate whether a model can reason about causes and effects in "
               "everyday events")
COPA = "7fb63e11"  # Causal-Reasoning: question, two options, a letter
PASSAGES = "2681e85c"  # Document-Level-Causal-Reasoning: long passage, question, answer
PROMPT_CHARS = 2400  # RunSettings.prompt_chars

SUBTASK = Subtask(
    name="Everyday cause and effect",
    description="Pick the more plausible cause or effect of an everyday event.",
    capability="causal reasoning about everyday events",
    answer_format="multiple_choice",
)


@dataclass(frozen=True)
class Request:
    purpose: str
    messages: list[dict[str, Any]]
    schema: dict[str, Any] | None


def load_pool() -> Pool:
    return Pool.load([POOL], include_generators=False)


def subtask_doc(sub: Subtask = SUBTASK) -> dict[str, Any]:
    return {"name": sub.name, "description": sub.description, "capability": sub.capability}


def copa_plan(card: DatasetCard) -> TransformationPlan:
    return TransformationPlan(
        plan_id="p-copa", subtask=SUBTASK.name, dataset_id=card.dataset_id,
        instructions="Use the question and its two options as they are; the answer is the label.",
        question_template="Choose the more plausible option.",
        input_fields=["question", "options"], target_field="answer",
        answer_format="multiple_choice",
    )


def passage_plan(card: DatasetCard) -> TransformationPlan:
    return TransformationPlan(
        plan_id="p-passage", subtask=SUBTASK.name, dataset_id=card.dataset_id,
        instructions="Show the passage and the question; the answer is the label.",
        question_template="Answer the question from the passage.",
        input_fields=["context", "question"], target_field="answer",
        answer_format="short_answer",
    )


def plan_doc(plan: TransformationPlan) -> dict[str, Any]:
    return {"instructions": plan.instructions, "question_template": plan.question_template,
            "answer_format": plan.answer_format, "tools": plan.tools}


def realized(plan: TransformationPlan, card: DatasetCard, item: SourceItem,
             sample_id: str) -> tuple[Draft, BenchmarkItem]:
    draft = Draft(plan, card, item)
    built = draft.build(sample_id, SUBTASK.name, question=None, distractors=[], media=[],
                        run_seed=1, extra_metadata={}, planned=False)
    return draft, built


def sample_plan_request(plan: TransformationPlan, card: DatasetCard, item: SourceItem,
                        sample_id: str) -> Request:
    draft = Draft(plan, card, item)
    return Request(
        orchestrator.SAMPLE_PLAN,
        orchestrator.sample_plan_messages(sample_id, subtask_doc(), plan_doc(plan),
                                          draft.planning_view(PROMPT_CHARS, []), []),
        orchestrator.sample_plan_schema([]),
    )


def item_doc(item: BenchmarkItem, solved: str = "B", agrees: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "input": clip(item.input, PROMPT_CHARS * 2),
        "choices": ([f"{letter(i)}. {c}" for i, c in enumerate(item.choices)]
                    if item.choices else None),
        "answer": item.target,
        "independent_answer": {"answer": solved, "agrees": agrees},
    }
    if "answer_text" in item.metadata:
        doc["answer_text"] = item.metadata["answer_text"]
    return doc


def check_request(item: BenchmarkItem, sample_id: str) -> Request:
    return Request(verifier.CHECK, verifier.check_messages(sample_id, subtask_doc(),
                                                            item_doc(item)),
                   verifier.CHECK_SCHEMA)


def solve_request(item: BenchmarkItem) -> Request:
    return Request(verifier.SOLVE, answer_messages(item.input, item.choices, item.media), None)


def structured_requests(pool: Pool) -> list[Request]:
    """One request per structured purpose of a demo run (the five schemas of the issue)."""
    copa = pool.card(COPA)
    plan = copa_plan(copa)
    summary = card_summary(copa)
    item = pool.items(COPA)[0]
    _, built = realized(plan, copa, item, "s-0")
    plan_full = {"instructions": plan.instructions, "question_template": plan.question_template,
                 "input_fields": plan.input_fields, "target_field": plan.target_field,
                 "answer_format": plan.answer_format, "tools": [],
                 "target_source": plan.target_source}
    return [
        Request(design.PROPOSE, design.propose_messages(REQUIREMENT), design.PROPOSE_SCHEMA),
        Request(grounding.PLAN, grounding.plan_messages(subtask_doc(), summary, []),
                grounding.plan_schema(list(copa.meta.fields), [])),
        Request(grounding.SCORE, grounding.score_messages(subtask_doc(), summary, plan_full),
                grounding.SCORE_SCHEMA),
        sample_plan_request(plan, copa, item, "s-0"),
        check_request(built, "s-0"),
    ]


def roles_of(card: DatasetCard) -> list[str]:
    return text_roles(card)
