"""`benchagent judge RUN_ID [--judge SPEC] [--items N|all] [--seed S] [--json]`: LLM-as-Judge.

The paper's protocol (Benchmark Agent §4.1, App. A.2): the benchmark's UIA and every judged
item's FSQ, QAC, CQC, TSD and SSC, 1-5 with a reason written first, reported on 0-100 with
Overall as in its Table 1 (`replay.quality.judge_table`). The command appends a
`JudgeRequested` (the judge model, whether it sees images, the items) and the Evaluator in
this process answers it (`agents.benchmark_judge`): every call recorded, every judgement an
event. Judging again with the same judge and items prints the recorded judgement; a new
request reuses every answer already recorded (0 new model calls for the items judged before).

The judge defaults to the run's `role_models["judge"]`, else its backbone; the output says
when the judge is the builder (it grades its own work) and which media it could not see.
`--items N` judges a seeded sample of N items (`--seed`, default the run's seed).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json

import msgspec

from agents.models import JUDGE_ROLE, ModelRouter, spec_for_role
from benchagent.errors import UserError
from benchagent.home import add_store_options, open_blobs, open_log
from benchagent.quality_runs import answer_request, publication, published_state, store_url
from benchagent.table import format_table
from replay.projections import RunState
from replay.quality.judge_table import JudgeTable, judge_table
from replay.quality.review_sheet import sample_for_review
from store.blobs import BlobStore
from store.events import Envelope, JudgeRequested, new_event
from store.log import EventLog
from store.quality import BenchmarkJudgement
from tools.llm.clients import check_available, parse_model_spec

METRIC_COLUMNS = ("UIA", "FSQ", "QAC", "CQC", "TSD", "SSC", "Overall")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("judge", help="LLM-as-Judge quality scores of a published benchmark")
    p.add_argument("run_id")
    p.add_argument("--judge", metavar="SPEC",
                   help="judge model (default: the run's judge role, else its backbone)")
    p.add_argument("--items", default="all", metavar="N|all",
                   help="judge a seeded sample of N items, or all (default)")
    p.add_argument("--seed", type=int, help="seed of the item sample (default: the run's)")
    p.add_argument("--llm-concurrency", type=int, default=4, metavar="N",
                   help="judge calls in flight at once (default 4)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def parse_items(text: str) -> int | None:
    """`all` → None; a positive integer → itself; else `UserError`."""
    if text.strip().lower() == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise UserError(f"--items {text!r}: give a positive number of items, or all")
    return n


class JudgeOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """What one `judge` request gave: the table, and what it rests on."""

    run_id: str
    request_id: str
    judge: str
    builder: str
    self_judged: bool
    vision: bool
    table: JudgeTable
    uia_reason: str
    unseen_media: dict[str, list[str]]  # sample id -> media the judge could not see
    unjudged: dict[str, str]
    new_llm_calls: int  # model calls this command paid for (0: every answer reused)


def run(args: argparse.Namespace) -> int:
    items = parse_items(args.items)
    if args.llm_concurrency < 1:
        raise UserError("--llm-concurrency must be at least 1")
    outcome = asyncio.run(_main(args, items))
    if args.json:
        print(json.dumps(msgspec.to_builtins(outcome), sort_keys=True))
    else:
        print(render(outcome))
    return 0


async def _main(args: argparse.Namespace, items: int | None) -> JudgeOutcome:
    event_log = await open_log(args)
    blobs = await open_blobs(args)
    router = ModelRouter(max_concurrency=args.llm_concurrency)
    try:
        return await judge_run(event_log, store_url(args.store), router, args.run_id,
                               judge=args.judge, items=items, seed=args.seed, blobs=blobs)
    finally:
        await router.close()
        await blobs.close()
        await event_log.close()


def resolve_judge(state: RunState, judge: str | None) -> str:
    """The judge's spec as displayed; `UserError` (one line) if it cannot be served here."""
    request = state.request.payload
    spec = judge or spec_for_role(request, JUDGE_ROLE)
    try:
        check_available(spec, request.llm_key_env)
        return parse_model_spec(spec).display()
    except ValueError as exc:
        raise UserError(f"--judge: {exc}") from None


