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
from benchagent.home import add_store_options, open_log
from replay.benchmark_files import BenchmarkFiles, ProjectionError, content_hash, project_benchmark
from replay.exports import FORMATS, render
from replay.exports.facts import pool_cards, run_facts
from replay.exports.folder import FolderError, check_target, write_folder
from replay.exports.items import ExportError
from store.events import BenchmarkPublished, Envelope, RunRequested, decode
from store.log import UnknownRun
from store.verify import check_chain


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
        check_target(args.out)
    except FolderError as exc:
        raise UserError(str(exc)) from None
    events = asyncio.run(_verified_events(args))
    files = published_files(args.run_id, events)
    request = next(e.payload for e in events if isinstance(e.payload, RunRequested))
    facts = run_facts(events, files, pool_cards(request.pools))
    try:
        out = render(files, facts, formats)
        write_folder(out, args.out)
    except (ExportError, FolderError) as exc:
        raise UserError(f"run {args.run_id}: {exc}") from None
    if args.json:
        print(json.dumps({"run_id": args.run_id, "out_dir": str(args.out), "formats": formats,
                          "files": len(out), "head_hash": facts.head_hash}))
    else:
        print(f"{args.out}: {', '.join(formats)} ({len(out)} files, log head {facts.head_hash[:16]})")
    return 0


async def _verified_events(args: argparse.Namespace) -> list[Envelope]:
    """The run's events, decoded from the very bytes whose hash chain was checked."""
    log = await open_log(args)
    try:
        raw = await log.read_raw(args.run_id)
    finally:
        await log.close()
    if not raw:
        raise UnknownRun(args.run_id)
    report = check_chain(args.run_id, raw)
    if not report.ok:
        raise UserError(f"refusing to export a tampered log: {report.summary()}")
    return [decode(data) for _, data in raw]


def published_files(run_id: str, events: list[Envelope]) -> BenchmarkFiles:
    """The published benchmark rebuilt from the log, checked against its content hash."""
    published = [e.payload for e in events if isinstance(e.payload, BenchmarkPublished)]
    if not published:
        raise UserError(f"run {run_id} has not published a benchmark yet")
    pub = published[-1]
    try:
        files = project_benchmark(events, pub.sample_ids)
    except ProjectionError as exc:
        raise UserError(f"run {run_id}: {exc}") from None
    if content_hash(files) != pub.content_hash:
        raise UserError(f"run {run_id}: the files rebuilt from the log differ from the published "
                        f"content hash {pub.content_hash[:16]}")
    return files
