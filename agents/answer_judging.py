"""Model-based metrics for open-ended answers (BenchAgents' E-Agent), used by the Evaluator.

Which answers a judge scores, and how its verdicts combine with the programmatic score:

- a generated item whose scorer lists constraints only a judge can check
  (`detail["judge_needed"]`, e.g. BA-Text): the judge checks those, and the score becomes
  the share of all constraints satisfied, programmatic and judged (the generator's own
  checks stand as they are);
- an open-ended item of a dataset (no options, and `answer_format` free_text or a reference
  answer longer than `LONG_FORM_WORDS` words) that exact match did not already accept: the
  judge decides whether the response agrees with the reference answer (score 1 or 0);
- anything else (options, short answers, generators without judge-only constraints) keeps
  its exact scorer and calls no judge.

The verdicts, each with its reason, go into `ModelAnswered.judged`; a judge that gives no
usable answer leaves the programmatic score and says why in `detail["judge_error"]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from agents.base import AgentContext
from agents.models import judge_role
from agents.prompts import rubric as prompts
from agents.recorded_llm import LLMCallFailed
from store.events import BenchmarkItem, Envelope, ModelAnswered, Payload
from store.quality import JudgedAnswer, RubricVerdict

LONG_FORM_WORDS = 8
_REFERENCE_CRITERION = prompts.Criterion(
    id="correct",
    text="The response gives the same answer as the reference answer: the same meaning in any "
         "wording, nothing that contradicts it (extra correct detail is fine).")


def is_open_ended(item: BenchmarkItem) -> bool:
    """An item whose answer exact match cannot score: free text or a long reference."""
    if item.choices or "generator" in item.metadata:
        return False
    return (item.metadata.get("answer_format") == "free_text"
            or len(item.target.split()) > LONG_FORM_WORDS)


def rubric_for(item: BenchmarkItem,
               answered: ModelAnswered) -> tuple[list[prompts.Criterion], str | None]:
    """The criteria a judge checks on this answer ([] = none), and the reference answer it
    is shown (None for a generator's constraints: they are checked on the response)."""
    if answered.scorer.startswith("generator:"):
        needed = answered.detail.get("judge_needed") or []
        return [prompts.Criterion(id=str(c["id"]), text=str(c["text"])) for c in needed], None
    if answered.scorer == "exact_match" and answered.score < 1.0 and is_open_ended(item):
        return [_REFERENCE_CRITERION], item.target
    return [], None


def combined_score(answered: ModelAnswered, verdicts: list[RubricVerdict]) -> float:
    """The answer's score once the judge's verdicts count alongside the programmatic checks."""
    satisfied = sum(v.satisfied for v in verdicts)
    if not answered.scorer.startswith("generator:"):
        return 1.0 if verdicts and satisfied == len(verdicts) else 0.0
    constraints: Mapping[str, Any] = answered.detail.get("constraints") or {}
    programmatic = [c for c in constraints.values()
                    if isinstance(c, Mapping) and c.get("check") == "programmatic"]
    passed = sum(bool(c.get("passed")) for c in programmatic)
    total = len(programmatic) + len(verdicts)
    return (passed + satisfied) / total if total else 0.0


async def judge_open_answer(ctx: AgentContext, judge: str, item: BenchmarkItem,
                            answered: ModelAnswered, *,
                            cause: Envelope[Payload]) -> ModelAnswered:
    """`answered`, scored by `judge` against the item's rubric when it has one."""
    criteria, reference = rubric_for(item, answered)
    if not criteria or not answered.answer:
        return answered
    try:
        reply = await ctx.llm(judge_role(judge)).complete_json(
            prompts.RUBRIC, prompts.messages(item.input, answered.answer, criteria, reference),
            prompts.schema(criteria), cause=cause)
    except (LLMCallFailed, ValueError) as exc:  # ValueError: the judge cannot be served here
        return msgspec.structs.replace(answered,
                                       detail={**answered.detail, "judge_error": str(exc)})
    verdicts = [RubricVerdict(criterion=c.id, text=c.text,
                              reason=str(reply.get(f"{c.id}_reason", "")).strip(),
                              satisfied=bool(reply.get(c.id)))
                for c in criteria]
    score = round(combined_score(answered, verdicts), 6)
    detail = dict(answered.detail)
    if "pass_all" in detail:
        detail["pass_all"] = score == 1.0
    return msgspec.structs.replace(
        answered, score=score, scorer=f"{answered.scorer}+judge", detail=detail,
        judged=JudgedAnswer(judge=judge, verdicts=verdicts, score=score))
