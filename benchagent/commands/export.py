"""`benchagent export RUN_ID --format hf|inspect|lm-eval|jsonl [--format ...] --out DIR`.

A projection of the log like `replay`: the run's hash chain is verified first (a tampered log
is refused), the published files are rebuilt from the events and checked against the
published content hash, and each format is written from them (`replay.exports`). One format
fills DIR; several go into DIR/<format>/. DIR must be new or empty; it appears complete or not
at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from benchagent.errors import UserError
from benchagent.home import add_store_options, read_blobs_for, read_run
from replay.anchor import Anchor
from replay.benchmark_files import ProjectionError, make_anchor, output_files
from replay.exports import FORMATS, render
from replay.exports.facts import pool_cards, run_facts
from replay.exports.items import ExportError
from replay.output_folder import FolderError, check_new_target, write_new_folder
from replay.projections import RunState
from store.verify import TamperedLog


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write a published benchmark for HF datasets, Inspect, "
                                      "lm-eval or as JSONL")
    p.add_argument("run_id")
    p.add_argument("--format", action="append", dest="formats", required=True, metavar="FORMAT",
                   help=f"one of {', '.join(FORMATS)} (repeatable)")
    p.add_argument("--out", required=True, type=Path, help="new or empty folder to write")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    formats = list(dict.fromkeys(args.formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UserError(f"unknown --format {unknown[0]!r}: choose from {', '.join(FORMATS)}")
    try:
        check_new_target(args.out)
    except FolderError as exc:
        raise UserError(f"--out {exc}") from None
    try:
        events = asyncio.run(read_run(args, args.run_id))
    except TamperedLog as exc:
        raise UserError(f"refusing to export a tampered log: {exc.report.summary()}") from None
    state = RunState.of(events, args.run_id)
    anchor = published_anchor(state)
    files = asyncio.run(read_blobs_for(args, lambda blobs: output_files(state, anchor, blobs)))
    assert state.request.event is not None
    facts = run_facts(events, files, pool_cards(state.request.event.payload.pools), anchor)
    try:
        out = render(files, facts, formats)
        write_new_folder(out, args.out)
    except ExportError as exc:
        raise UserError(f"run {args.run_id}: {exc}") from None
    except FolderError as exc:
        raise UserError(f"--out {exc}") from None
    if args.json:
        print(json.dumps({"run_id": args.run_id, "out_dir": str(args.out), "formats": formats,
                          "files": len(out), "head_hash": facts.head_hash}))
    else:
        print(f"{args.out}: {', '.join(formats)} ({len(out)} files, log head at publication "
              f"{facts.head_hash[:16]})")
    return 0


def published_anchor(state: RunState) -> Anchor:
    """The run's anchor (the benchmark rebuilt from the log matches the published content
    hash): the folder is then projected as `replay` writes it."""
    if state.publication.event is None:
        raise UserError(f"run {state.run_id} has not published a benchmark yet")
    try:
        return make_anchor(state)
    except ProjectionError as exc:
        raise UserError(f"run {state.run_id}: {exc}") from None

