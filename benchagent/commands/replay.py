"""`benchagent replay RUN_ID --out DIR`: rebuild a run's output directory from the log alone."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from benchagent.errors import UserError
from benchagent.home import add_store_options, read_blobs_for, read_run
from benchagent.run import anchored
from replay.anchor import AnchorError, load_signing_key
from replay.benchmark_files import ProjectionError, output_files
from replay.output_folder import FolderError, check_target, write_folder
from replay.projections import RunState


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="rebuild a benchmark from the log, byte for byte")
    p.add_argument("run_id")
    p.add_argument("--out", required=True, type=Path,
                   help="output folder: new, empty, or an earlier output of this run")
    p.add_argument("--sign-key", type=Path, metavar="FILE",
                   help="sign the anchor (log head and content hash) with this Ed25519 key")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        key = load_signing_key(args.sign_key) if args.sign_key is not None else None
        check_target(args.out, args.run_id)  # before any work: nothing of the user's is lost
        state = RunState.of(asyncio.run(read_run(args, args.run_id)), args.run_id)
        anchor = anchored(state, key)
        files = asyncio.run(read_blobs_for(args, lambda blobs: output_files(state, anchor, blobs)))
        write_folder(files, args.out, args.run_id)
    except AnchorError as exc:
        raise UserError(str(exc)) from None
    except FolderError as exc:
        raise UserError(f"--out {exc}") from None
    except ProjectionError as exc:
        raise UserError(f"run {args.run_id}: {exc}") from None
    digest = anchor.content_hash
    if args.json:
        print(json.dumps({"run_id": args.run_id, "out_dir": str(args.out), "files": len(files),
                          "content_hash": digest}))
    else:
        print(digest)
    return 0
