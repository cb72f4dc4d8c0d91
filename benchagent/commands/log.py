"""`benchagent log RUN_ID`: the run's timeline (seq, time, agent, event type, summary).

`--json` adds each event's payload (every field of the decision; media bytes as
sha256 and size, never the bytes) and its chain hash.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from benchagent.home import add_store_options, read_run
from benchagent.table import format_table
from replay.payloads import payload_json
from replay.timeline import timeline_rows


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("log", help="timeline of a run's events")
    p.add_argument("run_id")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    events = asyncio.run(read_run(args, args.run_id))
    rows = timeline_rows(events)
    if args.json:
        for row, env in zip(rows, events, strict=True):
            row["hash"] = env.hash
            row["payload"] = payload_json(env)
        print(json.dumps({"run_id": args.run_id, "events": rows}))
        return 0
    print(format_table(
        ["seq", "time", "agent", "type", "summary"],
        [[r["seq"], r["time"], r["agent"], r["type"], r["summary"]] for r in rows],
        max_width=90,
    ))
    return 0
