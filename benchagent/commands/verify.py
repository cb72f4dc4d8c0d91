"""`benchagent verify RUN_ID [--against DIR]`: recompute the run's hash chain and name the
first bad event; with `--against`, also check a published benchmark folder against the log.

Exit 0 when the chain is intact, every media blob the log names is in the blob
store with its bytes (and the folder agrees), 1 when an event was modified,
deleted, inserted, reordered or cannot be decoded, a blob is missing or altered
(each named), or when the folder and the log disagree: one line per disagreement (a log re-chained after
publication, different items, missing or altered media, a bad signature). Bad
input, e.g. `--against` a folder that is not a benchmark, exits 2 via the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

import msgspec

from benchagent.errors import UserError
from benchagent.home import add_store_options, open_blobs, open_log
from replay.anchor import AnchorError, load_public_key, read_folder_anchor
from replay.projections import RunState
from replay.published_check import folder_problems
from store.events import Envelope, MediaStored
from store.verify import VerifyReport, blob_problems, read_verified, verify_run

EXIT_TAMPERED = 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a run's log for tampering (hash chain)")
    p.add_argument("run_id")
    p.add_argument("--against", type=Path, metavar="DIR",
                   help="also check a published benchmark folder against the log")
    p.add_argument("--public-key", type=Path, metavar="FILE",
                   help="with --against: require the anchor signed by this Ed25519 key")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


async def _verify(args: argparse.Namespace) -> tuple[VerifyReport, list[Envelope], list[str]]:
    """The chain's report; if intact, the run's events and every referenced blob's problem."""
    log = await open_log(args)
    try:
        report = await verify_run(log, args.run_id)
        if not report.ok:
            return report, [], []
        events = await read_verified(log, args.run_id)
    finally:
        await log.close()
    blobs = await open_blobs(args)
    try:
        return report, events, await blob_problems(events, blobs)
    finally:
        await blobs.close()


def run(args: argparse.Namespace) -> int:
    if args.public_key is not None and args.against is None:
        raise UserError("--public-key needs --against DIR")
    try:
        trusted = load_public_key(args.public_key) if args.public_key is not None else None
        if args.against is not None:
            read_folder_anchor(args.against)  # not a benchmark: one line before any work
    except AnchorError as exc:
        raise UserError(str(exc)) from None
    report, events, blobs_bad = asyncio.run(_verify(args))
    problems: list[str] = []
    if report.ok and args.against is not None:
        try:
            problems = folder_problems(RunState.of(events, args.run_id), args.against, trusted)
        except AnchorError as exc:
            raise UserError(str(exc)) from None
    ok = report.ok and not problems and not blobs_bad
    media = len({e.payload.sha256 for e in events if isinstance(e.payload, MediaStored)})
    if args.json:
        doc = msgspec.to_builtins(report)
        doc["blobs"] = {"checked": media, "ok": not blobs_bad, "problems": blobs_bad}
        if args.against is not None:
            doc["against"] = {"folder": str(args.against), "ok": report.ok and not problems,
                              "problems": problems}
        doc["ok"] = ok
        print(json.dumps(doc))
    elif not report.ok:
        print(report.summary())
    else:
        for line in blobs_bad:
            print(f"run {args.run_id}: {line}")
        for line in problems:
            print(f"run {args.run_id} vs {args.against}: {line}")
        if ok:
            print(report.summary() + f"; {media} media blobs intact"
                  + (f"; {args.against} agrees with the log" if args.against is not None else ""))
    return 0 if ok else EXIT_TAMPERED
