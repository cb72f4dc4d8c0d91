"""`benchagent runs`: the runs in the store, where each one stands, and its lineage.

A refresh (recorded by `benchagent watch` when a benchmark saturates) names its parent;
the `lineage` column shows each run's chain from the first version: `v1 → v2 → v3`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from benchagent.home import add_store_options, open_log
from benchagent.table import format_table
from benchagent.watch import WATCH_STREAM
from replay.projections import RunState


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list runs, their status and lineage")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def lineage_of(run_id: str, parents: dict[str, str | None]) -> list[str]:
    """The chain of runs from the lineage's first version to `run_id` (a cycle stops it)."""
    chain = [run_id]
    parent = parents.get(run_id)
    while parent is not None and parent not in chain:
        chain.insert(0, parent)
        parent = parents.get(parent)
    return chain


async def _collect(args: argparse.Namespace) -> list[dict[str, Any]]:
    log = await open_log(args)
    try:
        rows = []
        parents: dict[str, str | None] = {}
        for run_id in await log.runs():
            events = await log.read(run_id)
            state = RunState.of(events, run_id)
            request = state.request.event
            parents[run_id] = state.lineage.parent
            status = "watcher" if run_id == WATCH_STREAM and request is None \
                else state.status.milestone
            rows.append({"run_id": run_id, "status": status, "events": len(events),
                         "requirement": request.payload.requirement if request else "",
                         "parent": state.lineage.parent, "version": state.lineage.version})
        for row in rows:
            row["lineage"] = lineage_of(str(row["run_id"]), parents)
        return rows
    finally:
        await log.close()


def run(args: argparse.Namespace) -> int:
    rows = asyncio.run(_collect(args))
    if args.json:
        print(json.dumps({"runs": rows}))
    else:
        print(format_table(
            ["run", "status", "events", "lineage", "requirement"],
            [[r["run_id"], r["status"], r["events"],
              " → ".join(r["lineage"]) if len(r["lineage"]) > 1 else "", r["requirement"]]
             for r in rows]))
    return 0
