"""Published runs to export in tests: built by `benchagent build` with a scripted model.

- `media`: generator items only (an empty file pool): causal_physics (eight PNG frames and
  options A-D) in one subtask, speech_dialogue (a WAV) in another (the other generators are
  filtered as off-target for both at grounding); evaluated by the scripted model.
- `text`: the General-Bench subset: two multiple-choice text subtasks and a short-answer
  subtask over resized car and object images; evaluated too.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "agents"))

import scripted_brain  # noqa: E402
from build_helpers import read_events, register_brains  # noqa: E402

from benchagent.cli import main  # noqa: E402
from store.events import Envelope  # noqa: E402
from tools.llm.scripted import register_responder  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
GENERAL_BENCH = Path(os.environ.get("BENCHAGENT_GENERAL_BENCH",
                                    REPO.parent / "shared/datasets/general-bench-subset/data"))
MEDIA_SUBTASKS = [
    {"name": "Next frame prediction",
     "description": "Predict the next frame of a physics simulation shown as images of moving "
                    "objects.",
     "capability": "visual causal reasoning about motion and collisions in images",
     "answer_format": "multiple_choice", "distinct_focus": "motion in images"},
    {"name": "Spoken dialogue understanding",
     "description": "Answer a question about a noisy spoken dialogue audio recording between "
                    "several speakers.",
     "capability": "speech understanding of spoken dialogue audio",
     "answer_format": "short_answer", "distinct_focus": "spoken dialogue"},
]
TEXT_REQUIREMENT = ("I want to evaluate whether a model can reason about causes and effects in "
                    "everyday events and recognise what an image shows")


class MediaBrain(scripted_brain.ScriptedBrain):
    """The scripted brain, designing one image subtask and one audio subtask."""

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"subtasks": [dict(s) for s in MEDIA_SUBTASKS], "reason": "one per modality"}


def build_run(home: Path, run_id: str) -> list[Envelope]:
    """Build the run `media` or `text` into `home`; its events."""
    register_brains()
    register_responder("media-brain", MediaBrain())
    if run_id == "media":
        pool = home / "empty-pool"
        (pool / "dataset_cards").mkdir(parents=True, exist_ok=True)
        argv = ["build", "I want to evaluate visual physics and spoken dialogue understanding",
                "--size", "4", "--llm", "scripted:media-brain",
                "--eval-model", "scripted:media-brain", "--pool", str(pool)]
    else:
        argv = ["build", TEXT_REQUIREMENT, "--size", "12", "--llm", "scripted:brain",
                "--eval-model", "scripted:brain", "--pool", str(GENERAL_BENCH)]
    code = main([*argv, "--seed", "3", "--home", str(home), "--run-id", run_id, "--json"])
    assert code == 0, f"build of {run_id} failed"
    return read_events(home, run_id)


def export(home: Path, run_id: str, out: Path, *formats: str) -> int:
    return main(["export", run_id, *[a for f in formats for a in ("--format", f)],
                 "--out", str(out), "--home", str(home)])
