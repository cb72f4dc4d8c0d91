"""The LLM-as-Judge: one item or the whole benchmark, scored by a recorded LLM.

The prompts and schemas are in `agents.prompts.judge`; the judgements are the value types
of `store.quality`. `judge_item` and `judge_benchmark` ask through the `agents.base.LLM`
protocol, so every attempt is an `LLMCallRecorded` event and judging again reuses the
recorded answers. `parse_item_answer` / `parse_benchmark_answer` are pure (the schema-valid
JSON of an answer in, Structs out) for callers that obtain answers another way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.base import LLM
from agents.prompts import judge as prompts
from store.events import BenchmarkItem, Envelope, Subtask
from store.quality import (
    ITEM_METRICS,
    BenchmarkJudgement,
    ItemJudgement,
    ItemScores,
    MetricScore,
)


class JudgeAnswerError(ValueError):
    """An answer that does not fit the judge's schema (the recorded LLM checks it first)."""


def _metric(answer: Mapping[str, Any], reason_field: str, score_field: str) -> MetricScore:
    score, reason = answer.get(score_field), answer.get(reason_field)
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise JudgeAnswerError(f"{score_field}: expected an integer 1-5, got {score!r}")
    if not isinstance(reason, str):
        raise JudgeAnswerError(f"{reason_field}: expected a string, got {reason!r}")
    return MetricScore(reason=reason.strip(), score=score)


def parse_item_answer(answer: Mapping[str, Any]) -> ItemScores:
    """`ITEM_SCHEMA` JSON → `ItemScores`; `JudgeAnswerError` naming the bad field."""
    return ItemScores(**{m: _metric(answer, *prompts.item_metric_fields(m))
                         for m in ITEM_METRICS})


def parse_benchmark_answer(answer: Mapping[str, Any]) -> MetricScore:
    """`BENCHMARK_SCHEMA` JSON → the UIA score."""
    return _metric(answer, "uia_reason", "uia")


async def judge_item(
    llm: LLM, requirement: str, subtask: Subtask, sample_id: str, item: BenchmarkItem, *,
    judge: str, vision: bool, media_dir: Path, cause: Envelope,
) -> ItemJudgement:
    """Score one item (FSQ, QAC, CQC, TSD, SSC). `judge` is the model as displayed."""
    prompt = prompts.item_prompt(requirement, subtask, item, vision=vision, media_dir=media_dir)
    answer = await llm.complete_json(prompts.ITEM, prompt.messages, prompts.ITEM_SCHEMA,
                                     cause=cause)
    return ItemJudgement(sample_id=sample_id, scores=parse_item_answer(answer), judge=judge,
                         unseen_media=prompt.unseen_media)


async def judge_benchmark(
    llm: LLM, requirement: str, subtasks: Sequence[Subtask],
    items: Mapping[str, BenchmarkItem], *, judge: str, cause: Envelope,
) -> BenchmarkJudgement:
    """Score the benchmark's User-Intention Alignment. `items`: sample id → item; the first
    `UIA_EXAMPLE_ITEMS` in round-robin order over subtasks are shown as examples."""
    shown = example_items(items, prompts.UIA_EXAMPLE_ITEMS)
    counts = Counter(it.subtask for it in items.values())
    prompt = prompts.benchmark_prompt(requirement, subtasks, [items[s] for s in shown],
                                      dict(counts))
    answer = await llm.complete_json(prompts.BENCHMARK, prompt.messages,
                                     prompts.BENCHMARK_SCHEMA, cause=cause)
    return BenchmarkJudgement(uia=parse_benchmark_answer(answer), judge=judge, items_shown=shown)


def example_items(items: Mapping[str, BenchmarkItem], k: int) -> list[str]:
    """Up to `k` sample ids, taken round-robin over subtasks in id order: every subtask is
    represented before any has two (deterministic: no RNG, same benchmark → same examples)."""
    by_subtask: dict[str, list[str]] = {}
    for sid in sorted(items):
        by_subtask.setdefault(items[sid].subtask, []).append(sid)
    queues = [by_subtask[s] for s in sorted(by_subtask)]
    out: list[str] = []
    depth = 0
    while len(out) < k and any(depth < len(q) for q in queues):
        out.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return out[:k]
