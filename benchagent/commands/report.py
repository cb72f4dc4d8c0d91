"""`benchagent report RUN_ID --out FILE.html`: the run's quality report as one page.

A projection of the log (`replay.quality.from_run`): requirement, subtasks, sources, an item
browser (images shown, audio playable), rejections by check, the judge's metrics, human
acceptance and agreement, model accuracies per subtask with intervals, accuracy against
complexity for generated items, and consistency with the latest `--expect-order`. Nothing is
fetched when the page is viewed; the same log gives the same bytes. `--json-out FILE` also
writes the figures as JSON (what `replay` writes as `DIR.quality.json`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from functools import partial
from pathlib import Path

from benchagent.errors import UserError
from benchagent.home import add_store_options, open_log, read_blobs_for
from benchagent.quality_runs import published_state
from replay.projections import RunState
from replay.quality.run_media import items_media


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="the run's quality report as one self-contained page")
    p.add_argument("run_id")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.html")
    p.add_argument("--json-out", type=Path, metavar="FILE.json",
                   help="also write the report's figures as JSON")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for path in filter(None, (args.out, args.json_out)):
        if not path.parent.resolve().is_dir():
            raise UserError(f"{path}: its folder {path.parent} does not exist")
        if path.is_dir():
            raise UserError(f"{path} is a folder: give a file name")
    if args.out.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--out {args.out}: the report is an .html file")
    state = asyncio.run(_state(args))
    media = asyncio.run(read_blobs_for(args, partial(items_media, state)))
    from replay.quality.from_run import quality_json, report_inputs
    from replay.quality.output import write_atomically
    from replay.quality.report import render_report
    from replay.quality.report_model import summarise

    report = summarise(report_inputs(state, seed=state.request.payload.seed, media=media))
    page = render_report(report).encode("utf-8")
    figures = quality_json(report) if args.json_out else b""
    write_atomically(args.out, page)
    if args.json_out:
        write_atomically(args.json_out, figures)
    if args.json:
        print(json.dumps({"run_id": args.run_id, "out": str(args.out), "bytes": len(page),
                          "items": len(report.items), "judged": report.judge is not None,
                          "reviewed": report.human.reviewed if report.human else 0,
                          "models": report.models}))
    else:
        print(f"{args.out}: quality report of run {args.run_id} ({len(report.items)} items, "
              f"{len(page) / 1e6:.1f} MB)")
    return 0


async def _state(args: argparse.Namespace) -> RunState:
    event_log = await open_log(args)
    try:
        return await published_state(event_log, args.run_id)
    finally:
        await event_log.close()
