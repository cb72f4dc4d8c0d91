"""`benchagent runs`: the runs in the store and where each one stands."""

from __future__ import annotations

import argparse
import asyncio
import json

from benchagent.home import add_store_options, open_log
from benchagent.table import format_table
from store.events import BenchmarkPublished, RunCompleted, RunFailed, RunRequested


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
            status, requirement = "running", ""
            for e in events:
                p = e.payload
                if isinstance(p, RunRequested):
                    requirement = p.requirement
                elif isinstance(p, BenchmarkPublished):
                    status = "published"
                elif isinstance(p, RunCompleted):
                    status = "completed"
                elif isinstance(p, RunFailed):
                    status = "failed"
            rows.append({"run_id": run_id, "status": status, "events": len(events),
                         "requirement": requirement})
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
