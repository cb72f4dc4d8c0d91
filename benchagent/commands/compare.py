"""`benchagent compare RUN_A RUN_B [--json]`: what differs between two benchmarks, and why.

The settings that differ come first (they are the why: an ablation, another seed or
backbone), then the subtasks, the groundings with their plan scores and quotas, the source
items shared and distinct, rejections by check, the judge's metrics and the accuracy of the
models evaluated on both (`replay.quality.compare`).
"""

from __future__ import annotations

import argparse
import asyncio
import json

import msgspec

from benchagent.commands.judge import METRIC_COLUMNS, table_row
from benchagent.errors import UserError
from benchagent.home import add_store_options, open_log
from benchagent.quality_runs import published_state
from benchagent.table import format_table
from replay.projections import RunState
from replay.quality.compare import GroundingRow, RunComparison, compare_runs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="what differs between two published runs, and why")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.run_a == args.run_b:
        raise UserError("compare needs two different runs")
    a, b = asyncio.run(_states(args))
    result = compare_runs(a, b)
    if args.json:
        print(json.dumps(msgspec.to_builtins(result), sort_keys=True))
    else:
        print(render(result))
    return 0


async def _states(args: argparse.Namespace) -> tuple[RunState, RunState]:
    event_log = await open_log(args)
    try:
        return (await published_state(event_log, args.run_a),
                await published_state(event_log, args.run_b))
    finally:
        await event_log.close()


def _score(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def _groundings(rows: list[GroundingRow]) -> list[list[object]]:
    return [[g.subtask, g.dataset_id, g.plan_id, _score(g.alignment), _score(g.robustness),
             _score(g.signal_preservation), g.quota] for g in rows]


def render(c: RunComparison) -> str:
    a, b = c.a, c.b
    out = [f"A = {a.run_id}" + (f" ({a.ablation})" if a.ablation else ""),
           f"B = {b.run_id}" + (f" ({b.ablation})" if b.ablation else ""), "",
           "settings that differ (the why):"]
    out += [f"  {s.name}: A {s.a!r}  B {s.b!r}" for s in c.settings] or ["  none"]
    out += ["", format_table(["", "accepted", "rejected", "LLM calls", "subtasks"],
                             [["A", a.accepted, a.rejected, a.llm_calls, len(a.subtasks)],
                              ["B", b.accepted, b.rejected, b.llm_calls, len(b.subtasks)]])]
    out += ["", "subtasks:", f"  shared: {', '.join(c.subtasks_shared) or 'none'}",
            f"  only A: {', '.join(c.subtasks_only_a) or 'none'}",
            f"  only B: {', '.join(c.subtasks_only_b) or 'none'}"]
    head = ["subtask", "dataset", "plan", "align", "robust", "signal", "quota"]
    for name, side in (("A", a), ("B", b)):
        out += ["", f"groundings of {name} (plan scores, quotas):",
                format_table(head, _groundings(side.groundings)) if side.groundings
                else "  none"]
    s = c.sources
    out += ["", f"source items: {s.shared} shared, {s.only_a} only in A, {s.only_b} only in B"]
    for label, ex in (("shared", s.shared_examples), ("only A", s.only_a_examples),
                      ("only B", s.only_b_examples)):
        if ex:
            out.append(f"  {label}, e.g. {', '.join(ex)}")
    checks = sorted(a.rejections.keys() | b.rejections.keys())
    out += ["", "rejections by check:"]
    out += ([format_table(["check", "A", "B"], [[k, a.rejections.get(k, 0),
                                                 b.rejections.get(k, 0)] for k in checks])]
            if checks else ["  none in either run"])
    out += ["", "judge (0-100):"]
    rows = [[name, *table_row(side.judge), side.judge.judge] for name, side in (("A", a), ("B", b))
            if side.judge is not None]
    out += [format_table(["", *METRIC_COLUMNS, "judge"], rows)] if rows else [
        "  neither run is judged (benchagent judge RUN_ID)"]
    missing = [name for name, side in (("A", a), ("B", b)) if side.judge is None]
    if rows and missing:
        out.append(f"  {' and '.join(missing)} not judged")
    if rows and a.judge and b.judge and a.judge.judge != b.judge.judge:
        out.append("  note: judged by different models: the scores are not directly comparable")
    out += ["", "model accuracy:"]
    out += [format_table(["model", "A", "B"], [
        [p.model, "–" if p.a is None else f"{p.a:.3f} (n={p.n_a})",
         "–" if p.b is None else f"{p.b:.3f} (n={p.n_b})"] for p in c.accuracies])] \
        if c.accuracies else ["  no model evaluated on either run"]
    return "\n".join(out)
