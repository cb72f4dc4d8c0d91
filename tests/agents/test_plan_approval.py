"""The developer in the loop: `build --plan-only` stops at the plan and prints it;
`approve RUN_ID [--edit FILE.yaml]` records the user's edits and approval, then finishes the
run with them. Bad edits are one line on stderr and leave the log as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.synthesis.plan import param_specs
from benchagent.cli import main
from tests.agents.build_helpers import benchmark_lines, llm_calls, of_type, read_events
from tests.agents.synthesis_brain import VARIANTS, SynthesisBrain
from tools.llm.scripted import register_responder
from tools.sandbox.template import compose

DURATIONS = "convert a duration in seconds into hours, minutes and seconds"
RUN = "run-plan"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def plan_only(tmp_path: Path, home: Path, capsys: Any) -> str:
    """A --plan-only run of two synthesized subtasks (size 6) waiting for approval; its
    printed plan."""
    register_responder("synth-plan", SynthesisBrain(["good"], oracle=True))
    pool = tmp_path / "pool"
    (pool / "dataset_cards").mkdir(parents=True)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(json.dumps({"agents": {"generators": False}}))
    code = main(["build", DURATIONS, "--size", "6", "--llm", "scripted:synth-plan", "--pool",
                 str(pool), "--config", str(cfg), "--home", str(home), "--run-id", RUN,
                 "--synthesize", "--plan-only"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def approve(home: Path, tmp_path: Path, capsys: Any, edits: str | None) -> tuple[int, str, str]:
    argv = ["approve", RUN, "--home", str(home), "--json"]
    if edits is not None:
        path = tmp_path / "edits.yaml"
        path.write_text(edits)
        argv += ["--edit", str(path)]
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_plan_only_stops_at_the_plan_and_prints_it(plan_only: str, home: Path,
                                                  capsys: Any) -> None:
    events = read_events(home, RUN)
    assert events[-1].type == "SpecProposed"
    assert not of_type(events, "SpecFinalized") and not of_type(events, "SlotAssigned")
    record = of_type(events, "GeneratorSynthesized")[0].payload
    for text in ("the plan waits for your approval", "Duration conversion — 3 samples",
                 "Clock notation — 3 samples",
                 f"generator synth-duration-conversion@{record.version}",
                 "parameter max_seconds (choice: one of 59, 3599, 86399)",
                 "parameter min_seconds (int from 1 to 1)",
                 "check consistency: h:m:s adds up to the seconds", "metric: exact_match",
                 "    | def make_problem(rng, params):",
                 f"approve: benchagent approve {RUN} [--edit FILE.yaml]"):
        assert text in plan_only, text
    calls = len(of_type(events, "LLMCallRecorded"))
    # Generated items cost no model call to realize or verify: nothing left but approval.
    assert f"model calls: {calls} so far; expected to finish: 0 (0 sourced items" in plan_only
    assert main(["runs", "--home", str(home), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["runs"]
    assert row["status"] == "awaiting approval"
    # Resuming is not approving: one line, nothing appended.
    assert main(["build", "--resume", RUN, "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (f"benchagent: error: run {RUN} waits for the approval of its plan: "
                       f"benchagent approve {RUN} [--edit FILE.yaml]")
    assert len(read_events(home, RUN)) == len(events)


def test_approve_without_edits_builds_the_plan_as_proposed(plan_only: str, home: Path,
                                                          tmp_path: Path, capsys: Any) -> None:
    before = read_events(home, RUN)
    code, out, err = approve(home, tmp_path, capsys, None)
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["accepted"] == 6
    events = read_events(home, RUN)
    (approved,) = of_type(events, "SpecApproved")
    assert approved.agent == "user" and approved.payload.edits == 0
    assert of_type(events, "GeneratorsRevised")[0].payload.names == []
    assert len(llm_calls(events, "")) == len(llm_calls(before, ""))  # nothing asked again
    spec = of_type(events, "SpecFinalized")[0].payload
    proposed = of_type(events, "SpecProposed")[0].payload
    assert (spec.subtasks, spec.plans, spec.quotas) == (proposed.subtasks, proposed.plans,
                                                        proposed.quotas)


def test_approve_applies_the_users_edits(plan_only: str, home: Path, tmp_path: Path,
                                         capsys: Any) -> None:
    before = read_events(home, RUN)
    old = of_type(before, "GeneratorSynthesized")
    code, out, err = approve(home, tmp_path, capsys, """
rename: {Clock notation: Clock reading}
quotas: {Duration conversion: 4}
generators:
  synth-duration-conversion:
    params:
      max_seconds: {choices: [59, 86399]}
""")
    assert code == 0, err
    events = read_events(home, RUN)
    edits = of_type(events, "PlanEdited")
    assert [e.agent for e in edits] == ["user"] * 3
    assert [e.payload.edit.__class__.__name__ for e in edits] == [
        "RenameSubtask", "SetQuota", "SetParamRange"]
    # The range edit: a new revision of the plan by the user, the same code checked over the
    # new range (no model call), a new revision of the generator with the same parts (its
    # source differs by the planned ranges the frame's complexity reads).
    planned = [e.payload for e in of_type(events, "GeneratorPlanned")
               if e.payload.plan.name == "synth-duration-conversion"]
    assert [(p.revision, p.by) for p in planned] == [(1, "grounding"), (2, "user")]
    assert planned[1].plan.params[0].choices == [59, 86399]
    revised = [e.payload for e in of_type(events, "GeneratorSynthesized")
               if e.payload.revision == 2]
    assert [r.name for r in revised] == ["synth-duration-conversion"]
    assert revised[0].parts == old[0].payload.parts and revised[0].attempts == 1
    assert revised[0].source == compose(revised[0].parts, param_specs(revised[0].params))
    assert revised[0].sha256 != old[0].payload.sha256
    assert len(llm_calls(events, "synthesis.parts")) == len(llm_calls(before, "synthesis.parts"))
    assert of_type(events, "GeneratorsRevised")[0].payload.names == ["synth-duration-conversion"]
    lines = benchmark_lines(home, RUN)
    subtasks = sorted(line["subtask"] for line in lines)
    assert subtasks == ["Clock reading"] * 2 + ["Duration conversion"] * 4
    for line in lines:
        if line["metadata"]["generator"] == "synth-duration-conversion":
            assert line["metadata"]["params"]["max_seconds"] in (59, 86399)


def test_a_changed_check_has_the_model_revise_the_code(plan_only: str, home: Path,
                                                      tmp_path: Path, capsys: Any) -> None:
    before = read_events(home, RUN)
    code, _, err = approve(home, tmp_path, capsys, """
