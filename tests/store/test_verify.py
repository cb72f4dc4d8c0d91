"""`benchagent verify` on real logs edited behind the log's back, and its bad-input errors."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import time
from pathlib import Path

import msgspec
import nats
import pytest

from benchagent.cli import main
from store.events import decode, encode
from store.jetstream_log import JetStreamEventLog
from store.sealing import seal
from store.sqlite_log import SQLiteEventLog
from tests.nats_server import NatsServer
from tests.store.event_factory import make_events

RUN = "run-audit"
N = 10


@pytest.fixture
def home(tmp_path: Path) -> Path:
    async def fill() -> None:
        log = SQLiteEventLog(tmp_path / "events.db")
        await log.append(make_events(RUN, 6), expected_seq=0)
        await log.append(make_events(RUN, N - 6, start=6), expected_seq=6)
        await log.append(make_events("run-other", 3))
        await log.close()

    asyncio.run(fill())
    return tmp_path


def db(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "events.db", isolation_level=None)


def row(conn: sqlite3.Connection, seq: int) -> bytes:
    return bytes(conn.execute(
        "SELECT data FROM events WHERE run_id = ? AND seq = ?", (RUN, seq)
    ).fetchone()[0])  # fmt: skip


def put(conn: sqlite3.Connection, seq: int, data: bytes) -> None:
    conn.execute("UPDATE events SET data = ? WHERE run_id = ? AND seq = ?", (data, RUN, seq))


def shift_up(conn: sqlite3.Connection, after: int) -> None:
    """Make room at seq `after + 1` by moving every later row one seq up."""
    conn.execute("UPDATE events SET seq = seq + 1000000 WHERE run_id = ? AND seq > ?", (RUN, after))
    conn.execute("UPDATE events SET seq = seq - 999999 WHERE run_id = ? AND seq > 1000000", (RUN,))


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["verify", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def text_verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_intact_log_verifies(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 0
    assert report["ok"] is True and report["problem"] is None
    assert (report["events"], report["last_seq"]) == (N, N)
    code, out, _ = text_verify(capsys, RUN, "--home", str(home))
    assert code == 0 and "10 events, hash chain intact" in out


def test_modified_event_is_named(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db(home) as conn:
        put(conn, 4, row(conn, 4).replace(b"model-3", b"model-9"))
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 1 and report["ok"] is False
    assert report["problem"]["kind"] == "modified"
    assert report["problem"]["seq"] == 4
    assert report["problem"]["event_id"] == make_events(RUN, 4)[3].event_id
    assert report["last_seq"] == 3
    code, out, _ = text_verify(capsys, RUN, "--home", str(home))
    assert code == 1 and "event seq 4" in out and "modified" in out


def test_modified_and_rehashed_event_is_named(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db(home) as conn:
        env = decode(row(conn, 4))
        edited = msgspec.structs.replace(env, agent="forger")
        _, data = seal(edited, env.seq, env.time, env.prev_hash)  # self-consistent again
        put(conn, 4, data)
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 1
    assert (report["problem"]["kind"], report["problem"]["seq"]) == ("modified", 4)


def test_deleted_event_is_named(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db(home) as conn:
        conn.execute("DELETE FROM events WHERE run_id = ? AND seq = 5", (RUN,))
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 1
    assert (report["problem"]["kind"], report["problem"]["seq"]) == ("deleted", 5)
    code, out, _ = text_verify(capsys, RUN, "--home", str(home))
    assert "event seq 5 deleted" in out


def test_inserted_copy_is_named(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db(home) as conn:
        # A copy of event 3 (new id: event_id is UNIQUE) slipped in at position 6.
        copy = msgspec.structs.replace(decode(row(conn, 3)), event_id="f" * 32)
        shift_up(conn, 5)
        conn.execute(
            "INSERT INTO events (run_id, seq, event_id, type, data) VALUES (?, 6, ?, ?, ?)",
            (RUN, copy.event_id, copy.type, encode(copy)),
        )
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 1
    assert (report["problem"]["kind"], report["problem"]["seq"]) == ("inserted", 6)
    assert report["problem"]["event_id"] == "f" * 32


def test_well_forged_insert_is_named(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db(home) as conn:
        # A new event correctly sealed onto event 5: only its successor betrays it.
        prev = decode(row(conn, 5))
        forged, data = seal(make_events(RUN, 1, start=99)[0], 6, prev.time, prev.hash)
        shift_up(conn, 5)
        conn.execute(
            "INSERT INTO events (run_id, seq, event_id, type, data) VALUES (?, 6, ?, ?, ?)",
            (RUN, forged.event_id, forged.type, data),
        )
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 1
    assert report["problem"]["kind"] == "inserted"
    assert (report["problem"]["seq"], report["problem"]["event_id"]) == (6, forged.event_id)


def test_reordered_events_are_named(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db(home) as conn:
        third, fourth = row(conn, 3), row(conn, 4)
        put(conn, 3, fourth)
        put(conn, 4, third)
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 1
    assert (report["problem"]["kind"], report["problem"]["seq"]) == ("reordered", 3)
    assert report["problem"]["event_id"] == make_events(RUN, 4)[3].event_id


def test_undecodable_event_is_named_and_other_commands_refuse_the_run(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with db(home) as conn:
        put(conn, 7, b'{"event_id": "truncat')
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 1
    assert report["problem"] == {
        "kind": "undecodable", "seq": 7, "event_id": None,
        "detail": "stored bytes are not a valid event envelope",
    }  # fmt: skip
    code = main(["log", RUN, "--home", str(home)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "event seq 7 undecodable" in err and "\n" not in err


def test_other_runs_are_untouched_by_tampering(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with db(home) as conn:
        conn.execute("DELETE FROM events WHERE run_id = ? AND seq = 2", (RUN,))
    assert verify(capsys, "run-other", "--home", str(home))[0] == 0
    assert verify(capsys, RUN, "--home", str(home))[0] == 1


# -- JetStream ---------------------------------------------------------------------


def test_jetstream_purged_message_is_named_deleted(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fill_then_purge() -> None:
        log = await JetStreamEventLog.connect(nats_server.url)
        await log.append(make_events("run-noise", 2))
        await log.append(make_events(RUN, N))
        await log.close()
        nc = await nats.connect(nats_server.url)
        # Stream seqs: 1-2 are run-noise, so RUN's seq 4 is stream seq 6.
        assert await nc.jetstream().delete_msg("BENCH", 6)
        await nc.close()

    asyncio.run(fill_then_purge())
    code, report = verify(capsys, RUN, "--store", nats_server.url)
    assert code == 1
    assert (report["problem"]["kind"], report["problem"]["seq"]) == ("deleted", 4)
    assert verify(capsys, "run-noise", "--store", nats_server.url)[0] == 0


def test_jetstream_intact_log_verifies(
    nats_server: NatsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fill() -> None:
        log = await JetStreamEventLog.connect(nats_server.url)
        await log.append(make_events(RUN, N))
        await log.close()

    asyncio.run(fill())
    code, report = verify(capsys, RUN, "--store", nats_server.url)
    assert code == 0 and report["events"] == N


# -- bad input ---------------------------------------------------------------------


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, (captured.out, err)
    assert err.startswith("benchagent: error: ") and "\n" not in err
    assert "Traceback" not in err and captured.out == ""
    return err


def test_unknown_run_id(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = one_error_line(capsys, ["verify", "run-nope", "--home", str(home)])
    assert "unknown run id: run-nope" in err


def test_home_whose_events_db_is_a_text_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "events.db").write_text("these are my notes, not a database\n" * 20)
    err = one_error_line(capsys, ["verify", RUN, "--home", str(tmp_path)])
    assert "not a benchagent event log" in err


def test_home_whose_events_db_is_another_sqlite_db(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(tmp_path / "events.db") as conn:
        conn.execute("CREATE TABLE contacts (name TEXT)")
        conn.execute("INSERT INTO contacts VALUES ('ada')")
    err = one_error_line(capsys, ["verify", RUN, "--home", str(tmp_path)])
    assert "not a benchagent event log" in err


def test_unreachable_store_fails_within_seconds(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    err = one_error_line(capsys, ["verify", RUN, "--store", "nats://127.0.0.1:1"])
    assert time.monotonic() - started < 5
    assert "cannot reach NATS at nats://127.0.0.1:1" in err


def test_unknown_run_on_jetstream(nats_server: NatsServer, capsys: pytest.CaptureFixture[str]) -> None:
    err = one_error_line(capsys, ["verify", "run-nope", "--store", nats_server.url])
    assert "unknown run id: run-nope" in err


# -- the classifier on edge cases (stored rows as read_raw returns them) -----------


def sealed_rows(n: int) -> list[tuple[int, bytes]]:
    from store.events import GENESIS_HASH

    rows, prev = [], GENESIS_HASH
    for seq, env in enumerate(make_events(RUN, n), start=1):
        env, data = seal(env, seq, 1.0, prev)
        rows.append((seq, data))
        prev = env.hash
    return rows


def first_problem(rows: list[tuple[int, bytes]]) -> tuple[str, int] | None:
    from store.verify import check_chain

    report = check_chain(RUN, rows)
    return None if report.problem is None else (report.problem.kind, report.problem.seq)


def test_classifier_edge_cases() -> None:
    rows = sealed_rows(6)
    assert first_problem(rows) is None
    assert first_problem(rows[1:]) == ("deleted", 1)  # the first event is gone
    assert first_problem(rows[:2] + rows[4:]) == ("deleted", 3)  # two in a row
    assert first_problem(rows[:3] + [rows[2]] + rows[3:]) == ("inserted", 3)  # exact replay
    assert first_problem([rows[1], rows[0]] + rows[2:]) == ("reordered", 1)
    assert first_problem(rows[:5] + [rows[2]]) == ("inserted", 3)  # a copy at the end
    # Truncating the tail leaves a valid shorter chain: the head hash must be kept elsewhere.
    from store.verify import check_chain

    short, full = check_chain(RUN, rows[:4]), check_chain(RUN, rows)
    assert short.ok and short.head_hash != full.head_hash


def test_an_event_written_before_a_field_was_added_still_verifies(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An older benchagent wrote the last event before ModelReleased had `discovered_at`:
    # sealed as `seal` does, over the bytes it wrote. Today's schema gives the field its
    # default when reading; the chain is checked over the stored bytes, so it holds.
    conn = db(home)
    current = decode(row(conn, N))
    written = json.loads(row(conn, N))
    del written["payload"]["discovered_at"]
    written["hash"] = ""
    body = json.dumps(written, separators=(",", ":")).encode()
    assert body.endswith(b'"hash":""}')
    digest = hashlib.sha256(current.prev_hash.encode() + body).hexdigest()
    put(conn, N, body[:-3] + b'"' + digest.encode() + b'"}')
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code == 0 and report["ok"] is True
    events = asyncio.run(read_all(home))
    assert events[-1].payload.discovered_at == 0.0 and events[-1].hash == digest
    # Editing that event's content is still found.
    put(conn, N, row(conn, N).replace(b"model-9", b"model-X"))
    code, report = verify(capsys, RUN, "--home", str(home))
    assert code != 0 and report["problem"]["kind"] == "modified"


async def read_all(home: Path) -> list:
    log = SQLiteEventLog(home / "events.db")
    try:
        return await log.read(RUN)
    finally:
        await log.close()
