"""The six agents end to end over the real General-Bench subset, in-process, scripted LLM."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.realize import source_target
from replay.audit import sample_fates
from replay.benchmark_files import benchmark_hash, project_benchmark
from store.events import SampleRealized
from tests.agents.build_helpers import benchmark_lines, build, llm_calls, of_type, read_events
from tools.pool import Pool

STAGES = ["RunRequested", "SubtasksProposed", "SubtaskReviewed", "DesignAccepted",
          "DatasetPreferencesSet", "DatasetsSearched", "PlanProposed", "PlanScored",
          "SubtaskGrounded", "SubtasksGrounded", "AllocationDiagnosed", "QuotasAllocated",
          "SpecFinalized", "SlotAssigned", "SamplePlanned", "SampleRealized", "SampleChecked",
          "SampleAccepted", "BenchmarkPublished", "RunCompleted"]


def test_full_pipeline_decides_every_step_with_events(tmp_path: Path, general_bench: Path,
                                                       capsys) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, size=12)
    assert code == 0, err
    assert doc["status"] == "completed" and doc["accepted"] == 12
    events = read_events(tmp_path)
    first_seq = {}
    for e in events:
        first_seq.setdefault(e.type, e.seq)
    missing = [t for t in STAGES if t not in first_seq]
    assert not missing, missing
    assert [first_seq[t] for t in STAGES] == sorted(first_seq[t] for t in STAGES)

    # Every decision that used an LLM comes after the recorded call it used.
    for decision, purpose in (("SubtasksProposed", "design.propose"),
                              ("DesignAccepted", "design.review"),
                              ("PlanScored", "grounding.score"),
                              ("SampleChecked", "verifier.check")):
        for env in of_type(events, decision):
            if decision == "SampleChecked" and not any(
                    v.check == "answerable" for v in env.payload.verdicts):
                continue  # a programmatic check or a generator's code decided: no model asked
            if decision == "PlanScored" and env.payload.signals and env.payload.signals.problems:
                continue  # rejected by what was measured: the model is not asked
            used = purpose
            if decision == "SampleChecked" and any(v.reason.endswith("not judged")
                                                   for v in env.payload.verdicts):
                used = "verifier.solve"  # its blind solve settled it: no judgement asked
            calls = [c for c in llm_calls(events, used) if c.causation_id == env.causation_id]
            assert calls and all(c.seq < env.seq for c in calls), (decision, env.seq)

    # Quotas sum exactly to the size; the spec's plans are the scored, accepted ones.
    (quotas,) = of_type(events, "QuotasAllocated")
    assert sum(q.count for q in quotas.payload.quotas) == 12
    accepted_plans = {e.payload.plan_id for e in of_type(events, "PlanScored") if e.payload.accepted}
    assert {q.plan_id for q in quotas.payload.quotas} <= accepted_plans

    # The published hash is the projection of the log; the files on disk are that projection.
    (pub,) = of_type(events, "BenchmarkPublished")
    content = project_benchmark(events, pub.payload.sample_ids)
    assert content.content_hash() == pub.payload.content_hash == doc["content_hash"]
    assert benchmark_hash(tmp_path / "runs" / "run-test") == pub.payload.content_hash
    assert len(benchmark_lines(tmp_path)) == 12


def test_targets_trace_back_to_the_source_label(tmp_path: Path, general_bench: Path,
                                                capsys) -> None:
    code, _, err = build(capsys, tmp_path, general_bench, size=12, seed=5)
    assert code == 0, err
    events = read_events(tmp_path)
    spec = of_type(events, "SpecFinalized")[0].payload
    plans = {p.plan_id: p for p in spec.plans}
    pool = Pool.load([general_bench], include_generators=False)
    used: set[tuple[str, str]] = set()
    for env in of_type(events, "SlotAssigned"):
        key = (env.payload.dataset_id, env.payload.source_item_id)
        assert key not in used, f"source item used twice: {key}"
        used.add(key)
    lines = benchmark_lines(tmp_path)
    sourced = [line for line in lines
               if not line["metadata"]["target_from"].startswith("generator:")]
    assert len(sourced) >= len(lines) // 2  # the rest: a built-in generator grounds a subtask
    for line in sourced:
        meta = line["metadata"]
        assert meta["target_from"].startswith("source_label:")
        item = next(i for i in pool.items(meta["source_dataset"]) if i.id == meta["source_item"])
        label, acceptable = source_target(item.fields[plans[meta["plan_id"]].target_field])
        said = meta.get("answer_text", line["target"])
        assert said in acceptable or line["target"] == label, line["id"]
        assert meta["target_from"] == "source_label:" + pool.card(meta["source_dataset"]).meta.fields[
            plans[meta["plan_id"]].target_field].paths[0]


def test_same_seed_same_bytes_other_seed_other_items(tmp_path: Path, general_bench: Path,
                                                     capsys) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert build(capsys, a, general_bench, seed=11)[0] == 0
    assert build(capsys, b, general_bench, seed=11)[0] == 0
    assert build(capsys, c, general_bench, seed=12)[0] == 0
    run = Path("runs") / "run-test"
    assert benchmark_hash(a / run) == benchmark_hash(b / run)
    assert (a / run / "benchmark.jsonl").read_bytes() == (b / run / "benchmark.jsonl").read_bytes()
    items = lambda home: {(x["metadata"]["source_dataset"], x["metadata"]["source_item"])  # noqa: E731
                          for x in benchmark_lines(home)}
    assert items(a) != items(c)


ABLATION_CHECKS = {
    "design": lambda ev: (not of_type(ev, "SubtasksProposed") and not llm_calls(ev, "design.")
                          and len(of_type(ev, "DesignAccepted")[0].payload.subtasks) == 1),
    "grounding-scoring": lambda ev: (not of_type(ev, "PlanScored")
                                     and not llm_calls(ev, "grounding.plan")
                                     and not llm_calls(ev, "grounding.score")
                                     and all("disabled" in e.payload.reason
                                             for e in of_type(ev, "PlanProposed"))),
    "sample-planning": lambda ev: (not llm_calls(ev, "orchestrator.sample_plan")
                                   and all(not e.payload.specialised
                                           for e in of_type(ev, "SamplePlanned"))),
    "verifier": lambda ev: (not of_type(ev, "SampleChecked") and not of_type(ev, "SampleRejected")
                            and not llm_calls(ev, "verifier.")
                            and len(of_type(ev, "SampleAccepted")) == len(
                                of_type(ev, "SampleRealized"))),
}


@pytest.mark.parametrize("disabled", [*ABLATION_CHECKS, "design,grounding-scoring,sample-planning,verifier"])
def test_each_ablation_changes_the_stream_and_still_publishes(
        tmp_path: Path, general_bench: Path, capsys, disabled: str) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, "--disable", disabled, size=8)
    assert code == 0, err
    assert doc["accepted"] == 8
    events = read_events(tmp_path)
    assert events[0].payload.disabled == sorted(disabled.split(","))
    for name in disabled.split(","):
        assert ABLATION_CHECKS[name](events), name
    assert of_type(events, "BenchmarkPublished") and len(benchmark_lines(tmp_path)) == 8


def test_grounding_failure_goes_back_to_design(tmp_path: Path, general_bench: Path,
                                               capsys) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, llm="scripted:feedback-brain", size=9)
    assert code == 0, err
    events = read_events(tmp_path)
    (failed,) = of_type(events, "GroundingFailed")
    assert failed.payload.subtask == "Causal reasoning over video clips"
    assert failed.payload.round == 1 and "Score-and-Filter" in failed.payload.reason
    # A generator was considered, but generators make text problems: no model call for it.
    assert failed.payload.reason.endswith(
        "synthesis: not attempted: the subtask needs video inputs and synthesized generators "
        "make text problems")
    assert not llm_calls(events, "synthesis.")
    revisions = [e for e in of_type(events, "SubtaskReviewed") if e.payload.round == 2]
    assert [r.payload.decision for r in revisions] == ["revise"]
    assert revisions[0].causation_id == failed.event_id
    rounds = [e.payload.round for e in of_type(events, "DesignAccepted")]
    assert rounds == [1, 2]
    assert [e.payload.round for e in of_type(events, "SubtasksGrounded")] == [2]
    spec = of_type(events, "SpecFinalized")[0].payload
    names = {s.name for s in spec.subtasks}
    assert "Causal reasoning over video clips" not in names
    assert "Causal reasoning over short stories" in names
    assert doc["accepted"] == 9


def judging_every_item(tmp_path: Path, extra: str = "") -> str:
    """A config whose Verifier judges every item (the strict brain's judge rejects half of
    them), not only those a blind solve cannot settle."""
    config = tmp_path / "judge-all.yaml"
    config.write_text(f"agents: {{judge_every_item: true{extra}}}\n")
    return str(config)


def test_rejections_are_replenished_from_unused_items(tmp_path: Path, general_bench: Path,
                                                      capsys) -> None:
    code, doc, err = build(capsys, tmp_path / "home", general_bench, "--config",
                           judging_every_item(tmp_path), llm="scripted:strict-brain", size=10)
    assert code == 0, err
    events = read_events(tmp_path / "home")
    rejected = of_type(events, "SampleRejected")
    assert len(rejected) >= 2
    replenish = of_type(events, "ReplenishRequested")
    assert {e.payload.replaces for e in replenish} == {e.payload.sample_id for e in rejected}
    later = [e for e in of_type(events, "SlotAssigned") if e.payload.attempt > 1]
    assert len(later) + len(of_type(events, "QuotaShortfall")) == len(replenish)
    sources = [(e.payload.dataset_id, e.payload.source_item_id) for e in of_type(events, "SlotAssigned")]
    assert len(sources) == len(set(sources))
    # Every slot ends accepted or reported short, never silently dropped.
    assert doc["accepted"] + doc["shortfall"] == 10
    # Repairs happen once, keep the target, and the audit explains every rejection.
    repairs = of_type(events, "RepairRequested")
    assert repairs
    for r in repairs:
        versions = [e.payload for e in of_type(events, "SampleRealized")
                    if e.payload.sample_id == r.payload.sample_id]
        assert len(versions) == 2 and versions[1].repair_of == r.payload.sample_id
        assert versions[0].item.target == versions[1].item.target
    fates = {f.sample_id: f for f in sample_fates(events)}
    for e in rejected:
        assert fates[e.payload.sample_id].fate == "rejected"
        assert fates[e.payload.sample_id].reason


def test_exhausted_slots_are_reported_as_shortfall(tmp_path: Path, general_bench: Path,
                                                   capsys) -> None:
    code, doc, err = build(capsys, tmp_path / "home", general_bench, "--config",
                           judging_every_item(tmp_path, ", max_attempts: 1"),
                           llm="scripted:strict-brain", size=10)
    assert code == 0, err
    events = read_events(tmp_path / "home")
    shortfalls = of_type(events, "QuotaShortfall")
    assert shortfalls and doc["shortfall"] == len(shortfalls)
    assert all("max_attempts" in e.payload.reason for e in shortfalls)
    assert doc["accepted"] == 10 - len(shortfalls)
    (pub,) = of_type(events, "BenchmarkPublished")
    assert pub.payload.accepted == doc["accepted"]


def test_evaluation_after_publication(tmp_path: Path, general_bench: Path, capsys) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, "--eval-model", "scripted:brain",
                           size=8)
    assert code == 0, err
    events = read_events(tmp_path)
    answered = of_type(events, "ModelAnswered")
    assert len(answered) == 8
    (scored,) = of_type(events, "EvaluationScored")
    assert scored.payload.n == 8
    assert scored.payload.accuracy == pytest.approx(sum(a.payload.score for a in answered) / 8)
    assert set(scored.payload.per_subtask) == {line["subtask"] for line in benchmark_lines(tmp_path)}
    (done,) = of_type(events, "RunCompleted")
    assert done.seq > scored.seq
    assert doc["evaluations"][0]["model"] == "scripted:brain"
    realized = {e.payload.sample_id: e.payload.item for e in of_type(events, "SampleRealized")
                if isinstance(e.payload, SampleRealized)}
    for a in answered:
        item = realized[a.payload.sample_id]
        if item.choices and not a.payload.scorer.startswith("generator:"):
            assert a.payload.scorer == "choice_match"
            assert a.payload.score == (1.0 if a.payload.answer.strip() == item.target else 0.0)


def test_ungroundable_subtasks_are_dropped_after_the_last_design_round(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("agents: {max_design_rounds: 1}\n")
    code, doc, err = build(capsys, tmp_path / "home", general_bench, "--config", str(config),
                           llm="scripted:feedback-brain", size=6)
    assert code == 0, err
    events = read_events(tmp_path / "home")
    assert not llm_calls(events, "design.revise")
    (dropped,) = [e.payload for e in of_type(events, "SubtaskReviewed") if e.payload.round == 2]
    assert dropped.decision == "discard" and "1 design rounds reached" in dropped.reason
    assert "video" not in " ".join(s.name for s in of_type(events, "SpecFinalized")[0].payload.subtasks)


def test_a_requirement_no_dataset_supports_fails_with_the_reason(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, "--disable", "design",
                           requirement="Can a model explain what happens in a video clip?", size=4)
    assert code == 1
    assert doc["status"] == "failed" and doc["stage"] == "grounding"
    assert "no subtask could be grounded" in doc["reason"]
    assert "failed at grounding" in err
    assert not (tmp_path / "runs" / "run-test").exists()


def test_generated_items_trace_to_their_generator(tmp_path: Path, general_bench: Path,
                                                  capsys) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, "--eval-model", "scripted:brain",
                           requirement="I need a benchmark to evaluate whether a model can "
                                       "pinpoint the faulty step of a multi-step proof", size=8)
    assert code == 0, err
    events = read_events(tmp_path)
    generated = [line for line in benchmark_lines(tmp_path)
                 if line["metadata"]["target_from"] == "generator:proofs"]
    assert generated, "the proof subtask should be grounded on the proofs generator"
    from agents.sources import get_generator

    gen = get_generator("proofs")
    for line in generated:
        meta = line["metadata"]
        instance = gen.sample(meta["seed"], meta["params"])
        assert str(instance.answer) == line["target"]
        checks = [e.payload for e in of_type(events, "SampleChecked")
                  if e.payload.sample_id == line["id"]]
        assert [v.check for v in checks[-1].verdicts] == ["format", "generator"]
    scorers = {e.payload.scorer for e in of_type(events, "ModelAnswered")
               if e.payload.sample_id in {g["id"] for g in generated}}
    assert scorers == {"generator:proofs"}


def test_audit_explains_every_rejected_sample(tmp_path: Path, general_bench: Path, capsys) -> None:
    from replay.audit import sample_chain

    code, _, err = build(capsys, tmp_path / "home", general_bench, "--config",
                         judging_every_item(tmp_path), llm="scripted:strict-brain", size=6)
    assert code == 0, err
    events = read_events(tmp_path / "home")
    rejected = of_type(events, "SampleRejected")
    assert rejected
    for env in rejected:
        chain = sample_chain(events, env.payload.sample_id)
        types = [step.type for step in chain]
        assert types[0] == "RunRequested" and "SampleRejected" in types
        assert "SlotAssigned" in types and "SampleChecked" in types
        judged = any(step.type == "LLMCallRecorded" and "verifier" in step.summary
                     for step in chain)
        # A programmatic check rejects before any model call; a semantic one after the judge.
        programmatic = env.payload.check not in ("answerable", "answer_matches",
                                                 "depends_on_signal", "option_order")
        assert judged != programmatic, (env.payload.check, types)
