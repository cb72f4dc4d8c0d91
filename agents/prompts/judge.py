"""LLM-as-Judge prompts: the Benchmark Agent paper's quality protocol (§4.1, App. A.2).

One benchmark-level metric, User-Intention Alignment (UIA), and five item-level metrics:
Format & Schema Quality (FSQ), Question-Answer Coherence (QAC), Context-Question
Correspondence (CQC), Target Signal Dependency (TSD) and Skill-Specific Challenge (SSC), each
1-5. The paper gives anchors for 1, 3 and 5 only in a figure we do not have; the anchors
below are written from its definitions and its attribution principles (2 and 4 are the
intermediate cases, as there).

Every metric's reason comes *before* its score in the schema: constrained decoding emits
fields in schema order, so the judge reasons before it commits to a number. Reasons are
short (`REASON_CHARS`): the local models decode under a grammar whose size grows with string
bounds, and a one-sentence reason is what a report can show.

The item is shown as the evaluated model sees it (the Evaluator's own prompt), plus its label.
A vision-capable judge gets the item's images as image content parts; every medium it cannot
see (all of them for a text-only judge; audio and video for any judge) is named, and the
caller records the list.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from agents.prompts.common import clip, facts_block, obj, text
from agents.prompts.evaluator import answer_messages, letter
from store.events import BenchmarkItem, Subtask
from store.quality import ITEM_METRICS, ItemMetric, Metric

ITEM = "judge.item"
BENCHMARK = "judge.benchmark"
REASON_CHARS = 160
UIA_REASON_CHARS = 300
UIA_EXAMPLE_ITEMS = 8  # items shown to the benchmark-level judge as examples
_INPUT_CHARS = 2000  # an item's text as shown to the judge (sources can be long)

NAMES: dict[Metric, str] = {
    "uia": "User-Intention Alignment",
    "fsq": "Format & Schema Quality",
    "qac": "Question-Answer Coherence",
    "cqc": "Context-Question Correspondence",
    "tsd": "Target Signal Dependency",
    "ssc": "Skill-Specific Challenge",
}

DEFINITIONS: dict[Metric, str] = {
    "uia": "how well the benchmark as a whole (its subtasks and items, taken together) tests "
           "what the user's requirement asks",
    "fsq": "format and answer-schema correctness of the item",
    "qac": "semantic consistency between the question and its labelled answer",
    "cqc": "whether the question is grounded in, and its answer supported by, the provided "
           "context or media",
    "tsd": "whether answering relies on the intended capability or modality signal rather "
           "than a shortcut",
    "ssc": "the depth of target-skill reasoning the item demands",
}

ANCHORS: dict[Metric, dict[int, str]] = {
    "uia": {
        1: "The subtasks and items test something other than the requirement: its core "
           "capability is missing or reduced to generic questions.",
        3: "The main capability is tested, but part of the requirement is missing, a subtask "
           "drifts from it, or many items test it only superficially.",
        5: "The subtasks together cover every capability the requirement names, in the "
           "setting and modality it asks for, and the items exercise them as intended.",
    },
    "fsq": {
        1: "Malformed: the question is missing or garbled, the answer is empty or not in the "
           "declared format (e.g. a multiple-choice label that is not one of the options), "
           "or options are duplicated.",
        3: "Usable, with format defects: inconsistent options, leftover template text, or an "
           "answer that needs normalising to match the format.",
        5: "Well-formed: question, options and answer follow the declared answer format "
           "exactly, with one unambiguous answer slot.",
    },
    "qac": {
        1: "The labelled answer does not answer the question asked: it is wrong, answers a "
           "different question, or contradicts it.",
        3: "The labelled answer is defensible but partial or imprecise, or another option is "
           "nearly as correct.",
        5: "The labelled answer is exactly the correct answer to the question as asked, and "
           "no other answer or option is also correct.",
    },
    "cqc": {
        1: "The evidence needed is missing, broken or contradicts the pair: the answer cannot "
           "be derived from the given context or media.",
        3: "Partly supported: some evidence is there, but a step rests on ambiguous, "
           "incomplete or unverifiable context.",
        5: "Everything needed is in the given context or media, and it supports the labelled "
           "answer unambiguously.",
    },
    "tsd": {
        1: "Answerable without the intended signal: from the question wording alone, by "
           "eliminating options, from general knowledge, or by another shortcut.",
        3: "The intended signal helps, but a partial shortcut exists (some options can be "
           "ruled out, or the answer guessed, without it).",
        5: "Cannot be answered without applying the intended capability to the given signal "
           "(e.g. really reading the image, the audio or the passage).",
    },
    "ssc": {
        1: "Trivial for the target skill: one lookup or recognition step, or solvable by a "
           "shortcut.",
        3: "Moderate: the target skill is applied, with a step or two of reasoning.",
        5: "Demands deep, multi-step reasoning in the target skill, with all the difficulty "
           "coming from the skill itself.",
    },
}

PRINCIPLES = (
    "Attribute each problem to the single most relevant metric. Schema or formatting "
    "problems are FSQ. A mismatch between the question and its labelled answer is QAC. A "
    "coherent question-answer pair that the provided context or media do not support is "
    "CQC, not QAC. An item that is valid and well grounded but too easy or solvable by a "
    "shortcut may still get high FSQ, QAC and CQC, but gets lower TSD or SSC. Difficulty "
    "caused by missing, ambiguous or broken evidence is not a valid challenge: it lowers "
    "CQC and never raises SSC."
)

_SYSTEM = (
    "You are an expert judge of benchmark quality. You score on a 1-5 scale, where 1 means "
    "severe quality issues and 5 means high quality; 2 and 4 are the cases between the "
    "anchors. For each metric, write a one-sentence reason first, then its score. Answer "
    "with JSON only."
)


def _score() -> dict[str, Any]:
    return {"type": "integer", "minimum": 1, "maximum": 5}


def _item_properties() -> dict[str, Any]:
    props: dict[str, Any] = {}
    for metric in ITEM_METRICS:  # reason before score, metric by metric
        props[f"{metric}_reason"] = text(REASON_CHARS)
        props[metric] = _score()
    return props


ITEM_SCHEMA = obj(_item_properties(), title=ITEM)
BENCHMARK_SCHEMA = obj({"uia_reason": text(UIA_REASON_CHARS), "uia": _score()}, title=BENCHMARK)


class JudgePrompt(msgspec.Struct, frozen=True, kw_only=True):
    """The messages for one judge request, and the media named to the judge as unseen."""

    messages: list[dict[str, Any]]
    unseen_media: list[str] = []


def rubric(metrics: Sequence[Metric]) -> str:
    """The metrics' definitions and anchors, as the judge reads them."""
    lines = []
    for m in metrics:
        lines.append(f"{m.upper()} ({NAMES[m]}): {DEFINITIONS[m]}.")
        lines.extend(f"  {k} = {ANCHORS[m][k]}" for k in (1, 3, 5))
    return "\n".join(lines)


