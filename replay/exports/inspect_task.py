"""`--format inspect`: an Inspect AI `task.py` with one task per subtask, its data and media.

Each subtask's items are `data/<config>.jsonl`, read with `json_dataset` and a `FieldSpec`
(or, for a subtask with images or audio, a record-to-sample function that puts them in the
user message as `ContentImage`/`ContentAudio`). Solver and scorer follow the items:
`multiple_choice()` + `choice()` for items with options, `generate()` + `match()` for short
answers, `model_graded_qa()` for open-ended ones, and for generated items a scorer that calls
benchagent's own (`agents.scoring.score_answer`: the generator re-creates the instance from
its seed and scores the answer). A subtask mixing kinds dispatches item by item. Metrics:
accuracy grouped by subtask, and its standard error.

Run: `inspect eval DIR/task.py --model MODEL` (all subtasks) or `DIR/task.py@CONFIG`.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence

from replay.exports.facts import RunFacts
from replay.exports.items import ExportItem, by_subtask, check_media, jsonl, read_items

_HEADER = '''"""Inspect AI tasks of a benchagent benchmark: one task per subtask.

Requirement: {requirement}
Exported from run {run_id} (log head at publication {head_hash}).
Run every task: `inspect eval task.py --model MODEL`; one task: `inspect eval task.py@NAME`.
Generated items are scored by benchagent's own scorer: benchagent must be importable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import Dataset, FieldSpec, Sample, json_dataset
from inspect_ai.model import ChatMessageUser, Content, ContentAudio, ContentImage, ContentText
from inspect_ai.scorer import (
    Score,
    Scorer,
    Target,
    accuracy,
    choice,
    grouped,
    match,
    model_graded_qa,
    scorer,
    stderr,
)
from inspect_ai.solver import Generate, Solver, TaskState, generate, multiple_choice, solver

HERE = Path(__file__).resolve().parent
FIELDS = FieldSpec(input="input", target="target", choices="choices", id="id",
                   metadata=["subtask", "kind", "item"])
AUDIO_FORMATS = {{".wav": "wav", ".mp3": "mp3"}}


def with_media(record: dict[str, Any]) -> Sample:
    """A sample whose user message carries the item's images and audio after its text."""
    content: list[Content] = [ContentText(text=record["input"])]
    for name in record["item"]["media"]:
        path = HERE / name
        audio_format = AUDIO_FORMATS.get(path.suffix.lower())
        if audio_format is not None:
            content.append(ContentAudio(audio=str(path), format=audio_format))  # type: ignore[arg-type]
        else:
            content.append(ContentImage(image=str(path)))
    return Sample(id=record["id"], input=[ChatMessageUser(content=content)],
                  target=record["target"], choices=record.get("choices"),
                  metadata={{key: record[key] for key in ("subtask", "kind", "item")}})


def dataset(config: str, media: bool) -> Dataset:
    return json_dataset(str(HERE / "data" / f"{{config}}.jsonl"), with_media if media else FIELDS)


@scorer(metrics=[accuracy(), stderr()])
def benchagent_score() -> Scorer:
    """benchagent's own scorer (agents.scoring.score_answer), for generated items."""

    async def score(state: TaskState, target: Target) -> Score:
        import msgspec
        from agents.scoring import score_answer
        from store.events import BenchmarkItem, GeneratedBy

        item = msgspec.convert(state.metadata["item"], BenchmarkItem)
        meta = item.metadata  # a generated item names its generator, version, seed and params
        source = GeneratedBy(name=str(meta["generator"]), version=str(meta["generator_version"]),
                             seed=int(meta["seed"]), params=dict(meta.get("params") or {{}}))
        value, name, detail = score_answer(item, state.output.completion, source)
        return Score(value=value, answer=state.output.completion, explanation=name,
                     metadata=detail)

    return score


SCORERS = {{"choice": choice, "short": match, "open": model_graded_qa,
           "generated": benchagent_score}}


