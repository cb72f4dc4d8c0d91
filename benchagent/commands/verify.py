"""`benchagent verify RUN_ID`: recompute the run's hash chain and name the first bad event.

Exit 0 when the chain is intact, 1 when an event was modified, deleted,
inserted, reordered or cannot be decoded (bad input exits 2 via the CLI).
"""

from __future__ import annotations

import argparse
import asyncio
import json

import msgspec

from benchagent.home import add_store_options, open_log
from store.verify import VerifyReport, verify_run

EXIT_TAMPERED = 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("verify", help="check a run's log for tampering (hash chain)")
    p.add_argument("run_id")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


async def _verify(args: argparse.Namespace) -> VerifyReport:
    log = await open_log(args)
    try:
        return await verify_run(log, args.run_id)
    finally:
        await log.close()


def run(args: argparse.Namespace) -> int:
    report = asyncio.run(_verify(args))
    if args.json:
        print(json.dumps(msgspec.to_builtins(report)))
    else:
        print(report.summary())
    return 0 if report.ok else EXIT_TAMPERED
