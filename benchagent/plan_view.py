"""The plan a `--plan-only` run waits with, for the developer to read before `approve`.

`plan_document(state)` gathers it from the run's projections: the subtasks; per subtask the
candidate plans with their Score-and-Filter scores and the groundings kept; the quotas; each
synthesized generator's plan (parameters and ranges, constraints, checks, complexity,
metric), how its checks went and its code; and the model calls spent so far and expected to
finish. `render_plan` prints it; `--json` prints the document itself.
"""

from __future__ import annotations

import textwrap
from typing import Any

from agents.plan_edits import planned_generators, proposal_of
from agents.settings import settings_of
from agents.synthesis.plan import describe_param
from replay.projections import RunState
from store.events import SpecProposed


def expected_calls(state: RunState, spec: SpecProposed) -> dict[str, Any]:
    """Model calls so far and to finish the spec as proposed (before any rejection)."""
    req = state.request.payload
    plans = {p.plan_id: p for p in spec.plans}
    generated = sum(q.count for q in spec.quotas
                    if plans.get(q.plan_id) and plans[q.plan_id].target_source == "generator")
    sourced = sum(q.count for q in spec.quotas) - generated
    per_item = (0 if "sample-planning" in req.disabled else 1) + (
        0 if "verifier" in req.disabled else 2)
    evaluation = len(req.eval_models) * sum(q.count for q in spec.quotas)
    return {
        "so_far": state.llm.calls,
        "to_finish": sourced * per_item + evaluation,
        "sourced_items": sourced, "per_sourced_item": per_item,
        "generated_items": generated, "per_generated_item": 0, "evaluation": evaluation,
        "note": "a rejected item's replacement costs as much again (up to max_attempts per "
                f"slot, {settings_of(req).max_attempts}); a repair 1 more and a new check; an "
                "edited generator check costs 1 to synthesis_rounds model rounds",
    }


def plan_document(state: RunState) -> dict[str, Any]:
    proposed, groundings, round_ = proposal_of(state)
    kept = {g.plan_id for g in groundings}
    quotas = {q.plan_id: q.count for q in proposed.quotas}
    subtasks = []
    for sub in proposed.subtasks:
        candidates: list[dict[str, Any]] = []
        for pid, plan in sorted(state.grounding.plans.items()):
            if plan.subtask != sub.name or not pid.endswith(f"-r{round_}"):
                continue
            score = state.grounding.scores.get(pid)
            synthesized = state.synthesis.for_dataset(plan.dataset_id)
            candidates.append({
                "plan_id": pid, "dataset_id": plan.dataset_id,
                "synthesized": synthesized.name if synthesized is not None else None,
                "scores": None if score is None else {
                    "alignment": score.alignment, "robustness": score.robustness,
                    "signal_preservation": score.signal_preservation},
                "kept": pid in kept, "quota": quotas.get(pid, 0),
                "reason": (score.reason if score is not None
                           else state.grounding.plan_reasons.get(pid, "")),
            })
        subtasks.append({"name": sub.name, "description": sub.description,
                         "answer_format": sub.answer_format, "candidates": candidates,
                         "quota": sum(c["quota"] for c in candidates)})
    generators = []
    for name, gen_plan in sorted(planned_generators(state).items()):
        record = state.synthesis.generators[name]
        checks = [c.payload for c in state.synthesis.checks[name]
                  if c.payload.source_sha256 == record.sha256 and c.payload.passed]
        generators.append({
            "name": name, "version": record.version, "sha256": record.sha256,
            "attempts": record.attempts, "revision": record.revision,
            "description": gen_plan.description,
            "params": [describe_param(p) for p in gen_plan.params],
            "constraints": gen_plan.constraints,
            "checks": {c.name: c.description for c in gen_plan.checks},
            "complexity": gen_plan.complexity, "metric": gen_plan.metric,
            "passed": [f"{c.stage}: " + ", ".join(x.check for x in c.checks
                                                  if x.status == "passed") for c in checks],
            "code": record.parts,
        })
    return {"run_id": state.run_id, "requirement": state.request.payload.requirement,
            "size": state.request.payload.size, "subtasks": subtasks, "generators": generators,
            "model_calls": expected_calls(state, proposed)}


def render_plan(doc: dict[str, Any]) -> str:
    """The plan as text, for a terminal."""
    lines = [f"run {doc['run_id']}: the plan waits for your approval",
             f"requirement: {doc['requirement']}", f"size: {doc['size']}", "", "subtasks:"]
    for n, sub in enumerate(doc["subtasks"], 1):
        lines.append(f"  {n}. {sub['name']} — {sub['quota']} samples ({sub['answer_format']})")
        lines.append(textwrap.indent(textwrap.fill(sub["description"], 88), "       "))
        for c in sub["candidates"]:
            if c["synthesized"]:
                what = f"synthesized generator {c['synthesized']}"
            else:
                s = c["scores"]
                what = c["dataset_id"] + ("" if s is None else (
                    f" (alignment {s['alignment']:.2f}, robustness {s['robustness']:.2f}, "
                    f"signal {s['signal_preservation']:.2f})"))
            verdict = f"kept, quota {c['quota']}" if c["kept"] else "filtered"
            lines.append(f"     - {what}: {verdict}")
            if c["reason"]:
                lines.append(f"       {c['reason'][:160]}")
    for gen in doc["generators"]:
        lines += ["", f"generator {gen['name']}@{gen['version']} (revision {gen['revision']}, "
                      f"passed at attempt {gen['attempts']}): {gen['description']}"]
        lines += [f"  parameter {p}" for p in gen["params"]] or ["  no parameters"]
        lines += [f"  constraint: {c}" for c in gen["constraints"]]
        lines += [f"  check {name}: {desc}" for name, desc in gen["checks"].items()]
        lines += [f"  complexity: {gen['complexity']}", f"  metric: {gen['metric']}"]
        lines += [f"  passed {p}" for p in gen["passed"]]
        lines += ["  code:"] + ["    | " + line for line in gen["code"].rstrip().splitlines()]
    calls = doc["model_calls"]
    lines += ["", f"model calls: {calls['so_far']} so far; expected to finish: "
                  f"{calls['to_finish']} ({calls['sourced_items']} sourced items x "
                  f"{calls['per_sourced_item']}, {calls['generated_items']} generated items x 0, "
                  f"evaluation {calls['evaluation']})",
              f"  {calls['note']}", "",
              f"approve: benchagent approve {doc['run_id']} [--edit FILE.yaml]"]
    return "\n".join(lines)
