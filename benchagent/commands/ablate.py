"""`benchagent ablate "REQUIREMENT" --size N --seed S [--variants LIST] [--judge SPEC]`: the
paper's component ablation (Benchmark Agent, Table 4).

Builds one run per variant with the same requirement, size, seed, backbone and pool: `full`
(every component), and one run without each named component (`design`,
`grounding-scoring`, `sample-planning`, `verifier`: the `--disable` ablations). The runs are
`<PREFIX>-<variant>` (`--run-id PREFIX`, else a new id) and each records an `AblationLinked`
naming all of them. Every variant is judged by the same judge (`--judge`, default the
backbone), and the table printed has one row per variant: UIA FSQ QAC CQC TSD SSC Overall on
0-100, the items accepted and rejected, and the LLM calls the build made (the judge's not
counted). Running it again with the same PREFIX reuses the finished runs and the recorded
judgements: nothing is built or judged twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

import msgspec

from agents.models import ModelRouter
from agents.registry import ABLATIONS, parse_disabled
from agents.sources import PoolCache
from benchagent.commands import build
from benchagent.commands.judge import METRIC_COLUMNS, JudgeOutcome, judge_run, parse_items
from benchagent.config import BuildConfig, load_config
from benchagent.errors import UserError
from benchagent.home import add_store_options, open_blobs, open_log
from benchagent.quality_runs import store_url
from benchagent.table import format_table
from replay.projections import RunState
from store.blobs import BlobStore
from store.events import AblationLinked, new_event
from store.log import EventLog

FULL = "full"
VARIANTS = (FULL, *ABLATIONS)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ablate", help="build and judge every ablation variant (Table 4)")
    p.add_argument("requirement")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--variants", default=",".join(VARIANTS), metavar="LIST",
                   help=f"comma-separated, among {','.join(VARIANTS)} (default all)")
    p.add_argument("--judge", metavar="SPEC", help="judge of every variant (default: backbone)")
    p.add_argument("--items", default="all", metavar="N|all", help="items judged per variant")
    p.add_argument("--run-id", metavar="PREFIX", help="runs are PREFIX-<variant>")
    p.add_argument("--pool", action="append", dest="pools", metavar="DIR")
    p.add_argument("--llm", help="backbone model spec")
    p.add_argument("--llm-key-env", metavar="NAME")
    p.add_argument("--config", type=Path, metavar="YAML")
    p.add_argument("--llm-concurrency", type=int, metavar="N")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


class AblationRow(msgspec.Struct, frozen=True, kw_only=True):
    variant: str
    run_id: str
    status: str  # completed | failed | judge failed
    uia: float | None = None
    fsq: float | None = None
    qac: float | None = None
    cqc: float | None = None
    tsd: float | None = None
    ssc: float | None = None
    overall: float | None = None
    accepted: int = 0
    rejected: int = 0
    llm_calls: int = 0  # building the variant (the judge's calls not counted)
    note: str = ""


class AblationTable(msgspec.Struct, frozen=True, kw_only=True):
    group: str
    requirement: str
    size: int
    seed: int
    judge: str
    rows: list[AblationRow]


def parse_variants(text: str) -> list[str]:
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or not names:
        raise UserError(f"--variants: unknown variant {unknown[0]!r}; choose among "
                        f"{', '.join(VARIANTS)}" if unknown else "--variants: none given")
    return names


def _build_args(args: argparse.Namespace, variant: str, run_id: str,
                resume: bool) -> argparse.Namespace:
    """The `benchagent build` flags of one variant (parsed by build's own parser)."""
    parser = argparse.ArgumentParser(prog="benchagent")
    build.add_parser(parser.add_subparsers(dest="command"))
    argv = ["build"]
    if resume:
        argv += ["--resume", run_id]
    else:
        argv += [args.requirement, "--size", str(args.size), "--seed", str(args.seed),
                 "--run-id", run_id, "--json"]
        if variant != FULL:
            argv += ["--disable", variant]
        for flag, value in (("--llm", args.llm), ("--llm-key-env", args.llm_key_env),
                            ("--config", args.config)):
            if value is not None:
                argv += [flag, str(value)]
        for pool in args.pools or []:
            argv += ["--pool", pool]
    for flag, value in (("--llm-concurrency", args.llm_concurrency), ("--home", args.home),
                        ("--store", args.store)):
        if value is not None:
            argv += [flag, str(value)]
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    variants = parse_variants(args.variants)
    items = parse_items(args.items)
    prefix = build._check_run_id(args.run_id) if args.run_id else build.new_run_id()
    runs = {v: build._check_run_id(f"{prefix}-{v}") for v in variants}
    pools = PoolCache()
    for variant in variants:  # every variant's flags checked before anything is built
        check = _build_args(args, variant, runs[variant], resume=False)
        build.build_request(check, pools)
        parse_disabled([] if variant == FULL else [variant])
    existing = asyncio.run(_existing(args, list(runs.values())))
    for variant in variants:
        run_id = runs[variant]
        status = existing.get(run_id)
        if status == "completed" or status == "failed":
            print(f"{variant}: run {run_id} already {status}; reusing it", file=sys.stderr)
            continue
        print(f"{variant}: building run {run_id}", file=sys.stderr)
        try:
            build.execute(_build_args(args, variant, run_id, resume=status == "running"))
        except UserError as exc:
            print(f"{variant}: {exc}", file=sys.stderr)
    table = asyncio.run(_link_and_judge(args, prefix, runs, items))
    if args.json:
        print(json.dumps(msgspec.to_builtins(table), sort_keys=True))
    else:
        print(render(table))
    return 0


async def _existing(args: argparse.Namespace, run_ids: list[str]) -> dict[str, str]:
    """run id -> running | completed | failed, for the runs the store already has."""
    if not args.store and not build._home_path(args).joinpath("events.db").is_file():
        return {}
    event_log = await open_log(args)
    try:
        found: dict[str, str] = {}
        for run_id in run_ids:
            events = await event_log.read(run_id)
            if events:
                found[run_id] = RunState.of(events, run_id).status.outcome(run_id).status
        return found
    finally:
        await event_log.close()


async def _link_and_judge(args: argparse.Namespace, group: str, runs: dict[str, str],
                          items: int | None) -> AblationTable:
    event_log = await open_log(args)
    blobs = await open_blobs(args)
    config = load_config(args.config) if args.config else BuildConfig()
    router = ModelRouter(retry=build.retry_policy(config),
                         max_concurrency=args.llm_concurrency or config.llm_concurrency or 4)
    judge = ""
    try:
        rows = []
        for variant, run_id in runs.items():
            state = await _link(event_log, group, variant, runs)
            row, outcome = await _row(event_log, blobs, router, args, variant, run_id, state,
                                      items)
            judge = judge or (outcome.judge if outcome else "")
            rows.append(row)
    finally:
        await router.close()
        await blobs.close()
        await event_log.close()
    return AblationTable(group=group, requirement=args.requirement, size=args.size,
                         seed=args.seed, judge=judge, rows=rows)


async def _link(event_log: EventLog, group: str, variant: str,
                runs: dict[str, str]) -> RunState | None:
    """Record the variant's siblings in its log (once); its state, or None if never built."""
    run_id = runs[variant]
    events = await event_log.read(run_id)
    if not events:
        return None
    state = RunState.of(events, run_id)
    if state.ablation.event is None:
        env = new_event(run_id, "cli", AblationLinked(group=group, variant=variant,
                                                      runs=dict(runs)),
                        events[0].event_id, key=f"ablation:{group}")
        for stored in await event_log.append([env]):
            state.fold(stored)
    return state


async def _row(event_log: EventLog, blobs: BlobStore, router: ModelRouter,
               args: argparse.Namespace,
               variant: str, run_id: str, state: RunState | None,
               items: int | None) -> tuple[AblationRow, JudgeOutcome | None]:
    if state is None:
        return AblationRow(variant=variant, run_id=run_id, status="not built"), None
    row = AblationRow(variant=variant, run_id=run_id, status="failed",
                      llm_calls=state.llm.building_calls())
    pub = state.publication.payload
    if pub is None:
        failed = state.status.failed
        reason = failed.payload.reason if failed else "no benchmark published"
        return msgspec.structs.replace(row, note=reason), None
    row = msgspec.structs.replace(row, accepted=pub.accepted, rejected=pub.rejected)
    try:
        outcome = await judge_run(event_log, store_url(args.store), router, run_id,
                                  judge=args.judge or state.request.payload.llm, items=items,
                                  seed=args.seed, blobs=blobs)
    except UserError as exc:
        return msgspec.structs.replace(row, status="judge failed", note=str(exc)), None
    t = outcome.table
    return msgspec.structs.replace(
        row, status="completed", uia=t.uia, fsq=t.fsq, qac=t.qac, cqc=t.cqc, tsd=t.tsd,
        ssc=t.ssc, overall=t.overall,
        note="self-judged" if outcome.self_judged else ""), outcome


def _cell(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def render(t: AblationTable) -> str:
    head = ["variant", *METRIC_COLUMNS, "accepted", "rejected", "LLM calls", "run"]
    rows = [[("w/o " + r.variant) if r.variant != FULL else FULL,
             *(_cell(v) for v in (r.uia, r.fsq, r.qac, r.cqc, r.tsd, r.ssc, r.overall)),
             r.accepted, r.rejected, r.llm_calls, r.run_id] for r in t.rows]
    lines = [f"ablation {t.group}: size {t.size}, seed {t.seed}, judged by {t.judge or '–'} "
             "(scores 0-100, Overall as the paper's Table 1)", "", format_table(head, rows)]
    lines += [f"{r.variant}: {r.status}{': ' + r.note if r.note else ''}" for r in t.rows
              if r.status != "completed"]
    own = [r.variant for r in t.rows if r.note == "self-judged"]
    if own:
        which = "every variant" if len(own) == len(t.rows) else ", ".join(own)
        lines.append(f"note: the judge is the backbone that built {which} (self-judged); "
                     "--judge SPEC names another model")
    return "\n".join(lines)
