"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GENERAL_BENCH = Path(
    os.environ.get(
        "BENCHAGENT_GENERAL_BENCH", REPO.parent / "shared/datasets/general-bench-subset/data"
    )
)


@pytest.fixture
def general_bench() -> Path:
    if not (GENERAL_BENCH / "dataset_cards").is_dir():
        pytest.skip(f"General-Bench subset not found at {GENERAL_BENCH}")
    return GENERAL_BENCH
