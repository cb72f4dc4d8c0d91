"""Fixtures for the bus tests: a real SQLite log file and a real nats-server with JetStream."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from store.sqlite_log import SQLiteEventLog
from tests.nats_server import NatsServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def sqlite_log(tmp_path: Path) -> AsyncIterator[SQLiteEventLog]:
    log = SQLiteEventLog(tmp_path / "events.db")
    yield log
    await log.close()


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "nats") as server:
        yield server


@pytest.fixture
def script_env() -> dict[str, str]:
    """Environment for subprocesses that import the repo and tests/bus helpers."""
    env = dict(os.environ)
    paths = [str(REPO)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    return env

