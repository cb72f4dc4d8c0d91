"""`benchagent audit RUN_ID [--sample ID]`: why each sample was accepted or discarded."""

from __future__ import annotations

import argparse
import asyncio
import json

import msgspec

from benchagent.errors import UserError
from benchagent.home import add_store_options, read_run
from benchagent.table import format_table
from replay.audit import rejection_counts, sample_chain, sample_fates, sample_quality


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("audit", help="explain the fate of samples")
    p.add_argument("run_id")
    p.add_argument("--sample", help="one sample's causal chain")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    events = asyncio.run(read_run(args, args.run_id))
    if args.sample:
        return _one(args, events)
    fates = sample_fates(events)
    counts = rejection_counts(fates)
    if args.json:
        doc = {"run_id": args.run_id, "samples": msgspec.to_builtins(fates), "rejections": counts}
        print(json.dumps(doc))
        return 0
    print(format_table(
        ["sample", "subtask", "source", "fate", "check", "reason"],
        [[f.sample_id, f.subtask, f"{f.dataset_id}#{f.source_item_id}", f.fate, f.check, f.reason]
         for f in fates],
    ))
    tally = {fate: sum(1 for f in fates if f.fate == fate) for fate in sorted({f.fate for f in fates})}
    print("\n" + ", ".join(f"{n} {fate}" for fate, n in tally.items()))
    if counts:
        print("\nrejections by reason:")
        for reason, n in counts.items():
            print(f"  {n:4d}  {reason}")
    return 0


def _one(args: argparse.Namespace, events: list) -> int:
    try:
        steps = sample_chain(events, args.sample)
    except KeyError:
        raise UserError(f"run {args.run_id} has no sample {args.sample}") from None
    fate = next((f for f in sample_fates(events) if f.sample_id == args.sample), None)
    quality = sample_quality(events, args.sample)
    if args.json:
        doc = {
            "run_id": args.run_id,
            "sample": args.sample,
            "fate": msgspec.to_builtins(fate),
            "chain": msgspec.to_builtins(steps),
            "quality": msgspec.to_builtins(quality),
        }
        print(json.dumps(doc))
        return 0
    for s in steps:
        print(f"{s.seq:6d}  {s.agent:<12} {s.type:<22} {s.summary}")
    if fate:
        verdict = fate.fate + (f" by {fate.check}: {fate.reason}" if fate.fate == "rejected" else "")
        print(f"\n{args.sample}: {verdict}")
    for j in quality.judgements:
        print(f"\njudged by {j.judge} (seq {j.seq}{', self-judged' if j.self_judged else ''}):")
        for metric, score in j.scores.items():
            print(f"  {metric.upper()} {score.score}/5  {score.reason}")
        if j.unseen_media:
            print(f"  media the judge could not see: {', '.join(j.unseen_media)}")
    if quality.review is not None:
        r = quality.review
        print(f"\nhuman review (seq {r.seq}): " + ", ".join(
            f"{c} {v}/5" for c, v in r.marks.items()) + (f" — {r.comment}" if r.comment else ""))
    return 0
