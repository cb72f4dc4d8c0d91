"""Synthesized generators through the whole pipeline, with a scripted model that writes good
and bad template parts (tests/agents/synthesis_brain.py) and the real sandbox.

A subtask no pool plan grounds gets a generator; a bad attempt goes back to the model with
the checker's reason and the next one fixes it; a generator that never passes fails the
subtask back to Design; items name the recorded source that labelled them, the Verifier and
the scorer run that source (never a file), and replay needs neither it nor the sandbox.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from agents.scoring import score_answer
from agents.settings import RunSettings
from agents.synthesis.plan import param_specs
from benchagent.cli import main
from replay.benchmark_files import directory_hash
from replay.projections import RunState
from store.events import Envelope, GeneratorSynthesized, SampleRealized
from tests.agents.build_helpers import benchmark_lines, build, llm_calls, of_type, read_events
from tests.agents.synthesis_brain import VARIANTS, SynthesisBrain
from tools.llm.scripted import register_responder
from tools.sandbox.synthesized import SynthesizedGenerator
from tools.sandbox.template import compose

DURATIONS = "convert a duration in seconds into hours, minutes and seconds"


def brain(name: str, attempts: list[str], **kw: Any) -> str:
    register_responder(name, SynthesisBrain(attempts, **kw))
    return f"scripted:{name}"


def config(tmp_path: Path, **agents: Any) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps({"agents": agents}))
    return str(path)


@pytest.fixture
def empty_pool(tmp_path: Path) -> Path:
    (tmp_path / "pool" / "dataset_cards").mkdir(parents=True)
    return tmp_path / "pool"


def synthesized(events: list[Envelope]) -> dict[str, GeneratorSynthesized]:
    return {e.payload.name: e.payload for e in of_type(events, "GeneratorSynthesized")}


def synthesized_alone(capsys: Any, home: Path, pool: Path, llm: str, *, rounds: int,
                      ) -> tuple[list[Envelope], GeneratorSynthesized, dict[str, Any] | None]:
    """A 3-item build of DURATIONS as its one subtask (no design), grounded by synthesis
    within `rounds`: its events, its one generator and the build's document."""
    code, doc, err = build(capsys, home, pool, "--config", config(home, synthesis_rounds=rounds),
                           "--disable", "design", requirement=DURATIONS, llm=llm, size=3)
    assert code == 0, err
    events = read_events(home)
    (record,) = synthesized(events).values()
    return events, record, doc


def attempts_of(events: list[Envelope], name: str) -> list[tuple[int, str, bool, list[str]]]:
    """(attempt, stage, passed, failed checks) of every check of a generator, in log order."""
    return [(e.payload.attempt, e.payload.stage, e.payload.passed,
             [c.check for c in e.payload.checks if c.status == "failed"])
            for e in of_type(events, "GeneratorChecked") if e.payload.name == name]


def recomputed_target(record: GeneratorSynthesized, sample: SampleRealized,
                      tmp_path: Path) -> str:
    """The item's target, computed again from the recorded source in a fresh sandbox."""
    source = sample.generated_by
    assert source is not None
    with SynthesizedGenerator(record.name, record.source,
                              params=param_specs(record.params)) as gen:
        instance = gen.sample(source.seed, dict(source.params))
        return gen.render(instance, tmp_path).target


