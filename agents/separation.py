"""The separation check of a refresh: an item every known model solves tells them apart no
better than the saturated benchmark did, so it is replaced (BenchmarkAgent §1, Fig. 2).

Each model named by the run's `RefreshRequested.separate` answers the item as the Evaluator
would put it (its prompt, under role `eval:<model>`), so the evaluation of those models on
the published refresh reuses these recorded answers instead of paying for them again.
"""

from __future__ import annotations

import asyncio

from agents.base import AgentContext
from agents.models import eval_role
from agents.prompts import evaluator as prompts
from agents.recorded_llm import LLMCallFailed
from agents.scoring import score_answer
from store.events import CheckVerdict, Envelope, SampleRealized


async def separation_verdict(event: Envelope[SampleRealized], models: list[str],
                             ctx: AgentContext) -> CheckVerdict:
    """Fails when every model that answered solved the item; a model whose call failed says
    nothing either way."""
    sample = event.payload
    scores = await asyncio.gather(*(_score(event, model, ctx) for model in models))
    answered = {m: s for m, s in zip(models, scores, strict=True) if s is not None}
    if not answered:
        return CheckVerdict(check="separates", passed=True,
                            reason="no known model answered: separation not checked")
    solved = sorted(m for m, s in answered.items() if s == 1.0)
    if len(solved) == len(answered):
        return CheckVerdict(check="separates", passed=False,
                            reason=f"every known model solved {sample.sample_id}: "
                                   f"{', '.join(solved)}")
    missed = sorted(set(answered) - set(solved))
    return CheckVerdict(check="separates", passed=True,
                        reason=f"not solved by {', '.join(missed)}"
                               + (f"; solved by {', '.join(solved)}" if solved else ""))


async def _score(event: Envelope[SampleRealized], model: str, ctx: AgentContext) -> float | None:
    item = event.payload.item
    messages = prompts.answer_messages(item.input, item.choices, item.media)
    try:
        answer = await ctx.llm(eval_role(model)).complete_text(prompts.ANSWER, messages,
                                                               cause=event)
    except LLMCallFailed:
        return None
    return score_answer(item, answer, event.payload.source)[0]
