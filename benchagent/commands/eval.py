"""`benchagent eval RUN_ID --model SPEC... [--expect-order A<B<C] [--judge SPEC]`: evaluate
models on a run's published benchmark.

Appends an `EvaluationRequested` to the run and lets the Evaluator answer it
(in this process; with `--store nats://` over the NATS bus). Answers already
recorded in the run are reused, so evaluating a model twice costs nothing;
asking again for the same models prints the recorded scores.

Per subtask and overall: accuracy with a bootstrap 95% interval, and a warning where the
items are too few for the interval to mean much (`replay.quality.stats`). With
`--expect-order` (a model family, weakest first): Kendall's τ between the expected and
the observed order, and whether adjacent models are separable (paired bootstrap). Open-ended
answers are scored by `--judge` (default: the run's judge role, else its backbone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import msgspec

from agents.models import ModelRouter
from agents.registry import make_agents
from benchagent.errors import UserError
from benchagent.eval_figures import EvalFigures, eval_figures, render_figures
from benchagent.home import add_store_options, open_log
from benchagent.run import make_bus, resumed_event
from bus.base import Bus
from replay.projections import RunState
from store.events import (
    BenchmarkPublished,
    Envelope,
    EvaluationRequested,
    RunResumed,
    new_event,
)
from store.log import EventLog
from store.verify import read_verified

POLL_S = 0.1


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate models on a run's published benchmark")
    p.add_argument("run_id")
    p.add_argument("--model", action="append", dest="models", required=True, metavar="SPEC",
                   help="model spec to evaluate (repeatable)")
    p.add_argument("--expect-order", metavar="A<B<C",
                   help="the models' expected order, weakest first (each one a --model)")
    p.add_argument("--judge", metavar="SPEC",
                   help="judge of open-ended answers (default: the run's judge role)")
    p.add_argument("--llm-concurrency", type=int, default=4, metavar="N")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tools.llm.clients import check_available

    models = list(dict.fromkeys(args.models))
    for spec in models:
        try:  # the run's own key variable is checked when the client is made
            check_available(spec, key_env=None)
        except ValueError as exc:
            raise UserError(f"--model: {exc}") from None
    order = parse_order(args.expect_order, models) if args.expect_order else []
    if args.judge:
        try:
            check_available(args.judge, key_env=None)
        except ValueError as exc:
            raise UserError(f"--judge: {exc}") from None
    scores, failure, figures = asyncio.run(_evaluate(args, models, order))
    if failure is not None:
        print(f"benchagent: evaluation of run {args.run_id} failed: {failure}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"run_id": args.run_id, "evaluations": scores,
                          **msgspec.to_builtins(figures)}, sort_keys=True))
    else:
        for s in scores:
            per = ", ".join(f"{k} {v:.2f}" for k, v in s["per_subtask"].items())
            print(f"{s['model']}: accuracy {s['accuracy']:.3f} over {s['n']} items ({per})")
        print("\n" + render_figures(figures))
    return 0


def parse_order(text: str, models: list[str]) -> list[str]:
    """`A<B<C` → [A, B, C] (weakest first); each one a `--model`, at least two, distinct."""
    order = [m.strip() for m in text.split("<")]
    if len(order) < 2 or any(not m for m in order):
        raise UserError(f"--expect-order {text!r}: give at least two models, weakest first, "
                        "as A<B<C")
    if len(set(order)) != len(order):
        raise UserError(f"--expect-order {text!r}: a model appears twice")
    unknown = [m for m in order if m not in models]
    if unknown:
        raise UserError(f"--expect-order: {unknown[0]} is not one of the --model specs")
    return order


async def _evaluate(args: argparse.Namespace, models: list[str], order: list[str]
                    ) -> tuple[list[dict[str, Any]], str | None, EvalFigures]:
    from tools.llm.clients import check_available

    event_log = await open_log(args)
    router = ModelRouter(max_concurrency=args.llm_concurrency)
    try:
        events = await read_verified(event_log, args.run_id)  # UnknownRun, TamperedLog
        state = RunState.of(events, args.run_id)
        published = state.publication.event
        if published is None:
            raise UserError(f"run {args.run_id} has not published a benchmark yet")
        if args.judge:  # the run's key variable, before anything is appended
            try:
                check_available(args.judge, state.request.payload.llm_key_env)
            except ValueError as exc:
                raise UserError(f"--judge: {exc}") from None
        request = _request_for(state, published, models, order, args.judge or "")
        done = _scores_for(state, request.event_id)
        if len(done) < len(models):
            store_url = args.store or os.environ.get("BENCHAGENT_STORE")
            bus = make_bus(event_log, store_url, make_agents(["evaluator"]), router)
            resume = resumed_event(events, args.run_id) if state.status.stopped else None
            done, failure = await _run_evaluation(bus, event_log, request, resume)
            if failure is not None:
                return [], failure, EvalFigures()
            state = RunState.of(await event_log.read(args.run_id), args.run_id)
        by_model = {s["model"]: s for s in done}
        return [by_model[m] for m in models], None, eval_figures(state, models, order)
    finally:
        await router.close()
        await event_log.close()


def _request_for(state: RunState, published: Envelope[BenchmarkPublished],
                 models: list[str], order: list[str], judge: str
                 ) -> Envelope[EvaluationRequested]:
    """This evaluation's event: reuse a finished identical request, else a fresh one."""
    attempt = 1
    extra = f"{'<'.join(order)}:{judge}:" if order or judge else ""
    while True:
        env = new_event(published.run_id, "cli", EvaluationRequested(
            models=models, reason="benchagent eval", judge=judge, expected_order=order),
            published.event_id, key=f"eval:{','.join(models)}:{extra}{attempt}")
        known = state.evaluations.requests.get(env.event_id)
        if known is None:
            return env
        if len(_scores_for(state, known.event_id)) == len(models):
            return known
        attempt += 1  # an earlier attempt never finished: ask again (answers are reused)


def _scores_for(state: RunState, request_id: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in msgspec.to_builtins(s).items() if k != "type"}
            for s in state.evaluations.scores_for(request_id)]


async def _run_evaluation(bus: Bus, event_log: EventLog, request: Envelope[EvaluationRequested],
                          resume: Envelope[RunResumed] | None = None,
                          ) -> tuple[list[dict[str, Any]], str | None]:
    """Submit the request (after `resume`, if the run had stopped) and wait for its scores,
    a failure, or a stop (the model server failing beyond the retry budget)."""
    await bus.start()
    try:
        if resume is not None:
            await bus.submit(resume)
        stored = await bus.submit(request)
        after = stored.seq - 1
        since = RunState(request.run_id)  # the run from this request on
        while True:
            for env in await event_log.read(request.run_id, after):
                since.fold(env)
            after = since.last_seq or after
            if since.status.failed is not None:
                return [], since.status.failed.payload.reason
            if since.status.stopped is not None:
                return [], (f"{since.status.stopped.payload.reason}; the answers so far are "
                            "kept: run the same `benchagent eval` again once the model server "
                            "is back")
            scores = _scores_for(since, request.event_id)
            if len(scores) >= len(request.payload.models):
                return scores, None
            await asyncio.sleep(POLL_S)
    finally:
        await bus.stop()
