"""Fixtures for the agents' tests: the scripted brains registered for `scripted:NAME` specs,
and the General-Bench subset loaded once per process (`loaded_pool`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from tests.agents.build_helpers import register_brains
from tools.pool import Pool


@lru_cache(maxsize=4)
def loaded_pool(root: Path, include_generators: bool) -> Pool:
    """A pool, loaded once for every test that reads it (loading parses every card)."""
    return Pool.load([root], include_generators=include_generators)


@pytest.fixture(autouse=True)
def brains() -> None:
    register_brains()
