"""`benchagent watch`: a long-running service that evaluates new models on the watched
benchmarks, keeps their leaderboards, and refreshes a benchmark once it saturates.

    benchagent watch --source openai:BASE_URL | folder:DIR | catalogue  (repeatable)
        [--llm-key-env NAME] [--interval SECONDS] [--benchmarks RUN_ID...]
        [--saturation 0.8] [--budget-runs N] [--budget-calls N] [--llm-concurrency N]
        [--heartbeat FILE] [--stop-grace SECONDS] [--remote-agents] [--home DIR | --store URL]

Everything is checked before anything is recorded (bad input: one line, exit 2). The
agents run in this process (SQLite home, or `--store nats://` without `--remote-agents`),
or in `benchagent agent` workers (`--store nats://... --remote-agents`). SIGTERM or SIGINT:
the cycle stops, handlers in flight finish, exit 0. See benchagent/watch/daemon.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
from pathlib import Path

from agents.models import ModelRouter
from agents.registry import ALL_ROLES, make_agents
from benchagent.errors import UserError
from benchagent.home import add_store_options, open_blobs, open_log
from benchagent.watch.budget import DailyBudget
from benchagent.watch.daemon import Watcher, WatchSettings
from bus.base import Bus
from store.blobs import BlobStore
from store.log import EventLog
from tools.model_sources import ModelSource, SourceError, parse_source

DEFAULT_INTERVAL_S = 60.0
DEFAULT_SATURATION = 0.8
DEFAULT_BUDGET_RUNS = 2
DEFAULT_BUDGET_CALLS = 5000
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RUN_ID = re.compile(r"^[A-Za-z0-9_\-]{1,80}$")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="evaluate new models on the benchmarks, refresh saturated "
                                     "ones (a long-running service)")
    p.add_argument("--source", action="append", dest="sources", metavar="SOURCE", default=[],
                   help="where models are released: openai:BASE_URL, folder:DIR or catalogue "
                        "(repeatable)")
    p.add_argument("--llm-key-env", metavar="NAME", default=DEFAULT_KEY_ENV,
                   help=f"variable holding the API key of openai sources (default "
                        f"{DEFAULT_KEY_ENV}); only its name is recorded")
    p.add_argument("--interval", type=float, default=DEFAULT_INTERVAL_S, metavar="SECONDS",
                   help=f"seconds between polls of the sources (default {DEFAULT_INTERVAL_S:g})")
    p.add_argument("--benchmarks", nargs="+", metavar="RUN_ID", default=[],
                   help="watch these runs and their refreshes (default: every published run)")
    p.add_argument("--saturation", type=float, default=DEFAULT_SATURATION, metavar="X",
                   help="a benchmark or subtask whose best model reaches this accuracy is "
                        f"refreshed; in (0, 1] (default {DEFAULT_SATURATION:g})")
    p.add_argument("--budget-runs", type=int, default=DEFAULT_BUDGET_RUNS, metavar="N",
                   help=f"refresh runs a day (default {DEFAULT_BUDGET_RUNS})")
    p.add_argument("--budget-calls", type=int, default=DEFAULT_BUDGET_CALLS, metavar="N",
                   help=f"model calls a day (default {DEFAULT_BUDGET_CALLS})")
    p.add_argument("--llm-concurrency", type=int, default=4, metavar="N",
                   help="model calls in flight at once (default 4)")
    p.add_argument("--heartbeat", metavar="FILE",
                   help="rewrite FILE after every complete poll (for a health check)")
    p.add_argument("--stop-grace", type=float, default=120.0, metavar="SECONDS",
                   help="on SIGTERM, how long handlers in flight may take to finish")
    p.add_argument("--remote-agents", action="store_true",
                   help="with --store nats://: leave evaluations and refresh builds to "
                        "`benchagent agent` workers")
    add_store_options(p)
    p.set_defaults(func=run)


def check_args(args: argparse.Namespace) -> tuple[list[ModelSource], WatchSettings]:
    """Every flag checked; `UserError` (one line) for the first bad one."""
    if not args.sources:
        raise UserError("give at least one --source: openai:BASE_URL, folder:DIR or catalogue")
    if not _ENV_NAME.match(args.llm_key_env):
        raise UserError(f"--llm-key-env {args.llm_key_env!r}: expected the NAME of an "
                        "environment variable (letters, digits, _)")
    sources: list[ModelSource] = []
    for text in args.sources:
        try:
            source = parse_source(text, args.llm_key_env)
        except SourceError as exc:
            raise UserError(str(exc)) from None
        if source.name not in {s.name for s in sources}:
            sources.append(source)
    if not args.interval > 0:
        raise UserError(f"--interval must be more than 0 seconds, got {args.interval:g}")
    if not 0 < args.saturation <= 1:
        raise UserError(f"--saturation must be in (0, 1], got {args.saturation:g}")
    for flag, value, least in (("--budget-runs", args.budget_runs, 0),
                               ("--budget-calls", args.budget_calls, 0),
                               ("--llm-concurrency", args.llm_concurrency, 1)):
        if value < least:
            raise UserError(f"{flag} must be at least {least}, got {value}")
    for run_id in args.benchmarks:
        if not _RUN_ID.match(run_id):
            raise UserError(f"--benchmarks {run_id!r}: not a run id")
    store_url = args.store or os.environ.get("BENCHAGENT_STORE")
    if args.remote_agents and not store_url:
        raise UserError("--remote-agents needs --store nats://HOST:PORT")
    settings = WatchSettings(
        interval_s=args.interval, saturation=args.saturation,
        budget=DailyBudget(runs=args.budget_runs, calls=args.budget_calls),
        benchmarks=list(dict.fromkeys(args.benchmarks)), heartbeat=args.heartbeat,
        runs_dir=None if store_url else str(home_path(args) / "runs"))
    return sources, settings


def home_path(args: argparse.Namespace) -> Path:
    """The home folder `open_log` would use, without creating it."""
    return Path(args.home or os.environ.get("BENCHAGENT_HOME") or ".benchagent")


def run(args: argparse.Namespace) -> int:
    sources, settings = check_args(args)
    if settings.benchmarks and not (args.store or os.environ.get("BENCHAGENT_STORE")):
        home = home_path(args)
        if not (home / "events.db").is_file():  # not even a log: create none
            raise UserError(f"unknown benchmark id: {settings.benchmarks[0]} "
                            f"({home} holds no event log)")
    asyncio.run(_watch(args, sources, settings))
    return 0


async def _watch(args: argparse.Namespace, sources: list[ModelSource],
                 settings: WatchSettings) -> None:
    event_log = await open_log(args)
    blobs = await open_blobs(args)
    router = ModelRouter(max_concurrency=args.llm_concurrency)
    try:
        for run_id in settings.benchmarks:
            if not await event_log.last_seq(run_id):
                raise UserError(f"unknown benchmark id: {run_id}")
        store_url = args.store or os.environ.get("BENCHAGENT_STORE")
        bus = _make_bus(event_log, blobs, store_url, router, args)
        watcher = Watcher(event_log, bus, sources, settings, blobs,
                          stream_delivers=bool(store_url))
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        try:
            await watcher.run(stopping)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    finally:
        await router.close()
        await blobs.close()
        await event_log.close()


def _make_bus(event_log: EventLog, blobs: BlobStore, store_url: str | None,
              router: ModelRouter, args: argparse.Namespace) -> Bus:
    roles = [] if args.remote_agents else list(ALL_ROLES)
    agents = make_agents(roles)
    if store_url:
        from bus.nats_bus import NatsBus

        return NatsBus(store_url, agents, router, workers=args.llm_concurrency * 2,
                       log=event_log, blobs=blobs, stop_grace_s=args.stop_grace)
    from bus.inprocess import InProcessBus

    return InProcessBus(event_log, agents, router, blobs=blobs, stop_grace_s=args.stop_grace)
