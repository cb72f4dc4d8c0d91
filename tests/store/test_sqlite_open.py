"""Opening an SQLite log: brand-new files opened by several processes at once, foreign files."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from store.log import NotALog
from store.sqlite_log import APPLICATION_ID, SQLiteEventLog
from tests.store.concurrent_open import open_together


def test_processes_opening_one_new_log_at_once_all_succeed(tmp_path: Path) -> None:
    # Each round is a fresh path that 4 processes open at the same instant (a barrier):
    # the creator must not expose a file without its application_id or its tables.
    paths = [tmp_path / f"home-{i}" / "events.db" for i in range(80)]
    outcomes = open_together(paths, processes=4)
    failures = {p: o for p, o in outcomes.items() if set(o) != {"ok"}}
    assert not failures, failures

    async def check() -> None:
        for path in paths:
            log = SQLiteEventLog(path)
            assert await log.runs() == [f"run-{w}" for w in range(4)]
            assert all([await log.last_seq(f"run-{w}") == 1 for w in range(4)])
            await log.close()

    asyncio.run(check())
    conn = sqlite3.connect(paths[0])
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


async def test_an_empty_file_becomes_a_log(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    path.touch()
    log = SQLiteEventLog(path)
    assert await log.runs() == []
    await log.close()


@pytest.mark.parametrize("kind", ["other-app-db", "tables-without-app-id", "text"])
def test_a_foreign_file_is_not_a_log_and_stays_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "events.db"
    if kind == "text":
        path.write_text("hello, not a database\n" * 100)
    else:
        conn = sqlite3.connect(path)
        if kind == "other-app-db":
            conn.execute("PRAGMA application_id = 7")
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
        conn.close()
    before = path.read_bytes()
    with pytest.raises(NotALog, match="is not a benchagent event log"):
        SQLiteEventLog(path)
    assert path.read_bytes() == before
