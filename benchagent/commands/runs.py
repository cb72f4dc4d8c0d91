"""`benchagent runs`: the runs in the store, where each one stands, and which can be resumed.

A run is `completed`, `failed` (final: the run is wrong), `stopped` (the world failed, or
its build was interrupted: `benchagent build --resume RUN_ID` finishes it), or `running`
(`published` once its benchmark is out). In embedded mode a run that is not finished and
whose lock no process holds was killed mid-run: it shows as `interrupted`, resumable too.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from benchagent.home import add_store_options, home_dir, open_log, store_url
from benchagent.run_lock import is_folder_locked
from benchagent.table import format_table
from replay.projections import RunState


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list runs, their status and which can be resumed")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def status_of(state: RunState, locked: bool | None) -> tuple[str, bool]:
    """(status, resumable). `locked`: whether a live build holds the run (None: unknown)."""
    status = state.status
    if status.failed is not None:
        return "failed", False
    if status.completed is not None:
        return "completed", False
    if status.stopped is not None:
        return "stopped", True
    if locked is False:
        return "interrupted", True
    return status.milestone, False


async def _collect(args: argparse.Namespace) -> list[dict]:
    log = await open_log(args)
    embedded = store_url(args) is None
    try:
        rows = []
        for run_id in await log.runs():
            events = await log.read(run_id)
            state = RunState.of(events, run_id)
            request = state.request.event
            locked = is_folder_locked(home_dir(args), run_id) if embedded else None
            status, resumable = status_of(state, locked)
            stop = state.status.stopped
            rows.append({"run_id": run_id, "status": status, "resumable": resumable,
                         "resume": f"benchagent build --resume {run_id}" if resumable else None,
                         "reason": stop.payload.reason if stop is not None else None,
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
        print(format_table(["run", "status", "events", "requirement", "resume"],
                           [[r["run_id"], r["status"], r["events"], r["requirement"],
                             r["resume"] or ""] for r in rows]))
    return 0
