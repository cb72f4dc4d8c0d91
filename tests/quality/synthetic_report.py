"""A synthetic but complete quality report input, for the report tests and perf/report_bench.py.

Three subtasks (one of generated items with a complexity score), real PNG images and WAV
audio, three models of increasing ability, judge scores, human reviews on a sample, and
rejected samples. Deterministic for a given seed.
"""

from __future__ import annotations

import io
import wave

import numpy as np
from PIL import Image, ImageDraw

from replay.quality.report_model import ModelAnswer, ReportInputs, ReportItem, SourceSummary
from store.events import BenchmarkItem, Subtask
from store.quality import (
    BenchmarkJudgement,
    HumanMarks,
    HumanReview,
    ItemJudgement,
    ItemScores,
    MetricScore,
)

MODELS = ["local:tiny", "local:small", "local:large"]
SUBTASKS = [
    Subtask(name="Chart reading", description="read a value off a bar chart",
            capability="visual quantitative reasoning", answer_format="multiple_choice"),
    Subtask(name="Speaker intent", description="infer what a speaker wants",
            capability="spoken dialogue understanding", answer_format="short_answer"),
    Subtask(name="Calendar scheduling", description="find a common meeting slot",
            capability="constraint satisfaction", answer_format="short_answer"),
]


def png(seed: int, size: tuple[int, int] = (96, 64)) -> bytes:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(img)
    for k in range(4):
        h = int(rng.integers(8, size[1] - 4))
        x = 8 + k * 21
        draw.rectangle([x, size[1] - h, x + 14, size[1] - 1],
                       fill=tuple(int(c) for c in rng.integers(0, 200, 3)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def wav(seed: int, seconds: float = 0.4, rate: int = 8000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * (300 + 20 * (seed % 10)) * t)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((tone * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def _accepted(items: list[ReportItem], source: str) -> int:
    return sum(1 for it in items if it.source == source and it.status == "accepted")


def _score(v: int, text: str) -> MetricScore:
    return MetricScore(reason=text, score=int(v))


def synthetic_inputs(n_items: int = 60, *, seed: int = 0, reviewed: int = 40,
                     rejected_every: int = 7) -> ReportInputs:
    rng = np.random.default_rng(seed)
    ability = {"local:tiny": 0.35, "local:small": 0.55, "local:large": 0.8}
    items: list[ReportItem] = []
    media: dict[str, bytes] = {}
    rejections: dict[str, int] = {}
    for i in range(n_items):
        sub = SUBTASKS[i % 3]
        sid = f"{sub.name.split()[0].lower()}-{i:05d}-a1"
        names: list[str] = []
        metadata: dict[str, object] = {"source_dataset": f"d{i % 3}"}
        complexity = float(rng.uniform(0, 1))
        if i % 3 == 0:
            names = [f"media/chart-{i:05d}.png"]
            media[names[0]] = png(seed * 100_000 + i)
            item = BenchmarkItem(id=sid, subtask=sub.name, input=f"Which bar is tallest? ({i})",
                                 choices=["first", "second", "third", "fourth"],
                                 target="ABCD"[i % 4], media=names, metadata=metadata)
        elif i % 3 == 1:
            names = [f"media/dialogue-{i:05d}.wav"]
            media[names[0]] = wav(i)
            item = BenchmarkItem(id=sid, subtask=sub.name, input=f"What does the caller want? "
                                 f"<listen> & answer ({i})", target="a refund",
                                 media=names, metadata=metadata)
        else:
            metadata = {"generator": "calendar", "seed": i, "complexity": complexity}
            item = BenchmarkItem(id=sid, subtask=sub.name,
                                 input=f"Find the earliest common 30-minute slot ({i}).",
                                 target="Tue 10:00-10:30", metadata=metadata)
        if rejected_every and i % rejected_every == rejected_every - 1:
            check = ["answerable", "answer_matches", "format"][i % 3]
            rejections[check] = rejections.get(check, 0) + 1
            items.append(ReportItem(sample_id=sid, item=item, status="rejected",
                                    rejected_by=check, rejection_reason=f"{check} failed on {i}",
                                    source=str(metadata.get("source_dataset", "calendar"))))
            continue
        difficulty = complexity if "generator" in metadata else float(rng.uniform(0, 1))
        answers = []
        for m in MODELS:
            p = float(np.clip(ability[m] + 0.4 * (0.5 - difficulty), 0.02, 0.98))
            right = bool(rng.random() < p)
            answers.append(ModelAnswer(model=m, answer=item.target if right else "no idea",
                                       score=1.0 if right else 0.0, scorer="exact_match"))
        good = rng.integers(2, 6, size=5)
        judgement = ItemJudgement(
            sample_id=sid, judge="local:judge",
            unseen_media=[n for n in names if n.endswith(".wav")],
            scores=ItemScores(**{m: _score(v, f"{m} looks fine for item {i}")
                                 for m, v in zip(("fsq", "qac", "cqc", "tsd", "ssc"), good,
                                                 strict=True)}))
        review = None
        if len(items) < reviewed:
            marks = [int(v) for v in np.clip(good[[1, 0, 2, 3]] + rng.integers(-1, 2, 4), 1, 5)]
            review = HumanReview(sample_id=sid, marks=HumanMarks(
                correct=marks[0], clear=marks[1], answerable=marks[2], relevant=marks[3]))
        items.append(ReportItem(sample_id=sid, item=item, judgement=judgement, review=review,
                                answers=answers,
                                source=str(metadata.get("source_dataset", "calendar"))))
    return ReportInputs(
        run_id=f"synthetic-{seed}", requirement="Evaluate charts, speech & schedules <fairly>.",
        builder="local:judge", subtasks=SUBTASKS, items=items, media=media,
        sources=[SourceSummary(dataset_id="d0", name="Bar charts", subtasks=["Chart reading"],
                               items=_accepted(items, "d0")),
                 SourceSummary(dataset_id="d1", name="Call centre", subtasks=["Speaker intent"],
                               items=_accepted(items, "d1")),
                 SourceSummary(dataset_id="generator:calendar", name="calendar generator",
                               subtasks=["Calendar scheduling"],
                               items=_accepted(items, "calendar"))],
        rejections=rejections,
        benchmark_judgement=BenchmarkJudgement(
            uia=_score(4, "covers charts, speech and scheduling"), judge="local:judge",
            items_shown=[it.sample_id for it in items[:8]]),
        expected_order=list(MODELS), seed=seed,
    )
