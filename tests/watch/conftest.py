"""Fixtures of the watcher's tests: a published benchmark (built once per session with the
scripted brain, importable by a watcher process), copied into each test's home."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchagent.cli import main
from tests.agents.build_helpers import REQUIREMENT
from tests.conftest import GENERAL_BENCH

BRAIN = "scripted:tests.agents.scripted_brain:brain"  # a watcher process imports it too
BENCH = "bench1"


@pytest.fixture(scope="session")
def built_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (GENERAL_BENCH / "dataset_cards").is_dir():
        pytest.skip(f"General-Bench subset not found at {GENERAL_BENCH}")
    home = tmp_path_factory.mktemp("built")
    code = main(["build", REQUIREMENT, "--size", "12", "--seed", "3", "--llm", BRAIN,
                 "--pool", str(GENERAL_BENCH), "--home", str(home), "--run-id", BENCH])
    assert code == 0
    return home


@pytest.fixture
def home(built_home: Path, tmp_path: Path) -> Path:
    """A home holding the published benchmark `bench1` (its log only)."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(built_home / "events.db", home / "events.db")
    return home
