"""`--format lm-eval`: lm-evaluation-harness tasks, one YAML per subtask and a group YAML.

Use with `lm_eval --include_path DIR --tasks <group> ...`. Each task reads
`data/<config>.jsonl` (`dataset_path: json`, `dataset_kwargs.data_files`, `test_split: test`).
lm-eval resolves `data_files` against the working directory, not the YAML's folder, so each
task also names `custom_dataset: !function loader.load`, which loads the same files relative
to the export folder: the folder works from anywhere and can be moved.

A subtask whose items all have options is `output_type: multiple_choice` (the options are
listed in the prompt, `doc_to_choice` are their letters, scored by `acc`); any other is
`generate_until` scored by `exact_match` against every accepted answer (the letter for
items with options). Images and audio stay files under `media/`; tasks with them name
`doc_to_image`/`doc_to_audio` functions of `loader.py` for lm-eval's multimodal models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from replay.exports.facts import RunFacts
from replay.exports.items import (
    IMAGE_EXTENSIONS,
    ExportItem,
    by_subtask,
    check_media,
    jsonl,
    media_of,
    read_items,
    slug,
)

_LOADER = '''"""Data and media of this benchmark for lm-evaluation-harness, relative to this folder.

lm-eval resolves a task's `data_files` against the working directory; `load` resolves them
here, so `lm_eval --include_path THIS_FOLDER` works from anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
IMAGE_EXTENSIONS = {image_extensions!r}


def load(data_files: dict[str, str], **_metadata: Any) -> Any:
    """The task's splits (a DatasetDict) from its `dataset_kwargs.data_files`."""
    import datasets

    files = {{split: str(HERE / path) for split, path in data_files.items()}}
    return datasets.load_dataset("json", data_files=files)


def doc_to_image(doc: dict[str, Any]) -> list[Any]:
    """The item's images as PIL images (for lm-eval's multimodal models)."""
    from PIL import Image

    names = [n for n in doc["media"] if Path(n).suffix.lower() in IMAGE_EXTENSIONS]
    return [Image.open(HERE / name).convert("RGB") for name in names]


def doc_to_audio(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The item's WAV recordings as mono float arrays with their sampling rate."""
    import numpy as np
    from scipy.io import wavfile

    out = []
    for name in doc["media"]:
        if Path(name).suffix.lower() != ".wav":
            continue
        rate, data = wavfile.read(HERE / name)
        if data.dtype.kind in "iu":
            data = data / float(np.iinfo(data.dtype).max)
        if data.ndim > 1:
            data = data.mean(axis=1)
        out.append({{"array": data.astype("float32"), "sampling_rate": int(rate)}})
    return out
'''

_GEN_KWARGS = {"until": ["\n\n"], "do_sample": False, "temperature": 0.0, "max_gen_toks": 64}


def _prompt(item: ExportItem) -> str:
    text = item.input.strip()
    if item.choices:
        text += "\n\nOptions:\n" + "\n".join(f"{chr(ord('A') + i)}. {c}"
                                            for i, c in enumerate(item.choices))
    return text + "\nAnswer:"


def _doc(item: ExportItem) -> dict[str, Any]:
    letters = [chr(ord("A") + i) for i in range(len(item.choices or []))]
    return {"id": item.id, "subtask": item.subtask, "prompt": _prompt(item),
            "choices": item.choices, "letters": letters, "target_index": item.target_index,
            "target": item.target, "answers": item.answers, "media": item.media,
            "metadata": item.metadata}


def _multiple_choice(group: Sequence[ExportItem]) -> bool:
    return all(item.target_index is not None for item in group)


def _dump(doc: dict[str, Any], functions: Mapping[str, str]) -> bytes:
    """YAML with `!function` tags (which yaml.safe_dump cannot write) appended after."""
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    text += "".join(f"{key}: !function {value}\n" for key, value in functions.items())
    return text.encode()


def _task_yaml(name: str, config: str, group: Sequence[ExportItem], facts: RunFacts) -> bytes:
    doc: dict[str, Any] = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": f"data/{config}.jsonl"}},
        "test_split": "test",
    }
    if _multiple_choice(group):
        doc |= {"output_type": "multiple_choice", "doc_to_text": "prompt",
                "doc_to_choice": "letters", "doc_to_target": "target_index",
                "metric_list": [{"metric": "acc", "aggregation": "mean",
                                 "higher_is_better": True}]}
    else:
        doc |= {"output_type": "generate_until", "doc_to_text": "prompt",
                "doc_to_target": "answers", "generation_kwargs": _GEN_KWARGS,
                "metric_list": [{"metric": "exact_match", "aggregation": "mean",
                                 "higher_is_better": True, "ignore_case": True,
                                 "ignore_punctuation": True}]}
    doc["metadata"] = {"version": 1.0, "benchagent_run": facts.run_id,
                       "log_head": facts.head_hash}
    functions = {"custom_dataset": "loader.load"}
    if any(media_of(item, "image") for item in group):
        functions["doc_to_image"] = "loader.doc_to_image"
    if any(media_of(item, "audio") for item in group):
        functions["doc_to_audio"] = "loader.doc_to_audio"
    return _dump(doc, functions)


def group_name(facts: RunFacts) -> str:
    return f"benchagent_{slug(facts.run_id)}"


def write(files: Mapping[str, bytes], facts: RunFacts) -> dict[str, bytes]:
    items = read_items(files)
    check_media(items, files)
    group = group_name(facts)
    out: dict[str, bytes] = {}
    tasks: list[tuple[str, str, str, int]] = []
    metrics: list[str] = []
    for subtask, config, members in by_subtask(items, [s.name for s in facts.subtasks]):
        name = f"{group}_{config}"
        out[f"data/{config}.jsonl"] = jsonl(_doc(item) for item in members)
        out[f"{config}.yaml"] = _task_yaml(name, config, members, facts)
        for item in members:
            for media in item.media:
                out[media] = files[media]
        metric = "acc" if _multiple_choice(members) else "exact_match"
        metrics.append(metric)
        tasks.append((name, subtask, metric, len(members)))
    group_doc: dict[str, Any] = {"group": group, "task": [t[0] for t in tasks]}
    if metrics and len(set(metrics)) == 1:
        group_doc["aggregate_metric_list"] = [{"metric": metrics[0], "aggregation": "mean",
                                               "weight_by_size": True}]
    group_doc["metadata"] = {"version": 1.0, "benchagent_run": facts.run_id,
                             "log_head": facts.head_hash}
    out[f"_{group}.yaml"] = _dump(group_doc, {})
    out["loader.py"] = _LOADER.format(image_extensions=sorted(IMAGE_EXTENSIONS)).encode()
    readme = ["# lm-evaluation-harness tasks", "", f"Requirement: {facts.requirement}", "",
              f"    lm_eval --include_path THIS_FOLDER --tasks {group} --model MODEL ...", "",
              "| task | subtask | metric | items |", "|---|---|---|---|"]
    readme += [f"| `{n}` | {s} | {m} | {k} |" for n, s, m, k in tasks]
    readme += ["", "Generated items are scored here by exact match on their answer; "
               "benchagent's own scorer (Inspect export, `benchagent eval`) re-creates each "
               "instance from its generator.", "",
               f"Run `{facts.run_id}`, log head at publication `{facts.head_hash}`.", ""]
    out["README.md"] = "\n".join(readme).encode()
    return dict(sorted(out.items()))
