"""`benchagent pool list`: what the dataset pool holds, and which cards are malformed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import structlog

from benchagent.errors import UserError
from benchagent.table import format_table
from tools.pool import Pool, PoolError, default_pool_dirs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pool", help="inspect the dataset pool")
    actions = p.add_subparsers(dest="pool_command", required=True, metavar="ACTION")
    ls = actions.add_parser("list", help="list the datasets of the pool (cards and generators)")
    ls.add_argument("--pool", action="append", type=Path, default=None, metavar="DIR",
                    help="pool directory with dataset_cards/ (repeatable; default $BENCHAGENT_POOL)")
    ls.add_argument("--no-generators", action="store_true",
                    help="leave out the built-in procedural generators")
    ls.add_argument("--json", action="store_true", help="print one JSON document")
    ls.set_defaults(func=run_list)


def load_pool(dirs: list[Path] | None, include_generators: bool = True) -> Pool:
    """The pool of `--pool` dirs (or the default ones); pool errors become `UserError`."""
    try:
        return Pool.load(dirs if dirs is not None else default_pool_dirs(),
                         include_generators=include_generators)
    except PoolError as exc:
        raise UserError(str(exc)) from None


def run_list(args: argparse.Namespace) -> int:
    if not structlog.is_configured():
        # structlog prints to stdout by default; keep stdout for the table / JSON.
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    pool = load_pool(args.pool, include_generators=not args.no_generators)
    rows: list[dict[str, Any]] = [
        {"dataset_id": c.dataset_id, "name": c.name, "modalities": c.modalities,
         "size": c.size_samples, "source": c.source}
        for c in pool.datasets
    ]
    problems = [{"file": p.file, "field": p.field, "message": p.message} for p in pool.problems]
    if args.json:
        print(json.dumps({"datasets": rows, "problems": problems}))
    else:
        print(format_table(
            ["dataset", "name", "modalities", "size", "source"],
            [[r["dataset_id"], r["name"], ",".join(r["modalities"]), r["size"], r["source"]]
             for r in rows],
        ))
        if pool.problems:
            print(f"\n{len(pool.problems)} malformed card(s), left out:")
            for p in pool.problems:
                print(f"  {p}")
    if not rows:
        raise UserError("the pool holds no usable dataset"
                        + (f" ({len(problems)} malformed card(s))" if problems else ""))
    return 0
