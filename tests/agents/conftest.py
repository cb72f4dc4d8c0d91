"""Fixtures for the agents' tests: the scripted brains registered for `scripted:NAME` specs."""

from __future__ import annotations

import pytest

from tests.agents.build_helpers import register_brains


@pytest.fixture(autouse=True)
def brains() -> None:
    register_brains()
