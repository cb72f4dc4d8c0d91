"""Fixtures of the export tests: two published runs, built once, exported in every format."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from export_runs import GENERAL_BENCH, build_run, export  # noqa: E402

from replay.exports import FORMATS  # noqa: E402
from store.events import Envelope  # noqa: E402


class ExportedRun:
    """A built run, its events, its published folder and one export folder per format."""

    def __init__(self, root: Path, run_id: str) -> None:
        self.home, self.run_id = root / "home", run_id
        self.events: list[Envelope] = build_run(self.home, run_id)
        self.published = self.home / "runs" / run_id
        self.out = root / "exports"
        assert export(self.home, run_id, self.out, *FORMATS) == 0
        self.dirs = {fmt: self.out / fmt for fmt in FORMATS}


@pytest.fixture(scope="session")
def media_run(tmp_path_factory: pytest.TempPathFactory) -> ExportedRun:
    return ExportedRun(tmp_path_factory.mktemp("media-run"), "media")


@pytest.fixture(scope="session")
def text_run(tmp_path_factory: pytest.TempPathFactory) -> ExportedRun:
    if not (GENERAL_BENCH / "dataset_cards").is_dir():
        pytest.skip(f"General-Bench subset not found at {GENERAL_BENCH}")
    return ExportedRun(tmp_path_factory.mktemp("text-run"), "text")


@pytest.fixture(params=["media", "text"])
def exported(request: pytest.FixtureRequest) -> ExportedRun:
    """Each of the two runs in turn."""
    return request.getfixturevalue(f"{request.param}_run")