@scorer(metrics=[accuracy(), stderr()])
def by_kind() -> Scorer:
    """For a subtask that mixes kinds of items: each item's own scorer."""
    scorers = {{kind: make() for kind, make in SCORERS.items()}}

    async def score(state: TaskState, target: Target) -> Score:
        return await scorers[state.metadata["kind"]](state, target)  # type: ignore[no-any-return]

    return score


@solver
def by_options() -> Solver:
    """For a subtask where only some items have options: multiple_choice() for those."""
    with_options, without = multiple_choice(), generate()

    async def solve(state: TaskState, generate_: Generate) -> TaskState:
        return await (with_options if state.choices else without)(state, generate_)

    return solve


def subtask_task(config: str, *, kinds: list[str], options: str, media: bool) -> Task:
    solvers = {{"all": multiple_choice, "none": generate, "some": by_options}}
    return Task(
        dataset=dataset(config, media),
        solver=solvers[options](),
        scorer=SCORERS[kinds[0]]() if len(kinds) == 1 else by_kind(),
        metrics=[grouped(accuracy(), "subtask"), stderr()],
        name=config,
    )
'''

_TASK = '''

@task(name={config!r})
def {function}() -> Task:
    """{doc}"""
    return subtask_task({config!r}, kinds={kinds!r}, options={options!r}, media={media!r})
'''


def _function_name(config: str) -> str:
    """The task's function name: the config, unless task.py already uses that name."""
    taken = keyword.iskeyword(config) or re.search(rf"\b{re.escape(config)}\b", _HEADER)
    return f"{config}_task" if taken else config


def _docstring(text: str) -> str:
    return " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"')


def _record(item: ExportItem) -> dict[str, object]:
    target: str | list[str] = item.target
    if item.kind in ("short", "open") and len(item.answers) > 1:
        target = item.answers
    return {"id": item.id, "input": item.input, "choices": item.choices, "target": target,
            "subtask": item.subtask, "kind": item.kind,
            "item": {"id": item.id, "subtask": item.subtask, "input": item.input,
                     "choices": item.choices, "target": item.target, "media": item.media,
                     "metadata": item.metadata}}


def _options(group: Sequence[ExportItem]) -> str:
    with_choices = sum(1 for item in group if item.choices)
    return "all" if with_choices == len(group) else "none" if with_choices == 0 else "some"


def write(files: Mapping[str, bytes], facts: RunFacts) -> dict[str, bytes]:
    items = read_items(files)
    check_media(items, files)
    described = {s.name: s for s in facts.subtasks}
    out: dict[str, bytes] = {}
    code = _HEADER.format(requirement=_docstring(facts.requirement), run_id=facts.run_id,
                          head_hash=facts.head_hash)
    names = []
    for subtask, config, group in by_subtask(items, [s.name for s in facts.subtasks]):
        out[f"data/{config}.jsonl"] = jsonl(_record(item) for item in group)
        for item in group:
            for name in item.media:
                out[name] = files[name]
        info = described.get(subtask)
        doc = f"{subtask}: {info.description}" if info and info.description else subtask
        code += _TASK.format(config=config, function=_function_name(config), doc=_docstring(doc),
                             kinds=sorted({item.kind for item in group}),
                             options=_options(group), media=any(item.media for item in group))
        names.append((config, subtask, len(group)))
    out["task.py"] = code.encode()
    readme = ["# Inspect AI tasks", "", f"Requirement: {facts.requirement}", "",
              "    inspect eval task.py --model MODEL            # every subtask",
              "    inspect eval task.py@NAME --model MODEL       # one subtask", "",
              "| task | subtask | items |", "|---|---|---|"]
    readme += [f"| `{c}` | {s} | {n} |" for c, s, n in names]
    readme += ["", f"Run `{facts.run_id}`, log head at publication `{facts.head_hash}`.", ""]
    out["README.md"] = "\n".join(readme).encode()
    return dict(sorted(out.items()))
