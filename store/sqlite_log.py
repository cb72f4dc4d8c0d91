"""SQLite backend of the event log: one file, WAL, UNIQUE event_id.

The embedded default. Appends run in one transaction (all-or-nothing); the
hash chain is extended inside that transaction so a crash never leaves a
half-chained batch. Subscribers in this process are woken by a condition;
other processes' appends are picked up by a short poll.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from pathlib import Path

import msgspec

from store.events import GENESIS_HASH, Envelope, EventEnvelope, decode
from store.log import ConcurrencyConflict, CorruptEvent, NotALog, StoreUnavailable
from store.sealing import seal

APPLICATION_ID = 0x42454E43  # "BENC": marks a file as a benchagent log
_POLL_S = 0.05

_BUSY_TIMEOUT_S = 10.0

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS events (
        run_id   TEXT    NOT NULL,
        seq      INTEGER NOT NULL,
        event_id TEXT    NOT NULL UNIQUE,
        type     TEXT    NOT NULL,
        data     BLOB    NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS heads (
        run_id    TEXT PRIMARY KEY,
        last_seq  INTEGER NOT NULL,
        last_hash TEXT    NOT NULL
    ) WITHOUT ROWID""",
)
_TABLES = {"events", "heads"}


class SQLiteEventLog:
    """`EventLog` over one SQLite file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._conn = _open(self.path)
        self._changed = asyncio.Condition()

    # -- writing -------------------------------------------------------------

    async def append(
        self, events: Sequence[Envelope], expected_seq: int | None = None
    ) -> list[Envelope]:
        if not events:
            return []
        stored = self._append_sync(events, expected_seq)
        async with self._changed:
            self._changed.notify_all()
        return stored

    def _append_sync(
        self, events: Sequence[Envelope], expected_seq: int | None
    ) -> list[Envelope]:
        conn = self._conn
        run_ids = {e.run_id for e in events}
        if len(run_ids) != 1:
            raise ValueError("a batch must hold events of exactly one run")
        (run_id,) = run_ids
        conn.execute("BEGIN IMMEDIATE")
        try:
            existing = self._existing(events)
            result: list[Envelope] = []
            head = conn.execute(
                "SELECT last_seq, last_hash FROM heads WHERE run_id = ?", (run_id,)
            ).fetchone()
            last_seq, last_hash = head if head else (0, GENESIS_HASH)
            fresh = [e for e in events if e.event_id not in existing]
            if fresh and expected_seq is not None and expected_seq != last_seq:
                raise ConcurrencyConflict(run_id, expected_seq, last_seq)
            now = time.time()
            seen: set[str] = set()
            rows = []
            for env in events:
                if env.event_id in existing:
                    result.append(existing[env.event_id])
                    continue
                if env.event_id in seen:  # duplicate inside one batch
                    continue
                seen.add(env.event_id)
                last_seq += 1
                env, data = seal(env, last_seq, now, last_hash)  # one encode per event
                last_hash = env.hash
                rows.append((run_id, last_seq, env.event_id, env.type, data))
                result.append(env)
            if rows:
                conn.executemany(
                    "INSERT INTO events (run_id, seq, event_id, type, data) VALUES (?,?,?,?,?)",
                    rows,
                )
                conn.execute(
                    "INSERT INTO heads (run_id, last_seq, last_hash) VALUES (?,?,?) "
                    "ON CONFLICT(run_id) DO UPDATE SET last_seq=excluded.last_seq, "
                    "last_hash=excluded.last_hash",
                    (run_id, last_seq, last_hash),
                )
            conn.execute("COMMIT")
            return result
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _existing(self, events: Sequence[Envelope]) -> dict[str, Envelope]:
        ids = [e.event_id for e in events]
        found: dict[str, Envelope] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for run_id, seq, data in self._conn.execute(
                f"SELECT run_id, seq, data FROM events WHERE event_id IN ({marks})", chunk
            ):
                env = _decode(run_id, seq, data)
                found[env.event_id] = env
        return found

    # -- reading -------------------------------------------------------------

    async def read(self, run_id: str, after_seq: int = 0) -> list[EventEnvelope]:
        rows = self._conn.execute(
            "SELECT seq, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq",
            (run_id, after_seq),
        ).fetchall()
        return [_decode(run_id, seq, data) for seq, data in rows]

    async def read_raw(self, run_id: str) -> list[tuple[int, bytes]]:
        rows = self._conn.execute(
            "SELECT seq, data FROM events WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
        return [(seq, bytes(data)) for seq, data in rows]

    async def subscribe(
        self, run_id: str, from_seq: int = 1
    ) -> AsyncGenerator[EventEnvelope, None]:
        after = from_seq - 1
        while True:
            batch = await self.read(run_id, after)
            for env in batch:
                after = env.seq
                yield env
            if not batch:
                async with self._changed:
                    try:
                        await asyncio.wait_for(self._changed.wait(), _POLL_S)
                    except TimeoutError:
                        pass

    async def runs(self) -> list[str]:
        rows = self._conn.execute("SELECT DISTINCT run_id FROM events ORDER BY run_id")
        return [r[0] for r in rows]

    async def last_seq(self, run_id: str) -> int:
        row = self._conn.execute(
            "SELECT MAX(seq) FROM events WHERE run_id = ?", (run_id,)
        ).fetchone()
        return int(row[0] or 0)

    async def close(self) -> None:
        self._conn.close()


def _decode(run_id: str, seq: int, data: bytes) -> EventEnvelope:
    try:
        return decode(bytes(data))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CorruptEvent(run_id, seq, str(exc).splitlines()[0]) from None


def _open(path: Path) -> sqlite3.Connection:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_S * 1000)}")
        try:
            if not _is_ready_log(conn):
                _initialize(conn, path)
            _retry_while_locked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        except BaseException:
            conn.close()
            raise
        conn.execute("PRAGMA synchronous = NORMAL")
        # Checkpoint every ~40 MB of WAL instead of 4 MB: fewer fsyncs on big appends.
        conn.execute("PRAGMA wal_autocheckpoint = 10000")
        return conn
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise NotALog(f"{path} is not a benchagent event log") from None
        raise StoreUnavailable(f"cannot open event log {path}: {exc}") from None
    except OSError as exc:
        raise StoreUnavailable(f"cannot open event log {path}: {exc.strerror}") from None


def _is_ready_log(conn: sqlite3.Connection) -> bool:
    """Ours and complete: checked without taking the write lock (the common case)."""
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        return False
    return _tables(conn) >= _TABLES


def _initialize(conn: sqlite3.Connection, path: Path) -> None:
    """Mark the file as ours and create the tables, in one write transaction.

    Several processes may open a brand-new file at once: the write lock makes
    one of them the creator, and the others then find a complete log. A file
    with no application_id and no tables (new, empty, or created but never
    filled) is fresh; anything else without our application_id is foreign.
    """
    conn.execute("BEGIN IMMEDIATE")  # waits up to busy_timeout for another opener
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id != APPLICATION_ID:
            if app_id != 0 or _tables(conn):
                raise NotALog(f"{path} is not a benchagent event log")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for statement in _SCHEMA:  # not executescript: it would commit first
            conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


def _retry_while_locked(step: Callable[[], object]) -> None:
    """Run `step`, retrying "database is locked": switching the journal mode needs an
    exclusive lock, and SQLite may refuse it at once instead of calling the busy handler."""
    deadline = time.monotonic() + _BUSY_TIMEOUT_S
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
