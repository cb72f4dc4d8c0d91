"""Fixtures for the store tests: every backend on real storage (SQLite file, nats-server)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from store.jetstream_log import JetStreamEventLog
from store.log import EventLog
from store.sqlite_log import SQLiteEventLog
from tests.nats_server import NatsServer

REPO = Path(__file__).resolve().parents[2]

OpenLog = Callable[[], Awaitable[EventLog]]


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "nats") as server:
        yield server


@pytest.fixture(params=["sqlite", "jetstream"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def open_log(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                   ) -> AsyncIterator[OpenLog]:  # fmt: skip
    """Opens a NEW handle on one store each call (another process's view); closes them all."""
    opened: list[EventLog] = []
    if backend == "jetstream":
        server: NatsServer = request.getfixturevalue("nats_server")

    async def open_one() -> EventLog:
        if backend == "sqlite":
            log: EventLog = SQLiteEventLog(tmp_path / "events.db")
        else:
            log = await JetStreamEventLog.connect(server.url)
        opened.append(log)
        return log

    yield open_one
    for log in opened:
        await log.close()


@pytest.fixture
async def log(open_log: OpenLog) -> EventLog:
    return await open_log()


@pytest.fixture
def subprocess_env() -> dict[str, str]:
    """Environment for child Python processes that import the repo (and `tests`)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env