def is_image(name: str) -> bool:
    mime, _ = mimetypes.guess_type(name)
    return bool(mime and mime.startswith("image/"))


def item_prompt(
    requirement: str, subtask: Subtask, item: BenchmarkItem, *, vision: bool, media_dir: Path,
) -> JudgePrompt:
    """The item judge's request for `item`.

    `vision`: the judge model accepts images, so the item's images are attached as
    `{"type": "image", "path": media_dir / name}` parts (the request key of a recorded call
    includes the path: pass a directory that stays the same between judging runs). Other
    media, and all media when `vision` is false, are listed as unseen.
    """
    seen = [m for m in item.media if vision and is_image(m)]
    unseen = [m for m in item.media if m not in seen]
    shown = answer_messages(clip(item.input, _INPUT_CHARS), item.choices, item.media)[-1]
    label = labelled_answer(item)
    facts: dict[str, Any] = {
        "requirement": requirement,
        "subtask": {"name": subtask.name, "description": subtask.description,
                    "capability": subtask.capability, "answer_format": subtask.answer_format},
        "labelled_answer": label,
    }
    if unseen:
        facts["media_you_cannot_see"] = unseen
    body = (
        "Judge this benchmark item.\n\n"
        f"{rubric(ITEM_METRICS)}\n\n{PRINCIPLES}\n\n"
        "The evaluated model is shown exactly this:\n"
        f"<<<\n{shown['content']}\n>>>\n\n"
        + ("Its images are attached below, in the order they are listed.\n\n" if seen else "")
        + ("You cannot see the media listed under media_you_cannot_see: do not guess their "
           "content; judge from the text and say so in the reasons that depend on them.\n\n"
           if unseen else "")
        + facts_block(facts)
    )
    content: str | list[dict[str, Any]] = body
    if seen:
        content = [{"type": "text", "text": body},
                   *({"type": "image", "path": str(media_dir / m)} for m in seen)]
    return JudgePrompt(
        messages=[{"role": "system", "content": _SYSTEM}, {"role": "user", "content": content}],
        unseen_media=unseen,
    )


def benchmark_prompt(
    requirement: str, subtasks: Sequence[Subtask], items: Sequence[BenchmarkItem],
    counts: dict[str, int],
) -> JudgePrompt:
    """The benchmark judge's request: requirement, subtasks with their item counts, and up to
    `UIA_EXAMPLE_ITEMS` example items (text only: UIA is about what is tested, not media)."""
    examples = [
        {"subtask": it.subtask, "question": clip(it.input, 300),
         **({"options": it.choices} if it.choices else {}), "answer": clip(it.target, 100)}
        for it in items[:UIA_EXAMPLE_ITEMS]
    ]
    facts = {
        "requirement": requirement,
        "subtasks": [{"name": s.name, "description": s.description, "capability": s.capability,
                      "answer_format": s.answer_format, "items": counts.get(s.name, 0)}
                     for s in subtasks],
        "example_items": examples,
    }
    body = (
        "Judge whether this benchmark tests what the user's requirement asks.\n\n"
        f"{rubric(('uia',))}\n\n{facts_block(facts)}"
    )
    return JudgePrompt(messages=[{"role": "system", "content": _SYSTEM},
                                 {"role": "user", "content": body}])


def labelled_answer(item: BenchmarkItem) -> str:
    """The label as the judge reads it: for multiple choice, the letter and the option's text
    (targets are letters, as the Evaluator scores them)."""
    choices = item.choices or []
    target = item.target.strip()
    if len(target) == 1 and 0 <= ord(target.upper()) - ord("A") < len(choices):
        return f"{target.upper()}. {choices[ord(target.upper()) - ord('A')]}"
    if target in choices:
        return f"{letter(choices.index(target))}. {target}"
    return item.target


def item_metric_fields(metric: ItemMetric) -> tuple[str, str]:
    """(reason field, score field) of `metric` in `ITEM_SCHEMA`."""
    return f"{metric}_reason", metric
