"""The Evaluator: models answer the published benchmark, and are scored.

- BenchmarkPublished → `EvaluationRequested` for the run's `--eval-model`s, or
  `RunCompleted` when none was asked for;
- ModelReleased → `EvaluationRequested` for that model (daemons);
- EvaluationRequested → every model answers every accepted item (recorded LLM
  calls under role `eval:<spec>`); one `ModelAnswered` per answer with its score
  (choice match, normalised exact match, or the generator's scorer) and one
  `EvaluationScored` per model with overall and per-subtask accuracy; the run
  completes after its first evaluation.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog

from agents.base import AgentContext
from agents.prompts import evaluator as prompts
from agents.recorded_llm import LLMCallFailed
from agents.run_llm import RunLLMFactory, eval_role
from agents.run_view import RunView, ViewCache
from agents.scoring import score_answer
from store.events import (
    BenchmarkItem,
    BenchmarkPublished,
    Envelope,
    EvaluationRequested,
    EvaluationScored,
    ModelAnswered,
    ModelReleased,
    Payload,
    RunCompleted,
)

log = structlog.get_logger(__name__)


class EvaluatorAgent:
    role = "evaluator"
    handles = ("BenchmarkPublished", "EvaluationRequested", "ModelReleased")

    def __init__(self, models: RunLLMFactory | None = None) -> None:
        self._views = ViewCache()
        self._models = models or RunLLMFactory()

    async def handle(self, event: Envelope, ctx: AgentContext) -> None:
        view = await self._views.current(ctx)
        p = event.payload
        if view.failed is not None:
            return
        if isinstance(p, BenchmarkPublished):
            if view.completed is not None:
                return
            req = view.request_payload()
            if req.eval_models:
                await ctx.emit(EvaluationRequested(models=list(req.eval_models),
                                                   reason="--eval-model given at build"),
                               cause=event, key="build")
            else:
                await ctx.emit(completion(p), cause=event, key="completed")
        elif isinstance(p, ModelReleased):
            await ctx.emit(EvaluationRequested(models=[p.model], reason="model released"),
                           cause=event, key=p.model)
        elif isinstance(p, EvaluationRequested):
            await self._evaluate(event, p, view, ctx)

    async def _evaluate(self, event: Envelope, p: EvaluationRequested, view: RunView,
                        ctx: AgentContext) -> None:
        if view.published is None or view.eval_scored.get(event.event_id):
            return
        pub: BenchmarkPublished = view.published.payload  # type: ignore[assignment]
        items = [view.realized[sid].payload.item for sid in pub.sample_ids]
        batch: list[tuple[Payload, str]] = []
        for model in p.models:
            answers = await asyncio.gather(*(self._answer(event, model, item, ctx) for item in items))
            per_subtask: dict[str, list[float]] = defaultdict(list)
            for item, answered in zip(items, answers, strict=True):
                batch.append((answered, f"{model}:{item.id}"))
                per_subtask[item.subtask].append(answered.score)
            scores = [a.score for a in answers]
            batch.append((EvaluationScored(
                model=model,
                accuracy=round(sum(scores) / len(scores), 6) if scores else 0.0,
                per_subtask={s: round(sum(v) / len(v), 6) for s, v in sorted(per_subtask.items())},
                n=len(scores)), model))
        if view.completed is None:
            batch.append((completion(pub), "completed"))
        await ctx.emit_many(batch, cause=event)

    async def _answer(self, event: Envelope, model: str, item: BenchmarkItem,
                      ctx: AgentContext) -> ModelAnswered:
        messages = prompts.answer_messages(item.input, item.choices, item.media)
        try:
            llm = self._models(eval_role(model), ctx)
            answer = await llm.complete_text(prompts.ANSWER, messages, cause=event)
        except LLMCallFailed as exc:
            return ModelAnswered(model=model, sample_id=item.id, answer="", score=0.0,
                                 scorer="no_answer", detail={"error": str(exc)})
        score, scorer, detail = score_answer(item, answer)
        return ModelAnswered(model=model, sample_id=item.id, answer=answer, score=score,
                             scorer=scorer, detail=detail)


def completion(pub: BenchmarkPublished) -> RunCompleted:
    return RunCompleted(accepted=pub.accepted, rejected=pub.rejected, content_hash=pub.content_hash)
