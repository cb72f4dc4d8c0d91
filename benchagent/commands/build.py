"""`benchagent build "REQUIREMENT"`: run the six agents until a verified benchmark is published.

    benchagent build "REQUIREMENT" [--size N] [--seed S] [--pool DIR]... [--llm SPEC]
        [--llm-key-env NAME] [--eval-model SPEC]... [--disable LIST] [--config YAML]
        [--synthesize] [--plan-only] [--home DIR] [--store URL] [--resume RUN_ID]
        [--run-id ID] [--sign-key FILE] [--json]

Everything is checked before anything is written (bad input: one line, exit 2).
`--synthesize` adds a synthesized generator to every subtask's groundings (by default one is
synthesized only for a subtask the pool cannot ground). `--plan-only` stops after the plan
(`SpecProposed`) and prints it (`benchagent.plan_view`); `benchagent approve RUN_ID` goes on.
The run's settings go into its first event (`RunRequested`), never a secret:
only the *name* of the API key variable is recorded. The benchmark lands in
`<home>/runs/<run_id>/`, written from the log by the same projection `replay` uses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from agents.models import ModelRouter
from agents.recorded_llm import RetryPolicy
from agents.registry import ALL_ROLES, AgentOptions, make_agents, parse_disabled
from agents.settings import SETTING_NAMES, RunSettings, settings_from_config, settings_of
from agents.sources import PoolCache
from benchagent.config import BuildConfig, load_config
from benchagent.errors import RunInterrupted, UserError
from benchagent.home import add_store_options, home_dir, open_blobs, open_log, run_dir
from benchagent.plan_view import plan_document, render_plan
from benchagent.progress import Progress
from benchagent.run import (
    RunOutcome,
    drive_run,
    make_bus,
    outcome_of,
    stopped_event,
    write_benchmark,
)
from benchagent.run_lock import folder_lock, nats_lease
from benchagent.signals import interrupting_signal
from bus.base import ENDS_A_BUILD, BusError
from replay.anchor import AnchorError, load_signing_key
from replay.output_folder import OutputRefused, check_target, output_run_id
from replay.projections import RunState
from store.blobs import BlobStore
from store.events import Envelope, Payload, RunRequested, SpecProposed, StopCause, new_event
from store.log import EventLog
from store.verify import read_verified

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

EXIT_STOPPED = 75  # EX_TEMPFAIL: the world failed; `--resume` finishes the run
log = structlog.get_logger("benchagent.build")
MAX_REQUIREMENT_CHARS = 20_000
DEFAULT_SIZE = 20
DEFAULT_LLM = "local:qwen2.5-coder-1.5b"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_CONCURRENCY = 4
RUN_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,80}$"
_RUN_ID = re.compile(RUN_ID_PATTERN)
REPO = Path(__file__).resolve().parents[2]
GENERAL_BENCH = REPO.parent / "shared/datasets/general-bench-subset/data"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build a verified benchmark from an evaluation requirement")
    p.add_argument("requirement", nargs="?", help="what the benchmark should evaluate")
    p.add_argument("--size", type=int, help=f"number of samples (default {DEFAULT_SIZE})")
    p.add_argument("--seed", type=int, help="run seed: every random choice derives from it")
    p.add_argument("--pool", action="append", dest="pools", metavar="DIR",
                   help="dataset pool directory (repeatable; default: the General-Bench subset)")
    p.add_argument("--llm", help=f"backbone model spec (default {DEFAULT_LLM})")
    p.add_argument("--llm-key-env", metavar="NAME",
                   help=f"environment variable holding the API key (default {DEFAULT_KEY_ENV})")
    p.add_argument("--eval-model", action="append", dest="eval_models", metavar="SPEC",
                   help="evaluate this model on the benchmark once published (repeatable)")
    p.add_argument("--disable", metavar="LIST",
                   help="ablations: design,grounding-scoring,sample-planning,verifier,synthesis")
    p.add_argument("--synthesize", action="store_true",
                   help="also synthesize a generator for every subtask (checked code labels "
                        "its items), not only for those the pool cannot ground")
    p.add_argument("--plan-only", action="store_true",
                   help="stop after the plan and print it; `benchagent approve RUN_ID` goes on")
    p.add_argument("--config", type=Path, metavar="YAML", help="settings file (flags win)")
    p.add_argument("--resume", metavar="RUN_ID", help="finish an interrupted run")
    p.add_argument("--run-id", help="name the new run (letters, digits, - and _)")
    p.add_argument("--llm-concurrency", type=int, metavar="N",
                   help=f"LLM calls in flight at once (default {DEFAULT_CONCURRENCY})")
    p.add_argument("--remote-agents", action="store_true",
                   help="with --store nats://: leave the work to `benchagent agent` workers")
    p.add_argument("--sign-key", type=Path, metavar="FILE",
                   help="sign the published anchor (log head and content hash) with this "
                        "Ed25519 private key")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(p)
    p.set_defaults(func=run)


# ------------------------------------------------------------------ checking


def _check_spec(spec: str, what: str, key_env: str) -> str:
    from tools.llm.clients import check_available

    try:
        check_available(spec, key_env)
    except ValueError as exc:
        raise UserError(f"{what}: {exc}") from None
    return spec


def _default_pools() -> list[str]:
    from tools.pool import default_pool_dirs

    env = default_pool_dirs()
    if env:
        return [str(p) for p in env]
    return [str(GENERAL_BENCH)] if (GENERAL_BENCH / "dataset_cards").is_dir() else []


def _check_run_id(run_id: str) -> str:
    # One NATS subject token (bench.<run_id>.<Type>): no dots, wildcards or spaces.
    if not _RUN_ID.match(run_id):
        raise UserError(f"--run-id {run_id!r}: use 1-80 letters, digits, '-' or '_'")
    return run_id


def _home_path(args: argparse.Namespace) -> Path:
    """The home folder `open_log` would use, without creating it."""
    return Path(args.home or os.environ.get("BENCHAGENT_HOME") or ".benchagent")


def new_run_id() -> str:
    return f"run-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


def build_request(args: argparse.Namespace,
                  pools_seen: PoolCache | None = None) -> tuple[RunRequested, BuildConfig]:
    """The run's first event from flags and config, every input checked; `UserError` if bad.

    The pool loaded for the check goes into `pools_seen`, so the agents need not load it again.
    """
    config = load_config(args.config) if args.config else BuildConfig()
    requirement = args.requirement if args.requirement is not None else config.requirement
    if requirement is None or not requirement.strip():
        raise UserError("the requirement is empty: say what the benchmark should evaluate")
    if len(requirement) > MAX_REQUIREMENT_CHARS:
        raise UserError(f"the requirement has {len(requirement)} characters; the limit is "
                        f"{MAX_REQUIREMENT_CHARS}")
    size = next(v for v in (args.size, config.size, DEFAULT_SIZE) if v is not None)
    if size < 1:
        raise UserError(f"--size must be at least 1, got {size}")
    seed = next(v for v in (args.seed, config.seed, 0) if v is not None)
    key_env = args.llm_key_env or config.llm_key_env or DEFAULT_KEY_ENV
    llm = _check_spec(args.llm or config.llm or DEFAULT_LLM, "--llm", key_env)
    role_models = {r: _check_spec(s, f"role_models.{r}", key_env)
                   for r, s in config.role_models.items()}
    eval_models = [_check_spec(s, "--eval-model", key_env)
                   for s in (args.eval_models or config.eval_models or [])]
    eval_models = list(dict.fromkeys(eval_models))
    try:
        disabled = parse_disabled(args.disable if args.disable is not None
                                  else (config.disable or []))
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        settings = settings_from_config(config.agents)
    except msgspec.ValidationError as exc:
        raise UserError(f"agent settings: {exc}") from None
    if getattr(args, "synthesize", False):
        settings = msgspec.structs.replace(settings, synthesize=True)
    if getattr(args, "plan_only", False):
        settings = msgspec.structs.replace(settings, plan_only=True)
    if settings.synthesize and "synthesis" in disabled:
        raise UserError("--synthesize and --disable synthesis contradict each other")
    pools = [str(Path(p).resolve()) for p in (args.pools or config.pools or _default_pools())]
    # A synthesized generator gives as many items as asked: the pool is then no limit.
    capacity = _pool_capacity(pools, settings, pools_seen, required=not settings.synthesize)
    if size > capacity and not settings.synthesize:
        raise UserError(f"--size {size} is larger than the pool can give ({capacity} items in all)")
    agent_settings = {k: v for k, v in msgspec.to_builtins(settings).items() if k in SETTING_NAMES}
    request = RunRequested(
        requirement=requirement, size=size, seed=seed, pools=pools, llm=llm,
        llm_key_env=key_env,
        role_models=role_models, eval_models=eval_models, disabled=disabled,
        config=agent_settings,
    )
    return request, config


def _pool_capacity(pools: list[str], settings: RunSettings, seen: PoolCache | None,
                   required: bool = True) -> int:
    from tools.pool import Pool, PoolError

    try:
        pool = Pool.load([Path(p) for p in pools], include_generators=settings.generators)
    except PoolError as exc:
        raise UserError(str(exc)) from None
    if seen is not None:
        seen.put(pools, settings.generators, pool)
    if not pool.datasets and required:
        raise UserError("the pool holds no usable dataset: give --pool DIR")
    total = 0
    for card in pool.datasets:
        try:
            total += pool.capacity(card.dataset_id)
        except PoolError:
            continue  # an unreadable dataset file gives nothing
    return total


# ------------------------------------------------------------------- running


def run(args: argparse.Namespace) -> int:
    return _report(args, execute(args))


def execute(args: argparse.Namespace) -> BuildResult:
    """Check the flags, build (or resume) the run, write its benchmark: its outcome and the
    evaluations made at build (`benchagent ablate` builds its variants with this too)."""
    if args.resume and (args.requirement or args.run_id):
        raise UserError("--resume takes the run's own settings: give no requirement or --run-id")
    if args.resume and (args.plan_only or args.synthesize):
        raise UserError("--resume takes the run's own settings: give no --plan-only or "
                        "--synthesize")
    pools = PoolCache()
    if args.resume:
        run_id = _check_run_id(args.resume)
        config = load_config(args.config) if args.config else BuildConfig()
        return drive(args, run_id, None, config, pools)
    request, config = build_request(args, pools)
    run_id = _check_run_id(args.run_id) if args.run_id else new_run_id()
    return drive(args, run_id, new_event(run_id, "cli", request, None), config, pools)


# Called with the open log and the run's state before a resumed run is driven (`approve`
# appends the developer's edits and approval there).
Prepare = Callable[[EventLog, RunState], Awaitable[None]]


class BuildResult(msgspec.Struct, kw_only=True):
    outcome: RunOutcome
    evaluations: list[dict[str, Any]] = []
    plan: dict[str, Any] | None = None  # a --plan-only run waiting for approval


def drive(args: argparse.Namespace, run_id: str, first: Envelope | None, config: BuildConfig,
          pools: PoolCache, prepare: Prepare | None = None) -> BuildResult:
    """Run a new run (`first`) or resume `run_id` until it ends or waits for approval. `args` carries the store options, `--json`, `--llm-concurrency` and
    `--remote-agents` (absent ones take their defaults)."""
    store_url = args.store or os.environ.get("BENCHAGENT_STORE")
    remote = getattr(args, "remote_agents", False)
    if remote and not store_url:
        raise UserError("--remote-agents needs --store nats://HOST:PORT")
    if first is None and not store_url and not (_home_path(args) / "events.db").is_file():
        raise UserError(f"cannot resume {run_id}: no such run in this store "
                        f"({_home_path(args)} holds no event log)")
    concurrency = (getattr(args, "llm_concurrency", None) or config.llm_concurrency
                   or DEFAULT_CONCURRENCY)
    if concurrency < 1:
        raise UserError("--llm-concurrency must be at least 1")
    driving = Driving(concurrency=concurrency, retry=retry_policy(config),
                      stall_after_s=config.stall_after_s)
    try:
        key_file = getattr(args, "sign_key", None)
        signing_key = load_signing_key(key_file) if key_file is not None else None
    except AnchorError as exc:
        raise UserError(str(exc)) from None
    try:
        return asyncio.run(_build(args, store_url, run_id, first, driving, pools,
                                  prepare, signing_key))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the bus has stopped, the log holds all
        raise RunInterrupted(run_id) from None


def retry_policy(config: BuildConfig) -> RetryPolicy:
    """Attempts, backoff and timeout of LLM calls, from the config file (defaults else)."""
    return RetryPolicy(
        max_attempts=config.llm_attempts or RetryPolicy().max_attempts,
        base_delay_s=config.llm_backoff_s if config.llm_backoff_s is not None
        else RetryPolicy().base_delay_s,
        timeout_s=config.llm_timeout_s or RetryPolicy().timeout_s,
    )


class Driving(msgspec.Struct, frozen=True, kw_only=True):
    """How this process drives a run: LLM calls in flight, their retries, and how long the
    bus must be idle before an unfinished run counts as stalled (None: the bus's default)."""

    concurrency: int
    retry: RetryPolicy
    stall_after_s: float | None = None


async def _build(args: argparse.Namespace, store_url: str | None, run_id: str,
                 first: Envelope | None, driving: Driving, pools: PoolCache, prepare: Prepare | None,
                 signing_key: Ed25519PrivateKey | None) -> BuildResult:
    event_log = await open_log(args)
    try:
        async with _run_lock(args, store_url, run_id):  # one writer per run
            blobs = await open_blobs(args)
            try:
                return await _drive(args, event_log, blobs, store_url, run_id, first,
                                    driving, pools, prepare, signing_key)
            finally:
                await blobs.close()
    finally:
        await event_log.close()


def _run_lock(args: argparse.Namespace, store_url: str | None,
              run_id: str) -> contextlib.AbstractAsyncContextManager[None]:
    if store_url:
        return nats_lease(store_url, run_id)
    return folder_lock(home_dir(args), run_id)


async def _drive(args: argparse.Namespace, event_log: EventLog, blobs: BlobStore,
                 store_url: str | None, run_id: str, first: Envelope | None, driving: Driving,
                 pools: PoolCache, prepare: Prepare | None,
                 signing_key: Ed25519PrivateKey | None) -> BuildResult:
    unwritten = False  # completed in the log, but its build died before writing the folder
    if first is None:
        if not await event_log.last_seq(run_id):
            raise UserError(f"cannot resume {run_id}: no such run in this store")
        state = RunState.of(await read_verified(event_log, run_id), run_id)
        if prepare is not None:  # it says why a run cannot go on in its own words
            await prepare(event_log, state)
            state = RunState.of(await read_verified(event_log, run_id), run_id)
        unwritten = state.status.completed is not None \
            and output_run_id(run_dir(args, run_id)) != run_id
        if not unwritten:
            _check_resumable(state)
            if state.approval.waiting:
                raise UserError(f"run {run_id} waits for the approval of its plan: "
                                f"benchagent approve {run_id} [--edit FILE.yaml]")
        request = state.request.payload
        approved = state.approval.approved is not None
    elif await event_log.last_seq(run_id):
        raise UserError(f"run {run_id} already exists; choose another --run-id or --resume it")
    else:
        assert isinstance(first.payload, RunRequested)
        request, approved = first.payload, False
    try:  # the run's folder: refuse now what would be refused after the whole build
        check_target(run_dir(args, run_id), run_id)
    except OutputRefused as exc:
        raise UserError(f"run {run_id}: {exc}") from None
    # A --plan-only run stops at its plan until it is approved; nothing else ever waits.
    until = ENDS_A_BUILD + ((SpecProposed,) if settings_of(request).plan_only and not approved
                            else ())
    print(f"run {run_id}", file=sys.stderr)
    if not unwritten:
        await _run_agents(args, event_log, blobs, store_url, run_id, first, driving, pools,
                          until)
    state = RunState.of(await read_verified(event_log, run_id), run_id)
    outcome = outcome_of(state)
    if outcome.status == "running" and state.approval.waiting:
        return BuildResult(outcome=outcome, plan=plan_document(state))
    if outcome.status == "completed":
        out = run_dir(args, run_id)
        await write_benchmark(state, out, blobs, signing_key)
        outcome.out_dir = str(out)
    evaluations = [msgspec.to_builtins(s) for s in state.evaluations.scores]
    return BuildResult(outcome=outcome, evaluations=evaluations)


async def _run_agents(args: argparse.Namespace, event_log: EventLog, blobs: BlobStore,
                      store_url: str | None, run_id: str, first: Envelope | None,
                      driving: Driving, pools: PoolCache,
                      until: tuple[type[Payload], ...]) -> None:
    """Drive the run (new or resumed) until it completes, fails, stops or stalls (or until
    its first event of a class in `until`)."""
    router = ModelRouter(retry=driving.retry, max_concurrency=driving.concurrency)
    try:
        roles = [] if getattr(args, "remote_agents", False) else list(ALL_ROLES)
        agents = make_agents(roles, AgentOptions(pools=pools))
        bus = make_bus(event_log, store_url, agents, router, blobs=blobs,
                       workers=driving.concurrency * 2, stall_after_s=driving.stall_after_s)
        progress = Progress(event_log, run_id)
        try:
            await drive_run(bus, event_log, run_id, first, progress=progress, until=until)
        except BusError as exc:  # the store failed under the bus: stopped, not failed
            await _record_stop(event_log, run_id, "store_unavailable", str(exc))
            raise UserError(f"run {run_id} stopped: {exc}; resume it with "
                            f"`benchagent build --resume {run_id}`") from None
        except asyncio.CancelledError:  # Ctrl-C or SIGTERM: record why, then unwind
            await _record_stop(event_log, run_id, "interrupted",
                               f"interrupted by {interrupting_signal().name}")
            raise
    finally:
        await router.close()


def _check_resumable(state: RunState) -> None:
    """One line if the run cannot be resumed: it completed (and its folder was written), or
    its failure is final."""
    status = state.status
    if status.completed is not None:
        raise UserError(f"cannot resume {state.run_id}: it has already completed and its folder "
                        f"is written (`benchagent replay {state.run_id} --out DIR` writes "
                        "another)")
    if status.failed is not None:
        failed = status.failed.payload
        raise UserError(f"cannot resume {state.run_id}: it failed at {failed.stage} and that "
                        f"failure is final ({failed.reason}); start a new build")


async def _record_stop(event_log: EventLog, run_id: str, cause: StopCause, reason: str) -> None:
    """Record that the run stopped (best effort: the store may be what failed)."""
    try:
        events = await event_log.read(run_id)
        if events and not RunState.of(events, run_id).status.finished:
            await event_log.append([stopped_event(events, run_id, cause, reason)])
    except Exception as exc:  # noqa: BLE001 - reporting the stop matters more than recording it
        log.warning("stop_not_recorded", run_id=run_id, error=f"{type(exc).__name__}: {exc}")


def _report(args: argparse.Namespace, result: BuildResult) -> int:
    outcome, evaluations = result.outcome, result.evaluations
    if result.plan is not None:
        print(json.dumps({"run_id": outcome.run_id, "status": "awaiting_approval",
                          "plan": result.plan}, sort_keys=True) if args.json
              else render_plan(result.plan))
        return 0
    if args.json:
        doc = msgspec.to_builtins(outcome)
        doc["evaluations"] = [{k: v for k, v in e.items() if k != "type"} for e in evaluations]
        print(json.dumps(doc, sort_keys=True))
    elif outcome.status == "completed":
        short = f", {outcome.shortfall} short of the quota" if outcome.shortfall else ""
        print(f"run {outcome.run_id}: {outcome.accepted} samples accepted, {outcome.rejected} "
              f"rejected{short}")
        print(f"benchmark: {outcome.out_dir}")
        print(f"content hash: {outcome.content_hash}")
        for e in evaluations:
            per = ", ".join(f"{s} {a:.2f}" for s, a in e["per_subtask"].items())
            print(f"eval {e['model']}: accuracy {e['accuracy']:.3f} over {e['n']} ({per})")
    if outcome.status == "stopped":
        print(f"benchagent: run {outcome.run_id} stopped at {outcome.stage}: {outcome.reason}; "
              f"resume it with `benchagent build --resume {outcome.run_id}`", file=sys.stderr)
        return EXIT_STOPPED
    if outcome.status == "stalled":
        print(f"benchagent: run {outcome.run_id} stalled: {outcome.reason}; `benchagent log "
              f"{outcome.run_id}` shows where it stopped, and `benchagent build --resume "
              f"{outcome.run_id}` takes it up again, reusing every recorded answer",
              file=sys.stderr)
        return 1
    if outcome.status != "completed":
        print(f"benchagent: run {outcome.run_id} failed at {outcome.stage}: {outcome.reason}",
              file=sys.stderr)
        return 1
    return 0
