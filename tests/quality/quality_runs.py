"""Published runs for the quality commands' tests, built once per session by `benchagent build`
with the scripted brain, and copied into each test's own home (the tests append to them)."""

from __future__ import annotations

import shutil
from pathlib import Path

from benchagent.cli import main
from store.events import Envelope
from tests.agents.build_helpers import read_events, register_brains
from tests.replay.export_runs import build_run


def build_media_run(home: Path) -> list[Envelope]:
    """`media`: four generated items (PNG frames with options; a WAV dialogue), evaluated."""
    return build_run(home, "media")


def build_text_run(home: Path, pool: Path, run_id: str = "text", size: int = 8,
                   *extra: str) -> list[Envelope]:
    """A run over the General-Bench subset (text items, some with images)."""
    register_brains()
    code = main(["build", "I want to evaluate whether a model can reason about causes and "
                 "effects in everyday events", "--size", str(size), "--seed", "3",
                 "--llm", "scripted:brain", "--pool", str(pool), "--home", str(home),
                 "--run-id", run_id, "--json", *extra])
    assert code == 0, f"build of {run_id} failed"
    return read_events(home, run_id)


def copy_home(source: Path, target: Path) -> Path:
    """A private copy of a built home (its SQLite log and run folders)."""
    shutil.copytree(source, target)
    return target
