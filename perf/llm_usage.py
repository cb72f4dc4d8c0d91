"""Where a run's model time went, from the run's own `LLMCallRecorded` events.

    .venv/bin/python perf/llm_usage.py RUN_ID [--home DIR | --store nats://HOST:PORT] [--json]

Per purpose (design.propose, verifier.solve, ...): calls (every attempt, failed ones too),
failed attempts, prompt tokens, completion tokens, seconds (the sum of the calls' model
latency), calls and seconds per accepted item; then the totals. Accepted items are the last
`BenchmarkPublished` count, or the distinct `SampleAccepted` samples of an unfinished run.
Seconds are summed latencies: with several calls in flight they add up to more than the
run's wall time, which is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable
from pathlib import Path

import msgspec

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchagent.errors import UserError  # noqa: E402
from benchagent.home import add_store_options, read_run  # noqa: E402
from benchagent.table import format_table  # noqa: E402
from store.events import Envelope, LLMCallRecorded  # noqa: E402
from store.log import UnknownRun  # noqa: E402


class PurposeUsage(msgspec.Struct, kw_only=True):
    """What one purpose's calls cost."""

    purpose: str
    calls: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


class RunUsage(msgspec.Struct, kw_only=True):
    run_id: str
    accepted: int
    wall_seconds: float  # first to last event of the run
    models: list[str]
    purposes: list[PurposeUsage]  # most seconds first
    total: PurposeUsage


def accepted_count(events: Iterable[Envelope]) -> int:
    published: int | None = None
    accepted: set[str] = set()
    for env in events:
        if env.type == "BenchmarkPublished":
            published = env.payload.accepted  # type: ignore[union-attr]
        elif env.type == "SampleAccepted":
            accepted.add(env.payload.sample_id)  # type: ignore[union-attr]
    return published if published is not None else len(accepted)


def run_usage(run_id: str, events: list[Envelope]) -> RunUsage:
    by_purpose: dict[str, PurposeUsage] = {}
    total = PurposeUsage(purpose="total")
    models: set[str] = set()
    for env in events:
        call = env.payload
        if not isinstance(call, LLMCallRecorded):
            continue
        models.add(call.model)
        row = by_purpose.setdefault(call.purpose, PurposeUsage(purpose=call.purpose))
        for target in (row, total):
            target.calls += 1
            target.failed += call.error is not None
            target.prompt_tokens += call.prompt_tokens
            target.completion_tokens += call.completion_tokens
            target.seconds += call.latency_ms / 1000
    times = [env.time for env in events]
    return RunUsage(
        run_id=run_id,
        accepted=accepted_count(events),
        wall_seconds=(max(times) - min(times)) if times else 0.0,
        models=sorted(models),
        purposes=sorted(by_purpose.values(), key=lambda r: (-r.seconds, r.purpose)),
        total=total,
    )


def format_usage(usage: RunUsage) -> str:
    def row(r: PurposeUsage) -> list[object]:
        n = usage.accepted
        return [r.purpose, r.calls, r.failed, r.prompt_tokens, r.completion_tokens,
                f"{r.seconds:.2f}", f"{r.calls / n:.2f}" if n else "-",
                f"{r.seconds / n:.2f}" if n else "-"]

    table = format_table(
        ["purpose", "calls", "failed", "prompt tok", "completion tok", "seconds",
         "calls/accepted", "s/accepted"],
        [*(row(r) for r in usage.purposes), row(usage.total)],
    )
    head = (f"run {usage.run_id}: {usage.accepted} accepted, {usage.wall_seconds:.1f} s wall, "
            f"model {', '.join(usage.models) or '-'}")
    return f"{head}\n{table}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_id")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    add_store_options(parser)
    args = parser.parse_args(argv)
    try:
        events = asyncio.run(read_run(args, args.run_id))
    except UnknownRun:
        print(f"error: no run {args.run_id!r} in this store", file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    usage = run_usage(args.run_id, events)
    if args.json:
        print(json.dumps(msgspec.to_builtins(usage)))
    else:
        print(format_usage(usage))
    return 0


if __name__ == "__main__":
    sys.exit(main())
