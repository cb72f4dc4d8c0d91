"""One build end to end on the real embedded model (local:qwen2.5-coder-0.5b), small and slow."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.benchmark_files import project_benchmark
from tests.agents.build_helpers import build, of_type, read_events

MODEL = "local:qwen2.5-coder-0.5b"


def _model_ready() -> str | None:
    try:
        import llama_cpp  # noqa: F401

        from tools.llm.weights import model_path

        model_path(MODEL.split(":", 1)[1])
    except Exception as exc:  # not installed here: `make test` installs both
        return f"{MODEL} unavailable: {exc}"
    return None


@pytest.mark.slow
@pytest.mark.local_model
@pytest.mark.timeout(3600)
def test_build_on_the_embedded_model(tmp_path: Path, general_bench: Path, capsys) -> None:
    reason = _model_ready()
    if reason:
        pytest.skip(reason)
    config = tmp_path / "small.yaml"
    # Small on purpose (CPU inference): two subtasks, one candidate dataset each, file datasets
    # only so that sample planning and the verifier's checks run on the model too.
    # Attempts: the 1.5B answers letter A to many items whatever their order, which the
    # Verifier's option-order check rejects; two model-checked attempts per slot are few.
    config.write_text("agents: {search_k: 1, groundings_per_subtask: 1, max_design_rounds: 3, "
                      "max_subtasks: 2, max_attempts: 6, generators: false}\n"
                      "llm_concurrency: 1\n")
    code, doc, err = build(capsys, tmp_path / "home", general_bench, "--config", str(config),
                           size=2, llm=MODEL)
    events = read_events(tmp_path / "home")
    calls = of_type(events, "LLMCallRecorded")
    assert calls and all(c.payload.model == MODEL for c in calls)
    # Every structured answer the model gave was schema-valid JSON once accepted.
    assert of_type(events, "SubtasksProposed") and of_type(events, "DesignAccepted")
    purposes = {c.payload.purpose for c in calls}
    assert {"design.propose", "grounding.plan", "grounding.score"} <= purposes
    assert doc is not None, err
    if code != 0:
        # Seen here: the 1.5B answered letter A to every item of this run's subtask, whatever
        # the options' order; the blind solves (and the option-order check) accepted none,
        # and the run says so in one line rather than publish unverified items.
        assert (doc["status"], doc["stage"], doc["shortfall"]) == ("failed", "verifier", 2)
        assert "no sample passed verification" in doc["reason"]
    else:
        assert doc["accepted"] >= 1 and doc["accepted"] + doc["shortfall"] == 2
    assert "verifier.solve" in purposes or "verifier.check" in purposes
    semantic = {"answerable", "answer_matches", "depends_on_signal"}
    checked = of_type(events, "SampleChecked")
    assert checked
    for c in checked:
        verdicts = {v.check: v for v in c.payload.verdicts}
        asked = [x.payload.purpose for x in calls if x.causation_id == c.causation_id]
        if not semantic <= set(verdicts):
            failed = {k for k, v in verdicts.items() if not v.passed}
            if asked:  # solved blind, it missed its label (given or reversed) or barely
                # preferred it: no judgement
                assert set(asked) == {"verifier.solve"} and len(asked) <= 2
                assert failed & {"answer_matches", "option_order", "unambiguous"}
                assert all(x.payload.first_token_logprobs for x in calls
                           if x.causation_id == c.causation_id)
            else:  # a programmatic check rejected it, for free
                assert failed
            continue
        if not asked:  # the same question asked before: its recorded answers were reused
            earlier = [{v.check: v.reason for v in e.payload.verdicts} for e in checked
                       if e.seq < c.seq]
            assert {k: v.reason for k, v in verdicts.items()} in earlier
            continue
        if any(v.reason.endswith("not judged") for v in verdicts.values()):
            # A source's multiple-choice item whose blind answers (options as given and
            # reversed) reached the label, asking what the subtask tests: settled by them.
            assert asked == ["verifier.solve"] * 2 and all(v.passed for v in verdicts.values())
            continue
        # Judged; solved blind first (a multiple-choice source, or a question sample planning
        # rewrote), or after the judge when it doubted answerability or the label.
        assert "verifier.check" in asked
        doubted = any("blind solve" in verdicts[k].reason for k in ("answerable",
                                                                     "answer_matches"))
        assert ("verifier.solve" in asked) >= doubted
    if code == 0:
        (pub,) = of_type(events, "BenchmarkPublished")
        assert project_benchmark(events, pub.payload.sample_ids).content_hash() == (
            doc["content_hash"])
