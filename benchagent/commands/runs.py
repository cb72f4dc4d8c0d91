"""`benchagent runs`: the runs in the store, where each one stands, its lineage, and which
can be resumed.

A run is `completed`, `failed` (final: the run is wrong), `stopped` (the world failed, or
its build was interrupted: `benchagent build --resume RUN_ID` finishes it), or `running`
(`published` once its benchmark is out). In embedded mode a run that is not finished and
whose lock no process holds was killed mid-run: it shows as `interrupted`, resumable too.

A refresh (recorded by `benchagent watch` when a benchmark saturates) names its parent;
the `lineage` column shows each run's chain from the first version: `v1 → v2 → v3`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from benchagent.home import add_store_options, home_dir, open_log, store_url
from benchagent.run_lock import is_folder_locked
from benchagent.table import format_table
from benchagent.watch import WATCH_STREAM
from replay.projections import RunState


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list runs, their status, lineage and which can be resumed")
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


def status_of(state: RunState, locked: bool | None) -> tuple[str, bool]:
    """(status, resumable). `locked`: whether a live build holds the run (None: unknown)."""
    status = state.status
    if status.failed is not None:
        return "failed", False
    if status.completed is not None:
        return "completed", False
    if status.stopped is not None:
        return "stopped", True
    if status.stalled is not None:
        return "stalled", True
    if locked is False:
        return "interrupted", True
    return status.milestone, False


async def _collect(args: argparse.Namespace) -> list[dict[str, Any]]:
    log = await open_log(args)
    embedded = store_url(args) is None
    try:
        rows = []
        parents: dict[str, str | None] = {}
        for run_id in await log.runs():
            events = await log.read(run_id)
            state = RunState.of(events, run_id)
            request = state.request.event
            parents[run_id] = state.lineage.parent
            if run_id == WATCH_STREAM and request is None:
                status, resumable = "watcher", False
            elif state.status.milestone == "running" and state.approval.waiting:
                status, resumable = "awaiting approval", False
            else:
                locked = is_folder_locked(home_dir(args), run_id) if embedded else None
                status, resumable = status_of(state, locked)
            stop = state.status.stopped or state.status.stalled
            rows.append({"run_id": run_id, "status": status, "resumable": resumable,
                         "resume": f"benchagent build --resume {run_id}" if resumable else None,
                         "reason": stop.payload.reason if stop is not None else None,
                         "events": len(events),
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
            ["run", "status", "events", "lineage", "requirement", "resume"],
            [[r["run_id"], r["status"], r["events"],
              " → ".join(r["lineage"]) if len(r["lineage"]) > 1 else "", r["requirement"],
              r["resume"] or ""]
             for r in rows]))
    return 0
