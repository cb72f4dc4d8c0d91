"""`benchagent export --format lm-eval`, loaded by lm-evaluation-harness's own TaskManager and
evaluated by `lm_eval.simple_evaluate` with a scripted model (right for every other item), so
prompts, choices, targets, metrics and the media handed to a multimodal model are checked."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("lm_eval")

import lm_eval  # noqa: E402
from lm_eval.api.model import LM  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402
from PIL import Image  # noqa: E402
from scipy.io import wavfile  # noqa: E402

from replay.exports.items import media_kind  # noqa: E402


def group_of(folder: Path) -> str:
    (group_file,) = folder.glob("_*.yaml")
    return group_file.stem.removeprefix("_")


def published_items(run) -> dict[str, dict[str, Any]]:
    lines = (run.published / "benchmark.jsonl").read_text().splitlines()
    return {item["id"]: item for item in map(json.loads, lines)}


class ScriptedLM(LM):
    """Answers right for even-numbered items (by sorted id), wrong for the others; keeps the
    images and audio lm-eval hands it."""

    MULTIMODAL = True

    def __init__(self, item_ids: list[str]) -> None:
        super().__init__()
        self.right = {item_id: n % 2 == 0 for n, item_id in enumerate(sorted(item_ids))}
        self.media: dict[str, dict[str, Any]] = {}

    def _keep_media(self, request: Any) -> None:
        if len(request.args) > 2:
            self.media[request.doc["id"]] = request.args[2]

    def loglikelihood(self, requests: list) -> list[tuple[float, bool]]:
        out = []
        for request in requests:
            self._keep_media(request)
            doc, continuation = request.doc, request.args[1].strip()
            correct = doc["letters"][doc["target_index"]]
            favoured = correct if self.right[doc["id"]] else next(
                x for x in doc["letters"] if x != correct)
            out.append((0.0 if continuation == favoured else -5.0, continuation == favoured))
        return out

    def generate_until(self, requests: list) -> list[str]:
        for request in requests:
            self._keep_media(request)
        return [r.doc["answers"][0] if self.right[r.doc["id"]] else "no idea" for r in requests]

    def loglikelihood_rolling(self, requests: list) -> list[float]:
        raise AssertionError("no task of an export asks for rolling loglikelihoods")


def test_task_manager_loads_every_subtask(exported) -> None:
    folder = exported.dirs["lm-eval"]
    items = published_items(exported)
    manager = TaskManager(include_path=str(folder), include_defaults=False)
    group = group_of(folder)
    loaded = manager.load([group])
    tasks = loaded["tasks"]
    assert set(loaded["group_map"][group]) == set(tasks)
    assert len(tasks) == len({i["subtask"] for i in items.values()})
    seen = set()
    for task in tasks.values():
        docs = list(task.test_docs())
        for doc in docs:
            item = items[doc["id"]]
            seen.add(doc["id"])
            assert item["input"] in task.doc_to_text(doc)
            if task.OUTPUT_TYPE == "multiple_choice":
                letters = task.doc_to_choice(doc)
                assert len(letters) == len(item["choices"])
                assert letters[task.doc_to_target(doc)] == item["target"]
                for letter, option in zip(letters, item["choices"], strict=True):
                    assert f"{letter}. {option}" in task.doc_to_text(doc)
            else:
                assert task.OUTPUT_TYPE == "generate_until"
                assert task.doc_to_target(doc)[0] == item["target"]
        task.build_all_requests(limit=None, rank=0, world_size=1)
        per_doc = [len(doc["letters"]) if task.OUTPUT_TYPE == "multiple_choice" else 1
                   for doc in docs]
        assert len(task.instances) == sum(per_doc)
    assert seen == items.keys()


def test_scripted_model_scores_as_expected_and_gets_the_media(exported, tmp_path: Path) -> None:
    folder = exported.dirs["lm-eval"]
    items = published_items(exported)
    model = ScriptedLM(list(items))
    cwd = Path.cwd()
    os.chdir(tmp_path)  # the tasks' data load relative to their folder, not the working dir
    try:
        manager = TaskManager(include_path=str(folder), include_defaults=False)
        results = lm_eval.simple_evaluate(model=model, tasks=[group_of(folder)],
                                          task_manager=manager)
    finally:
        os.chdir(cwd)
    assert results is not None
    tasks = {name: r for name, r in results["results"].items() if name != group_of(folder)}
    assert len(tasks) == len({i["subtask"] for i in items.values()})
    docs_per_task = {name: sample for name, sample in results["n-samples"].items()}
    for name, result in tasks.items():
        metric = "acc,none" if "acc,none" in result else "exact_match,none"
        config = name.removeprefix(group_of(folder) + "_")
        data = (folder / "data" / f"{config}.jsonl").read_text().splitlines()
        subtask_items = [items[json.loads(line)["id"]] for line in data]
        assert docs_per_task[name]["effective"] == len(subtask_items)
        want = sum(model.right[i["id"]] for i in subtask_items) / len(subtask_items)
        assert result[metric] == pytest.approx(want), (name, result)

    # Images reach the model as the same pictures, audio as the same samples.
    for item in items.values():
        media = model.media.get(item["id"], {})
        images = [m for m in item["media"] if media_kind(m) == "image"]
        audio = [m for m in item["media"] if media_kind(m) == "audio"]
        assert len(media.get("visual", [])) == len(images)
        for got, name in zip(media.get("visual", []), images, strict=True):
            original = Image.open(exported.published / name).convert("RGB")
            assert np.array_equal(np.asarray(got), np.asarray(original))
        assert len(media.get("audio", [])) == len(audio)
        for got, name in zip(media.get("audio", []), audio, strict=True):
            rate, data = wavfile.read(exported.published / name)
            assert got["sampling_rate"] == rate and len(got["array"]) == len(data)
            scale = float(np.iinfo(data.dtype).max) if data.dtype.kind in "iu" else 1.0
            assert np.allclose(got["array"], data / scale, atol=1e-6)


def test_media_files_are_the_published_bytes(media_run, text_run) -> None:
    checked = 0
    for run in (media_run, text_run):
        folder = run.dirs["lm-eval"]
        for data in sorted((folder / "data").glob("*.jsonl")):
            for doc in map(json.loads, data.read_text().splitlines()):
                for name in doc["media"]:
                    assert (folder / name).read_bytes() == (run.published / name).read_bytes()
                    checked += 1
    assert checked >= 10
