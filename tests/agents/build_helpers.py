"""Running `benchagent build` in tests and reading what it did (shared by tests/agents and
tests/test_build_*.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import tests.agents.scripted_brain as scripted_brain
from benchagent.cli import main
from store.events import Envelope
from store.sqlite_log import SQLiteEventLog
from tools.llm.scripted import register_responder

REQUIREMENT = ("I want to evaluate whether a model can reason about causes and effects in "
               "everyday events")
BRAINS = {"brain": scripted_brain.brain, "feedback-brain": scripted_brain.feedback_brain,
          "strict-brain": scripted_brain.strict_brain,
          "duplicate-brain": scripted_brain.duplicate_brain}


def register_brains() -> None:
    for name, responder in BRAINS.items():
        register_responder(name, responder)


def build(capsys: Any, home: Path, pool: Path, *extra: str, requirement: str = REQUIREMENT,
          size: int = 12, seed: int = 3, llm: str = "scripted:brain",
          run_id: str = "run-test") -> tuple[int, dict[str, Any] | None, str]:
    """`benchagent build ... --json`; (exit code, parsed JSON or None, stderr)."""
    register_brains()
    argv = ["build", requirement, "--size", str(size), "--seed", str(seed), "--llm", llm,
            "--pool", str(pool), "--home", str(home), "--run-id", run_id, "--json", *extra]
    code = main(argv)
    out = capsys.readouterr()
    docs = [line for line in out.out.splitlines() if line.startswith("{")]
    return code, (json.loads(docs[-1]) if docs else None), out.err


def read_events(home: Path, run_id: str = "run-test") -> list[Envelope]:
    async def go() -> list[Envelope]:
        log = SQLiteEventLog(home / "events.db")
        try:
            return await log.read(run_id)
        finally:
            await log.close()

    return asyncio.run(go())


def of_type(events: list[Envelope], name: str) -> list[Envelope]:
    return [e for e in events if e.type == name]


def llm_calls(events: list[Envelope], purpose_prefix: str) -> list[Envelope]:
    return [e for e in events if e.type == "LLMCallRecorded"
            and e.payload.purpose.startswith(purpose_prefix)]


def benchmark_lines(home: Path, run_id: str = "run-test") -> list[dict[str, Any]]:
    text = (home / "runs" / run_id / "benchmark.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


class NoModel:
    """An LLM that must not be asked: the code under test decides without a model."""

    async def complete_json(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no model may be asked here")
