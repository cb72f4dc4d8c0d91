"""`benchagent export --format inspect`, run by the real Inspect AI with its mockllm/model.

The mock model answers from a script (right for every other item, wrong for the rest), so the
solvers, scorers (choice, match, benchagent's own for generated items) and the metrics grouped
by subtask are checked against known accuracies. The script sets token usage itself: mockllm
otherwise estimates it with tiktoken's o200k_base file, which it downloads on first use.
"""

from __future__ import annotations

import base64
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("inspect_ai")

from inspect_ai import eval as inspect_eval  # noqa: E402
from inspect_ai.model import (  # noqa: E402
    ContentAudio,
    ContentImage,
    ModelOutput,
    ModelUsage,
    get_model,
)


def exported_items(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted((folder / "data").glob("*.jsonl"))
            for line in path.read_text().splitlines()]


class ScriptedAnswers:
    """mockllm's custom outputs: right for even-numbered items, wrong for odd ones."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.items = exported_items(folder)
        self.right = {item["id"]: n % 2 == 0 for n, item in enumerate(self.items)}
        self.media: dict[str, list[bytes]] = {}

    def __call__(self, messages: list, tools: Any, tool_choice: Any, config: Any) -> ModelOutput:
        text = "\n".join(m.text for m in messages)
        sent = []
        for message in messages:
            for part in message.content if isinstance(message.content, list) else []:
                ref = part.image if isinstance(part, ContentImage) else (
                    part.audio if isinstance(part, ContentAudio) else None)
                if ref is not None:
                    sent.append(base64.b64decode(ref.split(",", 1)[1]) if ref.startswith("data:")
                                else Path(ref).read_bytes())
        # Several items may share a question (what brand is this car?): their media differ.
        (item,) = [i for i in self.items if i["input"] in text and sent == [
            (self.folder / m).read_bytes() for m in i["item"]["media"]]]
        self.media[item["id"]] = sent
        if item["choices"]:
            letters = [chr(ord("A") + i) for i in range(len(item["choices"]))]
            target = item["item"]["target"]
            said = target if self.right[item["id"]] else next(x for x in letters if x != target)
            content = f"ANSWER: {said}"
        else:
            content = item["item"]["target"] if self.right[item["id"]] else "no idea"
        output = ModelOutput.from_content(model="mockllm", content=content)
        output.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return output


def run_inspect(folder: Path, answers: ScriptedAnswers, log_dir: Path) -> list:
    # As `inspect eval DIR/task.py`, from the folder above (Inspect takes the path relative).
    cwd = Path.cwd()
    os.chdir(folder.parent)
    try:
        return inspect_eval(f"{folder.name}/task.py", model=get_model(
            "mockllm/model", custom_outputs=answers), log_dir=str(log_dir), display="none")
    finally:
        os.chdir(cwd)


def test_every_subtask_runs_and_scores_as_scripted(exported, tmp_path: Path) -> None:
    folder = exported.dirs["inspect"]
    answers = ScriptedAnswers(folder)
    items = answers.items
    logs = run_inspect(folder, answers, tmp_path / "logs")
    by_subtask: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_subtask[item["subtask"]].append(item)
    assert len(logs) == len(by_subtask)
    for log in logs:
        assert log.status == "success", log.error
        (subtask,) = {s.metadata["subtask"] for s in log.samples}
        expected = by_subtask[subtask]
        assert sorted(s.id for s in log.samples) == sorted(i["id"] for i in expected)
        (score,) = log.results.scores
        want = sum(answers.right[i["id"]] for i in expected) / len(expected)
        assert score.metrics[subtask].value == pytest.approx(want), (subtask, score.metrics)
        kinds = {i["kind"] for i in expected}
        assert score.name == ({"choice": "choice", "short": "match",
                               "generated": "benchagent_score"}[kinds.pop()]
                              if len(kinds) == 1 else "by_kind")


def test_images_and_audio_reach_the_model_byte_identical(media_run, text_run,
                                                         tmp_path: Path) -> None:
    sent = 0
    for run in (media_run, text_run):
        folder = run.dirs["inspect"]
        answers = ScriptedAnswers(folder)
        logs = run_inspect(folder, answers, tmp_path / run.run_id)
        assert all(log.status == "success" for log in logs)
        for item in answers.items:
            media = item["item"]["media"]
            assert answers.media[item["id"]] == [(run.published / m).read_bytes() for m in media]
            sent += len(media)
    wavs = [m for i in exported_items(media_run.dirs["inspect"]) for m in i["item"]["media"]
            if m.endswith(".wav")]
    assert wavs and sent >= 8 + len(wavs)


# mockllm estimates token counts with tiktoken's o200k_base file, downloaded on first use and
# not reachable here: the estimate is replaced by a character count, nothing else.
CLI = """
import sys
import inspect_ai.model._model as model
model.count_text_tokens = lambda text: max(1, len(text) // 4)
from inspect_ai._cli.main import main
sys.argv = ["inspect", *sys.argv[1:]]
main()
"""


def test_inspect_eval_command_runs_the_task_file(media_run, tmp_path: Path) -> None:
    import subprocess
    import sys

    from inspect_ai.log import list_eval_logs, read_eval_log

    folder = media_run.dirs["inspect"]
    logs = tmp_path / "logs"
    done = subprocess.run(
        [sys.executable, "-c", CLI, "eval", f"{folder.name}/task.py", "--model",
         "mockllm/model", "--log-dir", str(logs), "--display", "none"],
        cwd=folder.parent, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    results = [read_eval_log(info) for info in list_eval_logs(str(logs))]
    assert sorted(r.eval.task for r in results) == ["next_frame_prediction",
                                                     "spoken_dialogue_understanding"]
    for result in results:
        assert result.status == "success"
        assert result.results is not None and result.results.total_samples == 2
