"""Fixtures of the quality commands' tests: published runs built once, copied per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from quality_runs import build_media_run, build_text_run, copy_home  # noqa: E402

from replay.quality.run_media import CACHE_ENV  # noqa: E402
from tests.conftest import GENERAL_BENCH  # noqa: E402


@pytest.fixture(autouse=True)
def media_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Media a judge sees as files go to the test's own directory, not ~/.cache."""
    cache = tmp_path / "media-cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    yield cache


@pytest.fixture(scope="session")
def built_media_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("media-home") / "home"
    build_media_run(home)
    return home


@pytest.fixture(scope="session")
def built_text_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (GENERAL_BENCH / "dataset_cards").is_dir():
        pytest.skip(f"General-Bench subset not found at {GENERAL_BENCH}")
    home = tmp_path_factory.mktemp("text-home") / "home"
    build_text_run(home, GENERAL_BENCH)
    return home


@pytest.fixture
def media_home(built_media_home: Path, tmp_path: Path) -> Path:
    """A home holding the published run `media`, private to the test."""
    return copy_home(built_media_home, tmp_path / "home")


@pytest.fixture
def text_home(built_text_home: Path, tmp_path: Path) -> Path:
    """A home holding the published run `text` (General-Bench), private to the test."""
    return copy_home(built_text_home, tmp_path / "home")
