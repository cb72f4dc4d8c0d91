"""`benchagent review RUN_ID --sheet FILE.html|FILE.csv [--items N]` and
`benchagent review RUN_ID --import FILE.csv`: the paper's human evaluation (§4.1).

`--sheet` writes a seeded sample of the published items (`--seed`, default the run's) for a
person to mark 1-5 on correct, clear, answerable and relevant: an HTML page (media inline,
marks saved as a CSV from the page) or a CSV for a spreadsheet. `--import` reads the marked
CSV back, checks every row against the run's items (one line naming row and column of the
first problem, and nothing recorded), and appends one `HumanReviewed` per marked item.
Importing the same file twice records nothing new. It prints the acceptance rate (the
paper's Acc.) and its agreement with the judge (Cohen's κ) where items were judged.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
from pathlib import Path

import msgspec

from benchagent.errors import UserError
from benchagent.home import add_store_options, open_blobs, open_log
from benchagent.quality_runs import publication, published_state
from replay.projections import RunState
from replay.quality import stats
from replay.quality.review_sheet import (
    ReviewSheetError,
    SheetItem,
    read_review_csv,
    sample_for_review,
    write_sheet,
)
from replay.quality.run_media import known_media
from store.events import HumanReviewed, new_event
from store.quality import HumanReview


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="human review: write a sheet, or import its marks")
    p.add_argument("run_id")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--sheet", type=Path, metavar="FILE.html|FILE.csv",
                      help="write a review sheet of sampled items")
    what.add_argument("--import", dest="import_csv", type=Path, metavar="FILE.csv",
                      help="record the marks of a filled sheet")
    p.add_argument("--items", type=int, metavar="N", help="items on the sheet (default all)")
    p.add_argument("--seed", type=int, help="seed of the item sample (default: the run's)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.items is not None and (args.import_csv or args.items < 1):
        raise UserError("--items takes a positive number, and only with --sheet")
    if args.sheet is not None:
        return asyncio.run(_sheet(args))
    return asyncio.run(_import(args))


async def _state(args: argparse.Namespace) -> RunState:
    event_log = await open_log(args)
    try:
        return await published_state(event_log, args.run_id)
    finally:
        await event_log.close()


async def _sheet(args: argparse.Namespace) -> int:
    state = await _state(args)
    pub = publication(state).payload
    seed = state.request.payload.seed if args.seed is None else args.seed
    ids = sample_for_review(pub.sample_ids, args.items, seed=seed)
    items = []
    blobs = await open_blobs(args)
    try:
        for sid in ids:
            item = state.samples.realized[sid].payload.item
            items.append(SheetItem(sample_id=sid, item=item,
                                   media=await known_media(state, item.media, blobs)))
    finally:
        await blobs.close()
    try:
        write_sheet(items, args.sheet, run_id=args.run_id,
                    requirement=state.request.payload.requirement)
    except ReviewSheetError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"{args.sheet}: cannot be written ({exc})") from None
    if args.json:
        print(json.dumps({"run_id": args.run_id, "sheet": str(args.sheet), "items": ids}))
    else:
        print(f"{args.sheet}: {len(ids)} items to review; import the marks with "
              f"`benchagent review {args.run_id} --import FILE.csv`")
    return 0


async def _import(args: argparse.Namespace) -> int:
    event_log = await open_log(args)
    try:
        state = await published_state(event_log, args.run_id)
        pub = publication(state)
        try:
            reviews = read_review_csv(args.import_csv, pub.payload.sample_ids)
        except ReviewSheetError as exc:
            raise UserError(str(exc)) from None
        digest = hashlib.sha256(args.import_csv.read_bytes()).hexdigest()
        sheet = f"{args.import_csv.name}#{digest[:12]}"
        envs = [new_event(args.run_id, "cli", HumanReviewed(
            sample_id=r.sample_id, marks=r.marks, comment=r.comment, sheet=sheet),
            pub.event_id, key=f"review:{digest}:{r.sample_id}") for r in reviews]
        known = {e.event_id for e in await event_log.read(args.run_id)}
        fresh = [e for e in envs if e.event_id not in known]
        if fresh:
            for env in await event_log.append(fresh):
                state.fold(env)
    finally:
        await event_log.close()
    agreement = human_summary(state)
    if args.json:
        print(json.dumps({"run_id": args.run_id, "imported": len(reviews), "new": len(fresh),
                          "human": msgspec.to_builtins(agreement)}, sort_keys=True))
        return 0
    print(f"{args.import_csv}: {len(reviews)} reviewed items ({len(fresh)} new) recorded "
          f"in run {args.run_id}")
    if agreement is not None:
        print(render_agreement(agreement))
    return 0


def human_summary(state: RunState) -> stats.HumanAgreement | None:
    """Acc. over every reviewed item, κ with the judge's latest judgement where both exist."""
    reviews = [HumanReview(sample_id=sid, marks=env.payload.marks, comment=env.payload.comment)
               for sid, env in sorted(state.reviews.latest.items())]
    if not reviews:
        return None
    judged = {sid: j.judgement() for sid, j in state.judgements.latest_items().items()}
    return stats.human_agreement(reviews, judged, seed=state.request.payload.seed)


def render_agreement(h: stats.HumanAgreement) -> str:
    acc = h.acceptance
    kappa = "undefined" if h.kappa_acceptance is None else f"{h.kappa_acceptance:.2f}"
    lines = [f"acceptance (Acc.) {100 * acc.estimate:.1f}% [{100 * acc.low:.1f}, "
             f"{100 * acc.high:.1f}] over {h.reviewed} reviewed items",
             f"agreement with the judge on {h.judged_and_reviewed} items: Cohen's κ {kappa}"
             if h.judged_and_reviewed else "no reviewed item has been judged: no κ yet"]
    if h.warning:
        lines.append(f"⚠ {h.warning}")
    return "\n".join(lines)
