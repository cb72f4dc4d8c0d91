"""`benchagent replay RUN_ID --out DIR`: rebuild a run's output directory from the log alone.

Where the run has judgements or human reviews, the quality report is rebuilt too, beside
the folder (`DIR.quality.json`, `DIR.quality.html`: `replay.quality.beside`), never in it:
the folder is exactly the published files.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from functools import partial
from pathlib import Path

from benchagent.errors import UserError
from benchagent.home import add_store_options, read_blobs_for, read_run
from benchagent.run import anchored
from replay.anchor import Anchor, AnchorError, load_signing_key
from replay.benchmark_files import BenchmarkFiles, ProjectionError, output_files
from replay.output_folder import FolderError, check_target, write_folder
from replay.projections import RunState
from replay.quality.from_run import has_quality_data
from replay.quality.run_media import items_media
from store.blobs import BlobStore


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


async def _read(state: RunState, anchor: Anchor,
                blobs: BlobStore) -> tuple[BenchmarkFiles, dict[str, bytes] | None]:
    """The benchmark's files, and the media of its quality report if it has one."""
    files = await output_files(state, anchor, blobs)
    media = await items_media(state, blobs) if has_quality_data(state) else None
    return files, media


def run(args: argparse.Namespace) -> int:
    try:
        key = load_signing_key(args.sign_key) if args.sign_key is not None else None
        check_target(args.out, args.run_id)  # before any work: nothing of the user's is lost
        state = RunState.of(asyncio.run(read_run(args, args.run_id)), args.run_id)
        anchor = anchored(state, key)
        files, media = asyncio.run(read_blobs_for(args, partial(_read, state, anchor)))
        write_folder(files, args.out, args.run_id)
    except AnchorError as exc:
        raise UserError(str(exc)) from None
    except FolderError as exc:
        raise UserError(f"--out {exc}") from None
    except ProjectionError as exc:
        raise UserError(f"run {args.run_id}: {exc}") from None
    digest = anchor.content_hash
    quality: list[str] = []
    if media is not None:
        from replay.quality.beside import write_quality_beside

        quality = [str(p) for p in write_quality_beside(state, args.out, media)]
    if args.json:
        print(json.dumps({"run_id": args.run_id, "out_dir": str(args.out), "files": len(files),
                          "content_hash": digest, "quality": quality}))
    else:
        print(digest)
    return 0
