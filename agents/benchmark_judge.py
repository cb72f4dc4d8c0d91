"""The judge of the quality loop: `JudgeRequested` → an `ItemJudged` per item, then the
`BenchmarkJudged` that closes the request (Benchmark Agent §4.1, App. A.2).

The Evaluator role serves it (`EvaluatorAgent` includes these handlers): judging the
benchmark is evaluation, and no new worker kind is needed in distributed mode. The judge
answers as role `judge:<spec>` through `ctx.llm`, on the model the request recorded, so a
resumed judgement asks the same model and reuses every recorded answer. Items are judged
concurrently with the benchmark-level UIA (the router caps the calls in flight); an item
whose judge gives no usable answer is listed in `BenchmarkJudged.unjudged`, and the request
fails (`JudgingFailed`) only when the UIA call does, or when no item could be judged.
"""

from __future__ import annotations

import asyncio

from agents.base import AgentContext, on
from agents.judging import judge_benchmark, judge_item
from agents.models import judge_role
from agents.recorded_llm import LLMCallFailed
from replay.quality.run_media import media_cache_dir, media_files
from store.events import (
    BenchmarkItem,
    BenchmarkJudged,
    Envelope,
    ItemJudged,
    JudgeRequested,
    JudgingFailed,
    Payload,
    Subtask,
)
from store.quality import BenchmarkJudgement, ItemJudgement
from tools.llm.clients import parse_model_spec


def subtask_of(item: BenchmarkItem, subtasks: list[Subtask]) -> Subtask:
    found = next((s for s in subtasks if s.name == item.subtask), None)
    return found or Subtask(name=item.subtask, description="", capability="",
                            answer_format="any")


def same_model(a: str, b: str) -> bool:
    """Whether two specs name one model (wherever it is served)."""
    try:
        return parse_model_spec(a).identity == parse_model_spec(b).identity
    except ValueError:
        return a == b


class BenchmarkJudge:
    """The judge's handler, mixed into an agent class (`agents.evaluator.EvaluatorAgent`)."""

    @on(JudgeRequested)
    async def judge(self, event: Envelope[JudgeRequested], ctx: AgentContext) -> None:
        state = await ctx.state()
        pub = state.publication.payload
        if pub is None or state.judgements.finished(event.event_id):
            return
        p = event.payload
        request = state.request.payload
        published = {sid: state.samples.realized[sid].payload.item for sid in pub.sample_ids
                     if sid in state.samples.realized}
        subtasks = state.subtasks()
        wanted = [sid for sid in p.sample_ids if sid in published]
        media_dir = media_cache_dir()
        shown = {m for sid in wanted for m in published[sid].media} if p.vision else set()
        if shown:
            await media_files(state, shown, media_dir, ctx.blobs)
        llm = ctx.llm(judge_role(p.judge))
        self_judged = same_model(p.judge, request.llm)

        async def one(sid: str) -> ItemJudgement | str:
            item = published[sid]
            try:
                return await judge_item(llm, request.requirement, subtask_of(item, subtasks),
                                        sid, item, judge=p.judge, vision=p.vision,
                                        media_dir=media_dir, cause=event)
            except LLMCallFailed as exc:
                return str(exc)

        async def benchmark() -> BenchmarkJudgement | str:
            try:
                return await judge_benchmark(llm, request.requirement, subtasks, published,
                                             judge=p.judge, cause=event)
            except LLMCallFailed as exc:
                return f"the benchmark-level (UIA) judgement: {exc}"

        # The UIA call goes with the items: it needs none of their answers.
        *answers, uia = await asyncio.gather(*(one(s) for s in wanted), benchmark())
        results = dict(zip(wanted, answers, strict=True))
        judged = {s: r for s, r in results.items() if isinstance(r, ItemJudgement)}
        unjudged = {s: r for s, r in results.items() if isinstance(r, str)}
        failure = uia if isinstance(uia, str) else None
        if wanted and not judged:
            failure = f"no item could be judged: {next(iter(unjudged.values()))}"
        if failure is not None or not isinstance(uia, BenchmarkJudgement):
            await ctx.emit(JudgingFailed(reason=failure or "no UIA"), cause=event,
                           key="failed")
            return
        batch: list[tuple[Payload, str]] = [
            (ItemJudged(sample_id=s, scores=j.scores, judge=j.judge,
                        unseen_media=list(j.unseen_media), self_judged=self_judged), s)
            for s, j in judged.items()
        ]
        batch.append((BenchmarkJudged(uia=uia.uia, judge=p.judge, builder=request.llm,
                                      self_judged=self_judged, items_judged=len(judged),
                                      items_shown=uia.items_shown, unjudged=unjudged),
                       "benchmark"))
        await ctx.emit_many(batch, cause=event)