def test_no_pool_plan_passes_so_a_generator_is_synthesized_its_failures_fed_back_and_fixed(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    llm = brain("synth-fixes", ["imports", "vague", "good"], oracle=True)
    code, doc, err = build(capsys, tmp_path, general_bench, "--eval-model", llm,
                           requirement=DURATIONS, llm=llm, size=6)
    assert code == 0, err
    events = read_events(tmp_path)
    scored = of_type(events, "PlanScored")
    assert scored and not any(e.payload.accepted for e in scored)  # the pool grounds nothing
    records = synthesized(events)
    assert sorted(records) == ["synth-clock-notation", "synth-duration-conversion"]
    for name, record in records.items():
        # attempt 1 imports os; attempt 2 passes the code checks but its question names no
        # answer format (the item judge: completeness); attempt 3 passes everything.
        checks = attempts_of(events, name)
        assert checks[0][:3] == (1, "code", False) and "imports" in checks[0][3]
        assert checks[1:] == [(2, "code", True, []), (2, "items", False, ["completeness"]),
                              (3, "code", True, []), (3, "items", True, [])]
        assert record.attempts == 3 and record.revision == 1
        assert record.source == compose(VARIANTS["good"], param_specs(record.params))
        assert record.sha256 == hashlib.sha256(record.source.encode()).hexdigest()
        assert record.version == record.sha256[:12]
        drafted = [e.payload for e in of_type(events, "GeneratorDrafted") if e.payload.name == name]
        assert [d.attempt for d in drafted] == [1, 2, 3]
        assert drafted[-1].source_sha256 == record.sha256
    # Each failure went back to the model with the checker's own reason.
    failures = [e.payload.feedback for e in of_type(events, "GeneratorChecked")
                if e.payload.name == "synth-duration-conversion" and not e.payload.passed]
    requests = [str(c.payload.messages[-1]["content"]) for c in llm_calls(events, "synthesis.parts")]
    assert "It failed these checks" not in requests[0]
    for feedback in failures:
        assert any(feedback in r for r in requests), feedback
    assert "import of 'os'" in failures[0] or "import os" in failures[0]
    assert "completeness" in failures[1]

    # Every item was made by the checked code; its label is what that code computes.
    lines = benchmark_lines(tmp_path)
    assert len(lines) == 6 and doc is not None and doc["accepted"] == 6
    realized = {e.payload.sample_id: e.payload for e in of_type(events, "SampleRealized")}
    for line in lines:
        sample = realized[line["id"]]
        assert sample.generated_by is not None
        record = records[sample.generated_by.name]
        assert line["metadata"]["target_from"] == f"generator:{record.name}@{record.version}"
        assert line["target"] == recomputed_target(record, sample, tmp_path)
    for e in of_type(events, "SampleChecked"):
        (verdict,) = [v for v in e.payload.verdicts if v.check == "generator"]
        assert verdict.passed and "consistency" in verdict.reason
    out = tmp_path / "runs" / "run-test"
    for record in records.values():
        path = out / "generators" / f"{record.name}-{record.version}.py"
        assert path.read_bytes() == record.source.encode()
    assert doc["evaluations"][0]["accuracy"] == 1.0  # the oracle's answers, scored by the code


def test_replay_needs_neither_the_generator_nor_the_sandbox(
        tmp_path: Path, empty_pool: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    llm = brain("synth-replay", ["good"])
    code, _, err = build(capsys, tmp_path, empty_pool, "--disable", "design", "--synthesize",
                         "--config", config(tmp_path, generators=False), requirement=DURATIONS,
                         llm=llm, size=3)
    assert code == 0, err
    monkeypatch.setenv("PATH", "")  # no bwrap: any use of the sandbox would fail
    assert main(["replay", "run-test", "--home", str(tmp_path), "--out",
                 str(tmp_path / "again")]) == 0
    assert directory_hash(tmp_path / "again") == directory_hash(tmp_path / "runs" / "run-test")


def test_scoring_runs_the_recorded_source_whatever_is_on_disk(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    llm = brain("synth-oracle", ["good"], oracle=True)
    code, _, err = build(capsys, tmp_path, empty_pool, "--disable", "design", "--synthesize",
                         "--config", config(tmp_path, generators=False), requirement=DURATIONS,
                         llm=llm, size=3)
    assert code == 0, err
    (published,) = (tmp_path / "runs" / "run-test" / "generators").glob("*.py")
    # The file beside the benchmark now rejects every answer; scoring must not read it.
    published.write_text(published.read_text().replace(
        "def accepts(problem, answer, response):", "def accepts(problem, answer, response):\n"
        "    return False\n\n\ndef _unused(problem, answer, response):"))
    assert main(["eval", "run-test", "--model", llm, "--home", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert doc["evaluations"][0]["accuracy"] == 1.0
    events = read_events(tmp_path)
    answered = of_type(events, "ModelAnswered")
    assert len(answered) == 3
    assert {a.payload.scorer for a in answered} == {"generator:synth-convert-a-duration-in-seconds-in"}
    # And directly: the scorer takes the run's projection, not a path.
    state = RunState.of(events, "run-test")
    sample = next(iter(state.samples.realized.values())).payload
    assert score_answer(sample.item, sample.item.target, sample.source, state.synthesis)[0] == 1.0
    assert score_answer(sample.item, "0:00:00", sample.source, state.synthesis)[0] == 0.0
    refused = score_answer(sample.item, sample.item.target, sample.source)  # no run log given
    assert refused[:2] == (0.0, "refused") and "records no synthesized" in refused[2]["error"]


def test_a_plan_whose_ranges_cannot_spread_complexity_is_revised_and_the_code_kept(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    llm = brain("synth-narrow", ["units"], first_param={
        "name": "max_seconds", "kind": "choice", "low": 0, "high": 0,
        "choices": ["10", "30", "59"], "description": "Largest number of seconds"})
    events, record, doc = synthesized_alone(capsys, tmp_path, empty_pool, llm, rounds=3)
    # Every attempt over the first plan's ranges (seconds below a minute) failed the spread
    # of complexity and nothing else; the plan was revised, the same code passed over it.
    assert attempts_of(events, record.name) == [
        (1, "code", False, ["complexity_spread"]), (2, "code", False, ["complexity_spread"]),
        (3, "code", False, ["complexity_spread"]), (1, "code", True, []),
        (1, "items", True, [])]
    planned = [e.payload for e in of_type(events, "GeneratorPlanned")]
    assert [(p.revision, p.by) for p in planned] == [(1, "grounding"), (2, "grounding")]
    assert planned[1].reason.startswith("problems drawn over the whole of your parameters' "
                                        "ranges never became hard: no instance in the highest")
    assert [c for p in planned for c in p.plan.params[0].choices or []] == [
        10, 30, 59, 59, 3599, 86399]
    assert record.revision == 2 and record.attempts == 1
    assert record.source == compose(VARIANTS["units"], param_specs(record.params))
    plans = llm_calls(events, "synthesis.plan")
    assert len(plans) == 2 and "revise_it_because" in str(plans[1].payload.messages[-1])
    parts = llm_calls(events, "synthesis.parts")
    assert len(parts) == 3  # none for the revised plan
    # A failure in no one function of the code: each later attempt is a fresh one, sampled
    # with a seed of its own and shown what failed, not the code (which it would copy back).
    assert [c.payload.params.get("temperature", 0) for c in parts] == [0, 0.8, 0.8]
    assert [c.payload.params.get("seed") for c in parts[1:]] == [2, 3]
    for call in parts[1:]:
        request = str(call.payload.messages[-1]["content"])
        assert "Your previous code" not in request
        assert "An earlier attempt failed these checks:\n- complexity_spread" in request
    assert doc is not None and doc["accepted"] == 3


def test_code_that_computes_another_thing_than_its_question_asks_is_caught_blind(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    llm = brain("synth-blind", ["minutes_as_seconds", "good"])
    code, doc, err = build(capsys, tmp_path, empty_pool, "--disable", "design",
                           requirement=DURATIONS, llm=llm, size=3)
    assert code == 0, err
    events = read_events(tmp_path)
    (record,) = synthesized(events).values()
    # Attempt 1 passes every check of its own; the easiest item, answered by a model that
    # did not see the target, is rejected by the module's own scorer.
    assert attempts_of(events, record.name) == [
        (1, "code", True, []), (1, "items", False, ["blind_answer"]),
        (2, "code", True, []), (2, "items", True, [])]
    failed = [e.payload for e in of_type(events, "GeneratorChecked")][1]
    assert "the code's answer is '0:00:" in failed.feedback
    assert "Check that solve() computes exactly what question() asks" in failed.feedback
    solved = llm_calls(events, "synthesis.item_solve")
    assert "target" not in str(solved[0].payload.messages[-1]).lower()
    # The answer the code rejected was asked for again, sampled, and given again: confirmed.
    assert len(solved) == 3 and solved[1].payload.params.get("temperature") == 0.8
    assert solved[0].payload.messages == solved[1].payload.messages
    assert solved[0].payload.answer == solved[1].payload.answer
    assert record.attempts == 2 and record.source == compose(VARIANTS["good"],
                                                              param_specs(record.params))


def test_doubts_a_second_reading_does_not_hold_fail_nothing(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    # A right generator; a judge that doubts each item once and a solver wrong in a new way
    # each time (the 1.5B on "247 seconds").
    llm = brain("synth-unsure", ["good"], unsure=True)
    events, record, doc = synthesized_alone(capsys, tmp_path, empty_pool, llm, rounds=1)
    assert attempts_of(events, record.name) == [(1, "code", True, []), (1, "items", True, [])]
    checks = [e.payload for e in of_type(events, "GeneratorChecked")][1].checks
    (blind,) = [c for c in checks if c.check == "blind_answer"]
    assert blind.summary.startswith("item ") and "inconclusive, '1:01:17' then '2:01:17'" in (
        blind.summary)
    judged = llm_calls(events, "synthesis.item_check")
    assert len(judged) == 4  # each item's doubt read again, sampled, and not held
    assert sorted(c.payload.params.get("temperature", 0) for c in judged) == [0, 0, 0.8, 0.8]
    assert doc is not None and doc["accepted"] == 3


def test_a_module_used_without_its_import_is_imported_for_the_model(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    llm = brain("synth-no-import", ["no_import"])
    events, record, doc = synthesized_alone(capsys, tmp_path, empty_pool, llm, rounds=1)
    (drafted,) = [e.payload for e in of_type(events, "GeneratorDrafted")]
    assert drafted.imported == ["math"] and drafted.parts.startswith("import math\n")
    assert record.parts == drafted.parts and record.attempts == 1
    assert doc is not None and doc["accepted"] == 3


def test_a_function_that_raises_is_asked_for_alone_and_put_in_place(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    llm = brain("synth-one-function", ["raises_in_solve"])
    events, record, doc = synthesized_alone(capsys, tmp_path, empty_pool, llm, rounds=2)
    assert attempts_of(events, record.name) == [
        (1, "code", False, ["runs"]), (2, "code", True, []), (2, "items", True, [])]
    first = [e.payload for e in of_type(events, "GeneratorChecked")][0]
    assert "- line 8 of your code is: minutes, seconds, extra = divmod(rest, 60)" in (
        first.feedback)
    requests = [str(c.payload.messages[-1]["content"])
                for c in llm_calls(events, "synthesis.parts")]
    assert "Write only a corrected solve(...) function" in requests[1]
    # The answer (solve alone) replaced attempt 1's solve; the rest is attempt 1's.
    assert record.parts == VARIANTS["raises_in_solve"].replace(
        "minutes, seconds, extra = divmod", "minutes, seconds = divmod")
    assert doc is not None and doc["accepted"] == 3


def test_a_question_without_its_values_has_question_asked_for_alone(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    llm = brain("synth-no-values", ["no_values"])
    events, record, doc = synthesized_alone(capsys, tmp_path, empty_pool, llm, rounds=2)
    assert attempts_of(events, record.name) == [
        (1, "code", True, []), (1, "items", False, ["planned_checks"]),
        (2, "code", True, []), (2, "items", True, [])]
    items = [e.payload for e in of_type(events, "GeneratorChecked")][1]
    assert "the question shows none of the problem's values (seconds=" in items.feedback
    assert "fix question() to put them in its text, e.g. f\"... {problem['seconds']} ...\"" in (
        items.feedback)
    # No judge or blind answer is paid for items that cannot be answered: only attempt 2's.
    assert len(llm_calls(events, "synthesis.item_check")) == RunSettings().synthesis_item_checks
    assert len(llm_calls(events, "synthesis.item_solve")) == 1
    requests = [str(c.payload.messages[-1]["content"])
                for c in llm_calls(events, "synthesis.parts")]
    assert "Write only a corrected question(...) function" in requests[1]
    assert record.parts == VARIANTS["no_values"].replace(
        'return "Convert the seconds into hours, minutes and seconds. Answer as H:MM:SS."',
        'return ("Convert %d seconds into hours, minutes and seconds. Answer as H:MM:SS."\n'
        '            % problem["seconds"])')
    assert doc is not None and doc["accepted"] == 3


def test_code_that_fails_only_at_a_corner_of_the_plans_ranges_has_the_plan_revised(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    # max_seconds 0 at the low corner: randint(1, 0) raises, whatever the code's author does
    # (the random draws of the other seeds all land above it).
    llm = brain("synth-corner", ["good"], first_param={
        "name": "max_seconds", "kind": "int", "low": 0, "high": 86399, "choices": [],
        "description": "Largest number of seconds"})
    events, record, doc = synthesized_alone(capsys, tmp_path, empty_pool, llm, rounds=2)
    checked = [e.payload for e in of_type(events, "GeneratorChecked")]
    assert [(c.revision, c.attempt, c.passed) for c in checked if c.stage == "code"] == [
        (1, 1, False), (1, 2, False), (2, 1, True)]
    assert "seed 0 draws every parameter at its low: max_seconds 0, min_seconds 1" in (
        checked[0].feedback)
    planned = [e.payload for e in of_type(events, "GeneratorPlanned")]
    assert planned[1].reason.startswith("with every parameter at its low (max_seconds 0, "
                                        "min_seconds 1), the code fails: ")
    assert record.revision == 2 and record.params[0].choices == [59, 3599, 86399]
    assert record.source == compose(VARIANTS["good"], param_specs(record.params))
    assert doc is not None and doc["accepted"] == 3


def test_a_plan_of_another_task_is_asked_for_again_then_refused(
        tmp_path: Path, empty_pool: Path, capsys: Any) -> None:
    llm = brain("synth-elsewhere", ["good"], off_target_plans=1)
    (tmp_path / "once").mkdir()
    (tmp_path / "twice").mkdir()
    events, record, doc = synthesized_alone(capsys, tmp_path / "once", empty_pool, llm,
                                            rounds=2)
    plans = llm_calls(events, "synthesis.plan")
    assert len(plans) == 2  # the sum of two numbers was refused, with the reason
    assert "names none of the words of the subtask" in plans[1].payload.messages[-1]["content"]
    (planned,) = [e.payload.plan for e in of_type(events, "GeneratorPlanned")]
    assert "seconds" in planned.description and doc is not None and doc["accepted"] == 3
    # Off target twice: no plan, and the subtask is not grounded (an off-target generator
    # would pass every check of its own).
    llm = brain("synth-elsewhere-twice", ["good"], off_target_plans=2)
    code, doc, _ = build(capsys, tmp_path / "twice", empty_pool, "--config",
                         config(tmp_path / "twice", synthesis_rounds=1), "--disable", "design",
                         requirement=DURATIONS, llm=llm, size=3)
    events = read_events(tmp_path / "twice")
    assert code == 1 and not of_type(events, "GeneratorPlanned")
    (failed,) = of_type(events, "GroundingFailed")
    assert "no usable generator plan: the plan ('Calculate the sum of two numbers.') names " \
           "none of the words of the subtask" in failed.payload.reason


def test_a_generator_that_never_passes_fails_the_subtask_back_to_design(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    llm = brain("synth-never", ["not_python"])
    code, doc, err = build(capsys, tmp_path, general_bench, "--config",
                           config(tmp_path, synthesis_rounds=2, max_design_rounds=2),
                           requirement=DURATIONS, llm=llm, size=4)
    assert code == 1 and doc is not None and doc["status"] == "failed"
    events = read_events(tmp_path)
    assert not of_type(events, "GeneratorSynthesized") and not of_type(events, "SpecFinalized")
    failed = [e for e in of_type(events, "GroundingFailed") if e.payload.round == 1]
    assert {e.payload.subtask for e in failed} == {"Duration conversion", "Clock notation"}
    for e in failed:
        reason = e.payload.reason
        assert "\n" not in reason
        assert reason.endswith("synthesis: no attempt at generator "
                               f"synth-{e.payload.subtask.lower().replace(' ', '-')} passed "
                               "every check in 2 rounds; the last failed python: not Python: "
                               "expected ':' (line 2)")
    checked = of_type(events, "GeneratorChecked")
    assert len(checked) == 8 and all(c.payload.stage == "code" for c in checked)
    # 2 rounds; the two subtasks' plans are the same, so is their request: answered once.
    assert len(llm_calls(events, "synthesis.parts")) == 2
    # Design revised the failed subtasks (round 2); they failed again and the run ended.
    revised = [e for e in of_type(events, "SubtaskReviewed") if e.payload.round == 2]
    assert {e.causation_id for e in revised} <= {e.event_id for e in failed} and revised
    assert doc["stage"] == "grounding" and "no subtask could be grounded" in doc["reason"]


def test_synthesize_adds_a_generator_beside_the_pool_plans(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    llm = brain("synth-beside", ["good"], pool_ok=True)
    # A requirement the pool grounds and the scripted duration plan is about.
    code, _, err = build(capsys, tmp_path, general_bench, "--synthesize", "--disable", "design",
                         requirement="I want to evaluate temporal reasoning: how long events "
                                     "last, in hours, minutes and seconds",
                         llm=llm, size=6)
    assert code == 0, err
    events = read_events(tmp_path)
    (grounded,) = of_type(events, "SubtaskGrounded")
    datasets = [g.dataset_id for g in grounded.payload.groundings]
    assert any(d.startswith("gen-synth-") for d in datasets)
    assert any(not d.startswith("gen-") for d in datasets)  # a pool dataset too
    assert "synthesis: synth-" in grounded.payload.reason
    sources = {line["metadata"]["target_from"].split(":")[0] for line in
               benchmark_lines(tmp_path)}
    assert sources == {"generator", "source_label"}


def test_without_synthesis_a_subtask_the_pool_cannot_ground_goes_back_as_before(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    llm = brain("synth-off", ["good"])
    code, _, _ = build(capsys, tmp_path, general_bench, "--disable", "design,synthesis",
                       requirement=DURATIONS, llm=llm, size=4)
    assert code == 1
    events = read_events(tmp_path)
    assert not llm_calls(events, "synthesis.")
    (failed,) = of_type(events, "GroundingFailed")
    assert "synthesis" not in failed.payload.reason

