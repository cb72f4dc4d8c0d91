"""`benchagent leaderboard RUN_ID [--json]`: the benchmark's models ranked by accuracy, with
bootstrap intervals, per subtask, and when each was released and evaluated
(replay/leaderboard.py, from the log alone)."""

from __future__ import annotations

import argparse
import asyncio
import json

import msgspec

from benchagent.errors import UserError
from benchagent.home import add_store_options, read_run
from benchagent.table import format_table
from replay.leaderboard import Score, leaderboard
from replay.projections import RunState
from replay.quality.stats import CONFIDENCE


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("leaderboard", help="models ranked by accuracy on a benchmark")
    p.add_argument("run_id")
    p.add_argument("--confidence", type=float, default=CONFIDENCE, metavar="X",
                   help=f"of the bootstrap intervals, in (0, 1) (default {CONFIDENCE:g})")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def _cell(score: Score | None) -> str:
    if score is None:
        return "—"
    return f"{score.accuracy:.3f} [{score.low:.2f}, {score.high:.2f}]"


def run(args: argparse.Namespace) -> int:
    if not 0 < args.confidence < 1:
        raise UserError(f"--confidence must be in (0, 1), got {args.confidence:g}")
    events = asyncio.run(read_run(args, args.run_id))
    state = RunState.of(events, args.run_id)
    if state.publication.event is None:
        raise UserError(f"run {args.run_id} has not published a benchmark")
    table = leaderboard(state, args.confidence)
    if args.json:
        print(json.dumps(msgspec.to_builtins(table), sort_keys=True))
        return 0
    headers = ["rank", "model", "accuracy", "n", *table.subtasks, "released", "evaluated"]
    rows = []
    for s in table.standings:
        status = str(s.rank) if s.rank is not None else s.status
        accuracy = _cell(s.overall) if s.status == "scored" else (s.reason or "")
        rows.append([status, s.model, accuracy, s.overall.n if s.overall else "",
                     *[_cell(s.per_subtask.get(t)) for t in table.subtasks],
                     s.released_at or "—", s.evaluated_at or "—"])
    print(f"{table.run_id}: {table.items} items, {100 * table.confidence:g}% bootstrap intervals")
    print(format_table(headers, rows, max_width=48))
    warnings = {s.overall.warning for s in table.standings if s.overall and s.overall.warning}
    for warning in sorted(warnings):
        print(f"note: {warning}")
    return 0