async def judge_run(event_log: EventLog, store: str | None, router: ModelRouter, run_id: str,
                    *, judge: str | None = None, items: int | None = None,
                    seed: int | None = None, blobs: BlobStore | None = None) -> JudgeOutcome:
    """Judge a published run (or read its recorded judgement of the same items); a judge
    that sees images reads them from `blobs`."""
    state = await published_state(event_log, run_id)
    request = state.request.payload
    spec = resolve_judge(state, judge)
    pub = publication(state)
    sample_seed = request.seed if seed is None else seed
    sample_ids = sample_for_review(pub.payload.sample_ids, items, seed=sample_seed)
    if not sample_ids:
        raise UserError(f"run {run_id} published no items to judge")
    try:
        vision = bool(router.client(parse_model_spec(spec),
                                    request.llm_key_env).model_info.get("vision"))
    except ValueError as exc:
        raise UserError(f"--judge: {exc}") from None
    calls_before = state.llm.calls
    payload = JudgeRequested(judge=spec, vision=vision, sample_ids=sample_ids, items=items,
                             seed=sample_seed)
    env = _request_for(state, pub, payload)
    if not state.judgements.finished(env.event_id):
        await answer_request(event_log, store, router, state, env,
                             lambda s: s.judgements.finished(env.event_id), blobs=blobs)
    failed = state.judgements.failed.get(env.event_id)
    if failed is not None:
        raise UserError(f"judging run {run_id} failed: {failed.payload.reason}")
    return outcome_of(state, env.event_id, new_calls=state.llm.calls - calls_before)


def _request_for(state: RunState, pub: Envelope, payload: JudgeRequested
                 ) -> Envelope[JudgeRequested]:
    """This judgement's event: a finished identical request is reused; an unfinished or
    failed one is asked again as a new attempt (its recorded answers are reused)."""
    digest = hashlib.sha256("\n".join(payload.sample_ids).encode()).hexdigest()[:16]
    attempt = 1
    while True:
        env = new_event(state.run_id, "cli", payload, pub.event_id,
                        key=f"judge:{payload.judge}:{payload.vision}:{digest}:{attempt}")
        if env.event_id not in state.judgements.requests:
            return env
        if env.event_id in state.judgements.closed:
            return state.judgements.requests[env.event_id]
        attempt += 1


def outcome_of(state: RunState, request_id: str, *, new_calls: int) -> JudgeOutcome:
    closed = state.judgements.closed[request_id].payload
    items = [env.payload for env in state.judgements.items[request_id].values()]
    bench = BenchmarkJudgement(uia=closed.uia, judge=closed.judge,
                               items_shown=list(closed.items_shown))
    table = judge_table(bench, [i.judgement() for i in items], builder=closed.builder)
    request = state.judgements.requests[request_id].payload
    return JudgeOutcome(
        run_id=state.run_id, request_id=request_id, judge=closed.judge, builder=closed.builder,
        self_judged=closed.self_judged, vision=request.vision, table=table,
        uia_reason=closed.uia.reason,
        unseen_media={i.sample_id: list(i.unseen_media) for i in items if i.unseen_media},
        unjudged=dict(closed.unjudged), new_llm_calls=new_calls)


def table_row(table: JudgeTable) -> list[str]:
    return [f"{v:.2f}" for v in (table.uia, table.fsq, table.qac, table.cqc, table.tsd,
                                 table.ssc, table.overall)]


def render(o: JudgeOutcome) -> str:
    lines = [f"run {o.run_id}: {o.table.items} items judged by {o.judge} "
             f"(built by {o.builder}); scores 0-100, Overall as the paper's Table 1", "",
             format_table(METRIC_COLUMNS, [table_row(o.table)]), "",
             f"UIA: {o.uia_reason}"]
    if o.self_judged:
        lines.append("note: the judge is the backbone that built this benchmark: it grades "
                     "its own work (give --judge SPEC for another model)")
    if o.unseen_media:
        kinds = sorted({m.rsplit(".", 1)[-1] for ms in o.unseen_media.values() for m in ms})
        why = "it is not vision-capable" if not o.vision else "only images reach a judge"
        lines.append(f"note: the judge could not see the media of {len(o.unseen_media)} "
                     f"item(s) ({', '.join(kinds)}; {why}): their CQC and TSD rest on the text")
    if o.unjudged:
        lines.append(f"note: no usable judgement for {len(o.unjudged)} item(s): "
                     + ", ".join(sorted(o.unjudged)[:5]))
    lines.append(f"{o.new_llm_calls} new model call(s)"
                 + (" (every answer was already recorded)" if o.new_llm_calls == 0 else ""))
    return "\n".join(lines)



__all__ = ["JudgeOutcome", "judge_run", "outcome_of", "parse_items", "render", "table_row",
           "resolve_judge"]
