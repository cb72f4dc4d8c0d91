"""A proposed subtask that names a step of building a model ("Model training") is dropped
before review; when every proposal is one, the requirement itself is the subtask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents.build_steps import build_step, drop_build_steps, requirement_subtask
from agents.design import as_test_item
from benchagent.cli import main
from store.events import Subtask
from tests.agents.build_helpers import of_type, read_events
from tests.agents.scripted_brain import ScriptedBrain
from tools.llm.scripted import register_responder

PHYSICS = ("I want to evaluate whether a model can predict from images how objects in a 2D "
           "physics scene move next")
# What the 1.5B proposed for PHYSICS (its run's SubtasksProposed).
STEPS = [
    {"name": "Image preprocessing", "capability": "image_processing",
     "description": "Preprocess the images: resizing, normalization, data augmentation.",
     "answer_format": "multiple_choice", "distinct_focus": "image sizes and formats"},
    {"name": "Model training", "capability": "model_training",
     "description": "Train the model on images of 2D physics scenes.",
     "answer_format": "multiple_choice", "distinct_focus": "learning from the data"},
    {"name": "Model deployment", "capability": "model_deployment",
     "description": "Deploy the trained model in a production environment where it can be "
                    "used to predict from images how objects in a 2D physics scene move next.",
     "answer_format": "free_text", "distinct_focus": "real-world scenarios"},
]


def sub(name: str, capability: str = "") -> Subtask:
    return Subtask(name=name, description="d", capability=capability or name,
                   answer_format="any")


def test_build_steps_are_told_from_test_items() -> None:
    assert [build_step(sub(s["name"], s["capability"])) for s in STEPS] == [
        "preprocessing", "model training", "model deployment"]
    for name, capability in (("Cause and effect identification", "causal reasoning"),
                             ("Train timetable reasoning", "reasoning about train schedules"),
                             ("Meeting time scheduling", "temporal reasoning"),
                             ("Object motion prediction", "predict how objects move")):
        assert build_step(sub(name, capability)) == "", name
    # What the 1.5B kept on its next run of PHYSICS (capability "model_evaluation").
    assert build_step(sub("Model evaluation", "model_evaluation")) == "model evaluation"
    assert build_step(sub("Evaluation metrics", "accuracy and F1")) == "evaluation metrics"
    assert build_step(sub("Evaluate causal claims", "judge whether a cause is valid")) == ""
    kept, dropped = drop_build_steps([sub("Model training"), sub("Motion prediction")])
    assert [s.name for s in kept] == ["Motion prediction"]
    assert [(d.name, d.step) for d in dropped] == [("Model training", "model training")]


def test_the_requirement_names_its_own_subtask() -> None:
    only = requirement_subtask(PHYSICS)
    assert only.name == "Predict from images how objects in a 2D physics scene move"
    assert only.description == PHYSICS and build_step(only) == ""
    assert requirement_subtask("Test how well LLMs integrate clues across languages.").name \
        == "Integrate clues across languages"


def test_a_review_that_keeps_or_revises_into_a_build_step_discards_it() -> None:
    motion = sub("Motion prediction")
    assert as_test_item(("keep", "fine", None), motion) == ("keep", "fine", None)
    decision, reason, revised = as_test_item(("revise", "broader", sub("Model training")),
                                             motion)
    assert decision == "discard" and revised is None and "model training" in reason
    assert as_test_item(("keep", "ok", None), sub("Model deployment"))[0] == "discard"


class BuildStepBrain(ScriptedBrain):
    """Proposes the three build steps the 1.5B proposed for the physics requirement."""

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"subtasks": [dict(s) for s in STEPS], "reason": "the project's stages"}


def test_a_build_of_build_steps_tests_the_requirement_itself(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    register_responder("build-step-brain", BuildStepBrain())
    home = tmp_path / "home"
    code = main(["build", PHYSICS, "--size", "4", "--seed", "2", "--llm",
                 "scripted:build-step-brain", "--pool", str(general_bench), "--home",
                 str(home), "--run-id", "run-steps", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    doc = json.loads(out.out.splitlines()[-1])
    events = read_events(home, "run-steps")
    proposed = of_type(events, "SubtasksProposed")[0].payload
    assert [(b.name, b.step) for b in proposed.build_steps] == [
        ("Image preprocessing", "preprocessing"), ("Model training", "model training"),
        ("Model deployment", "model deployment")]
    assert [c.name for c in proposed.candidates] == [requirement_subtask(PHYSICS).name]
    assert "the requirement itself is the subtask" in proposed.reason
    accepted = of_type(events, "DesignAccepted")[-1].payload.subtasks
    assert [s.name for s in accepted] == [requirement_subtask(PHYSICS).name]
    assert doc["accepted"] == 4 and doc["shortfall"] == 0
    # The requirement grounds where its words lead: the physics scenes' generator.
    quotas = of_type(events, "SpecFinalized")[0].payload.quotas
    assert {q.dataset_id for q in quotas} == {"gen-causal_physics"}, quotas
