"""The Evaluator: models answer the published benchmark, and are scored.

- BenchmarkPublished → `EvaluationRequested` for the run's `--eval-model`s, or
  `RunCompleted` when none was asked for;
- ModelReleased → `EvaluationRequested` for that model (daemons);
- EvaluationRequested → every model answers every accepted item (recorded LLM
  calls under role `eval:<spec>`); one `ModelAnswered` per answer with its score
  (choice match, normalised exact match, or the generator's scorer) and one
  `EvaluationScored` per model with overall and per-subtask accuracy; the run
  completes after its first evaluation. An open-ended answer (free text, long form, a
  generator's judge-only constraints) is scored by the judge against the item's rubric
  (`agents.answer_judging`), its verdicts kept in `ModelAnswered.judged`. A model whose
  every call failed gets `EvaluationFailed` with the first error instead: nothing to
  score, and a daemon must not retry it forever;
- JudgeRequested → the quality loop's judge (`agents.benchmark_judge`).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog

from agents.answer_judging import judge_open_answer
from agents.base import Agent, AgentContext, on
from agents.benchmark_judge import BenchmarkJudge
from agents.models import JUDGE_ROLE, eval_role, spec_for_role
from agents.prompts import evaluator as prompts
from agents.recorded_llm import LLMCallFailed, ModelUnavailable
from agents.scoring import score_answer
from store.events import (
    BenchmarkPublished,
    Envelope,
    EvaluationFailed,
    EvaluationRequested,
    EvaluationScored,
    ModelAnswered,
    ModelReleased,
    Payload,
    RunCompleted,
    SampleRealized,
)

log = structlog.get_logger(__name__)

NO_ANSWER = "no_answer"  # the scorer of an item whose call failed


class EvaluatorAgent(BenchmarkJudge, Agent):
    role = "evaluator"

    @on(BenchmarkPublished)
    async def published(self, event: Envelope[BenchmarkPublished], ctx: AgentContext) -> None:
        """Evaluate the run's `--eval-model`s, or complete the run when none was asked for."""
        state = await ctx.state()
        if state.status.finished:
            return
        req = state.request.payload
        if req.eval_models:
            await ctx.emit(EvaluationRequested(models=list(req.eval_models),
                                               reason="--eval-model given at build"),
                           cause=event, key="build")
        else:
            await ctx.emit(completion(event.payload), cause=event, key="completed")

    @on(ModelReleased)
    async def released(self, event: Envelope[ModelReleased], ctx: AgentContext) -> None:
        """A released model is evaluated on the run's benchmark (daemons)."""
        state = await ctx.state()
        if state.status.failed is not None or state.publication.event is None:
            return
        await ctx.emit(EvaluationRequested(models=[event.payload.model], reason="model released"),
                       cause=event, key=event.payload.model)

    @on(EvaluationRequested)
    async def evaluate(self, event: Envelope[EvaluationRequested], ctx: AgentContext) -> None:
        """Every model answers every accepted item; answers scored, accuracy per model."""
        state = await ctx.state()
        if state.status.failed is not None:
            return
        p = event.payload
        pub = state.publication.payload
        if pub is None or state.evaluations.scored.get(event.event_id):
            return
        samples = [state.samples.realized[sid].payload for sid in pub.sample_ids]
        judge = p.judge or spec_for_role(state.request.payload, JUDGE_ROLE)
        batch: list[tuple[Payload, str]] = []
        # A user waits on an evaluation they asked for: a model outage stops it for a retry.
        # One the watcher asked for (a model released) must not stop a published benchmark for
        # one model's outage: it is recorded failed, and the daemon moves on.
        released = {e.event_id for e in state.evaluations.released.values()}
        outage_stops = event.causation_id not in released
        for model in p.models:
            answers = await asyncio.gather(*(self._answer(event, model, s, judge, ctx,
                                                          outage_stops=outage_stops)
                                             for s in samples))
            if answers and all(a.scorer == NO_ANSWER for a in answers):
                batch.append((EvaluationFailed(model=model, n=len(answers), reason=(
                    f"all {len(answers)} calls failed; first: {answers[0].detail['error']}"
                    )[:500]), model))
                continue
            per_subtask: dict[str, list[float]] = defaultdict(list)
            for item, answered in zip((s.item for s in samples), answers, strict=True):
                batch.append((answered, f"{model}:{item.id}"))
                per_subtask[item.subtask].append(answered.score)
            scores = [a.score for a in answers]
            batch.append((EvaluationScored(
                model=model,
                accuracy=round(sum(scores) / len(scores), 6) if scores else 0.0,
                per_subtask={s: round(sum(v) / len(v), 6) for s, v in sorted(per_subtask.items())},
                n=len(scores)), model))
        if state.status.completed is None:
            batch.append((completion(pub), "completed"))
        await ctx.emit_many(batch, cause=event)

    async def _answer(self, event: Envelope[EvaluationRequested], model: str,
                      sample: SampleRealized, judge: str, ctx: AgentContext, *,
                      outage_stops: bool = True) -> ModelAnswered:
        item = sample.item
        messages = prompts.answer_messages(item.input, item.choices, item.media)
        try:
            answer = await ctx.llm(eval_role(model)).complete_text(prompts.ANSWER, messages,
                                                                   cause=event)
        except LLMCallFailed as exc:
            if outage_stops and isinstance(exc, ModelUnavailable):
                raise  # the server is down, not the model wrong: the run stops for --resume
            return ModelAnswered(model=model, sample_id=item.id, answer="", score=0.0,
                                 scorer=NO_ANSWER, detail={"error": str(exc)})
        synthesized = (await ctx.state()).synthesis
        score, scorer, detail = score_answer(item, answer, sample.source, synthesized)
        answered = ModelAnswered(model=model, sample_id=item.id, answer=answer, score=score,
                                 scorer=scorer, detail=detail)
        return await judge_open_answer(ctx, judge, item, answered, cause=event)


def completion(pub: BenchmarkPublished) -> RunCompleted:
    return RunCompleted(accepted=pub.accepted, rejected=pub.rejected, content_hash=pub.content_hash)
