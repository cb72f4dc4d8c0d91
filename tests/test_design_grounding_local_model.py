"""Design and grounding on the real embedded model (local:qwen2.5-coder-0.5b), up to the plan:
distinct subtasks, each naming its focus; relevance measured per searched dataset; plans
scored with measured signals, none kept whose instruction cannot be filled. Small and slow."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.build_steps import build_step
from agents.subtask_overlap import DUPLICATE_THRESHOLD, subtask_similarity
from tests.agents.build_helpers import build, of_type, read_events
from tests.test_build_local_model import MODEL, _model_ready


@pytest.mark.slow
@pytest.mark.local_model
@pytest.mark.timeout(3600)
def test_design_and_grounding_on_the_embedded_model(tmp_path: Path, general_bench: Path,
                                                    capsys) -> None:
    reason = _model_ready()
    if reason:
        pytest.skip(reason)
    config = tmp_path / "small.yaml"
    config.write_text("agents: {search_k: 1, groundings_per_subtask: 1, max_design_rounds: 2, "
                      "max_subtasks: 3, generators: false}\nllm_concurrency: 1\n")
    code, doc, err = build(capsys, tmp_path / "home", general_bench, "--config", str(config),
                           "--plan-only", size=4, llm=MODEL)
    events = read_events(tmp_path / "home")
    calls = of_type(events, "LLMCallRecorded")
    assert calls and all(c.payload.model == MODEL for c in calls)
    (proposed,) = of_type(events, "SubtasksProposed")
    for d in proposed.payload.near_duplicates:
        assert d.similarity >= DUPLICATE_THRESHOLD
    for accepted in of_type(events, "DesignAccepted"):
        subs = accepted.payload.subtasks
        assert not [s.name for s in subs if build_step(s)]  # test items, not build steps
        assert all(subtask_similarity(a, b) < DUPLICATE_THRESHOLD
                   for i, a in enumerate(subs) for b in subs[i + 1:])
    searched = of_type(events, "DatasetsSearched")
    assert searched and all(s.payload.relevance for s in searched)
    scores = of_type(events, "PlanScored")
    assert scores and all(s.payload.signals is not None for s in scores)
    for s in scores:
        if s.payload.accepted:
            assert s.payload.signals.template_fills and not s.payload.signals.problems
            assert s.payload.signals.on_target >= 0.5
    # Only relevant datasets were planned on.
    kept = {(s.payload.subtask, r.dataset_id) for s in searched for r in s.payload.relevance
            if r.kept}
    assert {(p.payload.plan.subtask, p.payload.plan.dataset_id)
            for p in of_type(events, "PlanProposed")} <= kept
    assert code == 0, f"{err}\n{doc}"
