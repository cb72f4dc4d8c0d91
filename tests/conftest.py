"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# llama.cpp's threads spin while waiting unless told otherwise, which collapses generation
# speed when another process holds a core; tools/llm/llama_env.py sets the same default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
