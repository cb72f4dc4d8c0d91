"""`benchagent replay RUN_ID --out DIR`: rebuild a run's output directory from the log alone.

Where the run has judgements or human reviews, the quality report is rebuilt too, beside
the folder (`DIR.quality.json`, `DIR.quality.html`: `replay.quality.beside`), never in it:
the folder is exactly the published files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from benchagent.errors import UserError
from benchagent.home import add_store_options, read_run
from replay.benchmark_files import ProjectionError, benchmark_files, content_hash, write_output
from replay.projections import RunState
from replay.quality.from_run import has_quality_data


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="rebuild a benchmark from the log, byte for byte")
    p.add_argument("run_id")
    p.add_argument("--out", required=True, type=Path, help="output directory to (re)create")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    state = RunState.of(asyncio.run(read_run(args, args.run_id)), args.run_id)
    pub = state.publication.payload
    if pub is None:
        raise UserError(f"run {args.run_id} has not published a benchmark yet")
    try:
        files = benchmark_files(state, pub.sample_ids)
    except ProjectionError as exc:
        raise UserError(f"run {args.run_id}: {exc}") from None
    digest = content_hash(files)
    if digest != pub.content_hash:
        raise UserError(
            f"run {args.run_id}: rebuilt content hash {digest} differs from the published "
            f"{pub.content_hash}; run `benchagent verify {args.run_id}`"
        )
    write_output(files, args.out)
    quality: list[str] = []
    if has_quality_data(state):
        from replay.quality.beside import write_quality_beside

        quality = [str(p) for p in write_quality_beside(state, args.out)]
    if args.json:
        print(json.dumps({"run_id": args.run_id, "out_dir": str(args.out), "files": len(files),
                          "content_hash": digest, "quality": quality}))
    else:
        print(digest)
    return 0