generators:
  synth-clock-notation:
    checks:
      digits: "the seconds fit in two digits"
""")
    assert code == 0, err
    events = read_events(home, RUN)
    asked = llm_calls(events, "synthesis.parts")[len(llm_calls(before, "synthesis.parts")):]
    assert len(asked) == 1
    assert "the developer changed the plan's checks" in asked[0].payload.messages[-1]["content"]
    (revised,) = [e.payload for e in of_type(events, "GeneratorSynthesized")
                  if e.payload.revision == 2]
    assert revised.name == "synth-clock-notation"
    assert revised.source == compose(VARIANTS["with_digits"], param_specs(revised.params))
    clock = [line for line in benchmark_lines(home, RUN) if line["subtask"] == "Clock notation"]
    assert clock and all(line["metadata"]["target_from"] ==
                         f"generator:synth-clock-notation@{revised.version}" for line in clock)


def test_the_users_own_parts_are_checked_like_the_models(plan_only: str, home: Path,
                                                        tmp_path: Path, capsys: Any) -> None:
    parts = VARIANTS["good"].replace("Convert %d seconds", "How long is %d seconds? Convert it")
    indented = "\n".join("      " + line for line in parts.splitlines())
    code, _, err = approve(home, tmp_path, capsys,
                           f"generators:\n  synth-duration-conversion:\n    parts: |\n{indented}\n")
    assert code == 0, err
    events = read_events(home, RUN)
    (mine,) = [e.payload for e in of_type(events, "GeneratorDrafted") if e.payload.by == "user"]
    assert mine.parts == parts and mine.revision == 2
    lines = [line for line in benchmark_lines(home, RUN)
             if line["metadata"]["generator"] == "synth-duration-conversion"]
    assert lines and all(line["input"].startswith("How long is") for line in lines)


@pytest.mark.parametrize(("edits", "message"), [
    ("drop: [Nope]", "drop names no subtask of the plan: 'Nope' (subtasks: Duration conversion;"
                     " Clock notation)"),
    ("quotas: {Duration conversion: 7}", "the quotas sum to 7, but the run's size is 6: they "
                                         "must add up to it"),
    ("drop: [Clock notation]\nquotas: {Duration conversion: 5}",
     "the quotas sum to 5, but the run's size is 6: they must add up to it"),
    ("generators: {synth-duration-conversion: {params: {min_seconds: {low: 5, high: 2}}}}",
     "generator synth-duration-conversion: parameter min_seconds: low 5 is above high 2"),
    ("generators: {synth-duration-conversion: {params: {max_seconds: {low: 1, high: 9}}}}",
     "generator synth-duration-conversion: parameter max_seconds is a choice: give its choices"),
    ("generators: {synth-duration-conversion: {params: {hours: {low: 1, high: 9}}}}",
     "generator synth-duration-conversion has no parameter 'hours' (parameters: max_seconds, "
     "min_seconds)"),
    ("generators: {synth-nope: {checks: {x: y}}}",
     "generators names no synthesized generator of the plan: 'synth-nope' (generators: "
     "synth-clock-notation, synth-duration-conversion)"),
    ("generators: {synth-clock-notation: {parts: 'def make_problem(rng params): pass'}}",
     "generators.synth-clock-notation.parts: not Python: invalid syntax (line 1)"),
    ("generators: {synth-clock-notation: {checks: {digits: null}}}",
     "generator synth-clock-notation has no check 'digits' to drop (checks: consistency, "
     "feasibility)"),
    ("quotas: {Duration conversion: 0}", "quotas.Duration conversion: 0 is not a count of at "
                                         "least 1 (drop the subtask to give it none)"),
    ("resize: 3", "unknown key 'resize'; keys are drop, rename, quotas, generators"),
    ("drop: [a", "not valid YAML (while parsing a flow sequence)"),
])
def test_a_bad_edit_is_one_line_and_writes_nothing(plan_only: str, home: Path, tmp_path: Path,
                                                   capsys: Any, edits: str,
                                                   message: str) -> None:
    before = read_events(home, RUN)
    code, out, err = approve(home, tmp_path, capsys, edits)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"benchagent: error: --edit {tmp_path / 'edits.yaml'}: ")
    assert lines[0].endswith(message)
    assert len(read_events(home, RUN)) == len(before)
    assert not (home / "runs" / RUN).exists()


def test_approve_refuses_a_run_that_does_not_wait(plan_only: str, home: Path, tmp_path: Path,
                                                  capsys: Any) -> None:
    assert approve(home, tmp_path, capsys, None)[0] == 0
    code, _, err = approve(home, tmp_path, capsys, None)
    assert code == 2
    assert err.strip() == (f"benchagent: error: run {RUN} has already completed: there is no "
                           "plan to approve")
    assert main(["approve", "nope", "--home", str(home)]) == 2
    assert "cannot resume nope: no such run" in capsys.readouterr().err
