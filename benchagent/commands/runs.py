"""`benchagent runs`: the runs in the store and where each one stands."""

from __future__ import annotations

import argparse
import asyncio
import json

from benchagent.home import add_store_options, open_log
from benchagent.table import format_table
from replay.projections import RunState


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list runs and their status")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


async def _collect(args: argparse.Namespace) -> list[dict]:
    log = await open_log(args)
    try:
        rows = []
        for run_id in await log.runs():
            events = await log.read(run_id)
            state = RunState.of(events, run_id)
            request = state.request.event
            waiting = state.status.milestone == "running" and state.approval.waiting
            rows.append({"run_id": run_id,
                         "status": "awaiting approval" if waiting else state.status.milestone,
                         "events": len(events),
                         "requirement": request.payload.requirement if request else ""})
        return rows
    finally:
        await log.close()


def run(args: argparse.Namespace) -> int:
    rows = asyncio.run(_collect(args))
    if args.json:
        print(json.dumps({"runs": rows}))
    else:
        print(format_table(["run", "status", "events", "requirement"],
                           [[r["run_id"], r["status"], r["events"], r["requirement"]] for r in rows]))
    return 0
