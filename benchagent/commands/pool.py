"""`benchagent pool list`: what the dataset pool holds, and which cards are malformed;
`benchagent pool add PATH`: a JSONL, CSV, Parquet file or saved Hugging Face dataset joins it."""

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
    add = actions.add_parser("add", help="add a JSONL, CSV, Parquet file or a saved Hugging "
                                         "Face dataset folder to a pool (the card is inferred)")
    add.add_argument("path", type=Path, help="the data file, or the saved dataset's folder")
    add.add_argument("--name", default=None, help="the dataset's name (default: from the file)")
    add.add_argument("--pool", type=Path, default=None, metavar="DIR",
                     help="the pool to add to (default: the first of $BENCHAGENT_POOL)")
    add.add_argument("--license", default=None, metavar="ID",
                     help="licence of the data (e.g. cc-by-4.0), when its files do not say")
    add.add_argument("--json", action="store_true", help="print one JSON document")
    add.set_defaults(func=run_add)


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


def run_add(args: argparse.Namespace) -> int:
    import msgspec

    from tools.pool_import import PoolAddError, add_to_pool

    if not structlog.is_configured():
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    pool_dir = args.pool
    if pool_dir is None:
        defaults = default_pool_dirs()
        if not defaults:
            raise UserError("no pool to add to: give --pool DIR (or set $BENCHAGENT_POOL)")
        pool_dir = defaults[0]
    try:
        result = add_to_pool(args.path, pool_dir, name=args.name, license=args.license)
    except PoolAddError as exc:
        raise UserError(str(exc)) from None
    card = result.card
    if args.json:
        doc = msgspec.to_builtins(result)
        doc["card"] = msgspec.to_builtins(card)
        print(json.dumps(doc))
        return 0
    print(f"added {card.dataset_id} ({card.name}): {result.usable} usable records of "
          f"{card.size_samples}, modalities {', '.join(card.modalities)}, "
          f"tasks {', '.join(card.tasks)}")
    for p in result.placements:
        print(f"  {p.role:<10} <- {p.path} ({p.modality})")
    for path, why in result.left_out.items():
        print(f"  left out: {path} ({why})")
    if result.unusable:
        print(f"  {result.unusable} record(s) unusable, e.g.: {result.first_problem}")
    print(f"card: {result.card_file}")
    return 0
