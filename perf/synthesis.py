"""Synthesized generators on six requirements neither the pool nor the built-in generators
cover, on a local backbone.

    PYTHONPATH=. .venv/bin/python perf/synthesis.py [--llm local:qwen2.5-coder-1.5b]
        [--size 6] [--only N ...] [--home DIR]

Each requirement is one `benchagent build` (in this process, so the local model loads once)
with the design agent disabled (the requirement is the subtask), `--synthesize`, and a pool
with no dataset and no built-in generator: grounding can only synthesize, so every figure is
synthesis alone. Per requirement it prints whether a generator passed every check within the
round budget (`synthesis_rounds`, 5), how many plans (2: the plan was revised because its
ranges could not spread complexity), after how many attempts at the last plan's code, the
model calls synthesis made (plan, parts, item checks) and its wall time, and the share of the
benchmark's items whose label was computed by checked code: the item names a synthesized
version whose recorded source passed both stages of checks, and that source, run again in a
fresh sandbox, gives the item's target. The machine has 2 cores shared with other work: the times are under load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REQUIREMENTS = [
    "convert a duration in seconds into hours, minutes and seconds",
    "schedule a call across time zones on a daylight-saving change",
    "write 300 words that follow five formatting constraints",
    "give the change owed, in the fewest coins, for a purchase paid with one banknote",
    "name the day of the week of a calendar date given as day, month and year",
    "convert a Roman numeral into the number it stands for",
]


def read_run(home: Path, run_id: str) -> list[Any]:
    from store.sqlite_log import SQLiteEventLog

    async def go() -> list[Any]:
        log = SQLiteEventLog(home / "events.db")
        try:
            return await log.read(run_id)
        finally:
            await log.close()

    return asyncio.run(go())


def labelled_by_checked_code(events: list[Any], tmp: Path) -> tuple[int, int]:
    """(items whose target the checked source recomputes, items) of the run's benchmark."""
    from agents.synthesis.plan import param_specs
    from replay.projections import RunState
    from replay.projections.synthesis import version_key
    from tools.sandbox.synthesized import SynthesizedGenerator

    state = RunState.of(events)
    pub = state.publication.payload
    if pub is None:
        return 0, 0
    passed: dict[str, set[str]] = {}
    for checks in state.synthesis.checks.values():
        for env in checks:
            if env.payload.passed:
                passed.setdefault(env.payload.source_sha256, set()).add(env.payload.stage)
    good = 0
    for sid in pub.sample_ids:
        sample = state.samples.realized[sid].payload
        source = sample.generated_by
        if source is None:
            continue
        record = state.synthesis.versions.get(version_key(source.name, source.version))
        if record is None or passed.get(record.sha256) != {"code", "items"}:
            continue
        with SynthesizedGenerator(record.name, record.source,
                                  params=param_specs(record.params)) as gen:
            target = gen.render(gen.sample(source.seed, dict(source.params)), tmp).target
        good += target == sample.item.target
    return good, len(pub.sample_ids)


def measure(requirement: str, n: int, args: argparse.Namespace, home: Path,
            pool: Path, config: Path) -> dict[str, Any]:
    from benchagent.cli import main

    run_id = f"synth-{n}"
    started = time.perf_counter()
    code = main(["build", requirement, "--size", str(args.size), "--llm", args.llm,
                 "--disable", "design", "--synthesize", "--pool", str(pool), "--config",
                 str(config), "--home", str(home), "--run-id", run_id, "--json"])
    build_seconds = time.perf_counter() - started
    events = read_run(home, run_id)
    synthesis_calls = [e for e in events if e.type == "LLMCallRecorded"
                       and e.payload.purpose.startswith("synthesis.")]
    planned = next((e for e in events if e.type == "GeneratorPlanned"), None)
    # Synthesis runs from the plan request to the generator (or the grounding failure).
    end = next((e for e in events if e.type in ("GeneratorSynthesized", "GroundingFailed")),
               None)
    first = synthesis_calls[0] if synthesis_calls else planned
    synthesis_seconds = (end.time - first.time + first.payload.latency_ms / 1000
                         if end is not None and first is not None
                         and first.type == "LLMCallRecorded" else float("nan"))
    record = next((e.payload for e in events if e.type == "GeneratorSynthesized"), None)
    failure = next((e.payload.reason for e in events if e.type == "GroundingFailed"), "")
    with tempfile.TemporaryDirectory() as tmp:
        good, items = labelled_by_checked_code(events, Path(tmp))
    attempts = sorted({e.payload.attempt for e in events if e.type == "GeneratorDrafted"})
    return {
        "requirement": requirement, "exit": code, "passed": record is not None,
        "attempts": record.attempts if record else (attempts[-1] if attempts else 0),
        "plans": sum(1 for e in events if e.type == "GeneratorPlanned"),
        "model_calls": len(synthesis_calls),
        "calls_by_purpose": {p: sum(1 for c in synthesis_calls if c.payload.purpose == p)
                             for p in sorted({c.payload.purpose for c in synthesis_calls})},
        "synthesis_seconds": round(synthesis_seconds, 1),
        "build_seconds": round(build_seconds, 1),
        "items": items, "items_by_checked_code": good,
        "version": record.version if record else None,
        "failure": failure[:300],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="local:qwen2.5-coder-1.5b")
    parser.add_argument("--size", type=int, default=6)
    parser.add_argument("--only", type=int, nargs="*", help="requirement numbers (1-6)")
    parser.add_argument("--home", type=Path, help="keep the runs here (default: a temp dir)")
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="perf-synthesis-"))
    pool = home / "empty-pool"
    (pool / "dataset_cards").mkdir(parents=True, exist_ok=True)
    config = home / "config.yaml"
    config.write_text(json.dumps({"agents": {"generators": False}}))
    rows = []
    for n, requirement in enumerate(REQUIREMENTS, 1):
        if args.only and n not in args.only:
            continue
        row = measure(requirement, n, args, home, pool, config)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(f"\nsynthesized generators on {args.llm} (runs in {home})")
    print(f"{'#':>2} {'passed':>6} {'plans':>5} {'attempts':>8} {'calls':>5} {'synth s':>8} "
          f"{'checked labels':>14}  requirement")
    for n, row in enumerate(rows, 1):
        share = (f"{row['items_by_checked_code']}/{row['items']}" if row["items"] else "-")
        print(f"{n:>2} {'yes' if row['passed'] else 'no':>6} {row['plans']:>5} "
              f"{row['attempts']:>8} "
              f"{row['model_calls']:>5} {row['synthesis_seconds']:>8} {share:>14}  "
              f"{row['requirement']}")
    ok = [r for r in rows if r["passed"]]
    items = sum(r["items"] for r in ok)
    checked = sum(r["items_by_checked_code"] for r in ok)
    print(f"\n{len(ok)} of {len(rows)} requirements got a generator that passed every check")
    if ok:
        print(f"per synthesized generator: {sum(r['model_calls'] for r in ok) / len(ok):.1f} "
              f"model calls, {sum(r['synthesis_seconds'] for r in ok) / len(ok):.0f} s")
        print(f"items labelled by checked code: {checked}/{items} "
              f"({100 * checked / items if items else 0:.0f}%)")


if __name__ == "__main__":
    main()
