"""One conformance suite for every `EventLog` backend (SQLite file, JetStream on a real server)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
import pytest

from store.events import GENESIS_HASH, Envelope, chain_hash, encode
from store.jetstream_log import JetStreamEventLog
from store.log import ConcurrencyConflict, EventLog, LogError, NotALog, StoreUnavailable
from store.sqlite_log import SQLiteEventLog
from tests.nats_server import NatsServer
from tests.store.event_factory import make_events
from tests.waiting import wait_until

CRASH_WRITER = Path(__file__).with_name("crash_writer.py")
RUN = "run-a"
OpenLog = Callable[[], Awaitable[EventLog]]


def assert_chain(stored: list[Envelope], first_seq: int = 1, prev: str = GENESIS_HASH) -> None:
    """Gapless seq from `first_seq`, each hash covering the event and its predecessor."""
    assert [e.seq for e in stored] == list(range(first_seq, first_seq + len(stored)))
    for env in stored:
        assert env.prev_hash == prev
        assert env.hash == chain_hash(env, env.prev_hash)
        prev = env.hash


async def test_append_assigns_gapless_seq_and_hash_chain(log: EventLog) -> None:
    first = await log.append(make_events(RUN, 3), expected_seq=0)
    second = await log.append(make_events(RUN, 4, start=3), expected_seq=3)
    assert_chain(first + second)
    assert all(e.time > 0 for e in first + second)
    stored = await log.read(RUN)
    assert [encode(e) for e in stored] == [encode(e) for e in first + second]
    assert await log.last_seq(RUN) == 7


async def test_read_after_seq(log: EventLog) -> None:
    await log.append(make_events(RUN, 10))
    assert [e.seq for e in await log.read(RUN, after_seq=6)] == [7, 8, 9, 10]
    assert await log.read(RUN, after_seq=10) == []
    assert await log.read("run-unknown") == []
    assert await log.last_seq("run-unknown") == 0


async def test_read_after_seq_across_pages_of_interleaved_runs(open_log: OpenLog) -> None:
    writer = await open_log()
    for i in range(15):  # two runs interleaved: 1500 events each, read in pages of 1000
        await writer.append(make_events(RUN, 100, start=100 * i))
        await writer.append(make_events("run-b", 100, start=100 * i))
    warm = await open_log()
    assert len(await warm.read(RUN)) == 1500  # indexes the run
    await writer.append(make_events(RUN, 10, start=5000))
    for after in (0, 1, 99, 100, 101, 999, 1000, 1001, 1499, 1500, 1505, 1510):
        got = await warm.read(RUN, after_seq=after)
        assert [e.seq for e in got] == list(range(after + 1, 1511)), after
        assert all(e.run_id == RUN for e in got)
    # Re-emitting old decisions returns them as stored, from anywhere in the run.
    for handle in (warm, await open_log()):
        again = await handle.append(make_events(RUN, 3, start=1200) + make_events(RUN, 2, start=50))
        assert [e.seq for e in again] == [1201, 1202, 1203, 51, 52]


async def test_dedup_by_event_id_returns_stored_events(open_log: OpenLog) -> None:
    log = await open_log()
    events = make_events(RUN, 5)
    first = await log.append(events, expected_seq=0)
    # Same events again (stale expected_seq is fine: nothing new), then a mix.
    again = await log.append(events, expected_seq=0)
    assert [encode(e) for e in again] == [encode(e) for e in first]
    mixed = await log.append(events[3:] + make_events(RUN, 2, start=5), expected_seq=5)
    assert [e.seq for e in mixed] == [4, 5, 6, 7]
    # A duplicate inside one batch is stored once.
    inner = await log.append(make_events(RUN, 1, start=9) * 3)
    assert [e.seq for e in inner] == [8]
    # Another handle (another process) sees the same ids as stored.
    other = await open_log()
    replay = await other.append(events + make_events(RUN, 1, start=9))
    assert [e.seq for e in replay] == [1, 2, 3, 4, 5, 8]
    assert await other.last_seq(RUN) == 8
    assert_chain(await other.read(RUN))


async def test_stale_expected_seq_conflicts_and_stores_nothing(log: EventLog) -> None:
    await log.append(make_events(RUN, 3), expected_seq=0)
    with pytest.raises(ConcurrencyConflict) as info:
        await log.append(make_events(RUN, 2, start=3), expected_seq=1)
    assert (info.value.expected, info.value.actual) == (1, 3)
    assert "expected last seq 1" in str(info.value)
    assert await log.last_seq(RUN) == 3
    with pytest.raises(ConcurrencyConflict):
        await log.append(make_events("run-b", 1), expected_seq=2)  # a new run is at 0
    assert await log.read("run-b") == []


async def test_two_writers_never_fork_the_chain(open_log: OpenLog) -> None:
    a, b = await open_log(), await open_log()
    await a.append(make_events(RUN, 2), expected_seq=0)
    assert await b.last_seq(RUN) == 2
    await b.append(make_events(RUN, 2, start=2), expected_seq=2)
    # `a` has not seen b's events: its expectation is stale.
    with pytest.raises(ConcurrencyConflict) as info:
        await a.append(make_events(RUN, 1, start=10), expected_seq=2)
    assert info.value.actual == 4
    # Without an expectation it appends after them, chained to b's last event.
    tail = await a.append(make_events(RUN, 1, start=10))
    assert tail[0].seq == 5
    assert_chain(await b.read(RUN))


async def test_concurrent_appends_interleave_without_gaps(open_log: OpenLog) -> None:
    writers = [await open_log() for _ in range(3)]

    async def write(log: EventLog, w: int) -> None:
        for i in range(5):
            await log.append(make_events(RUN, 2, start=100 * w + 10 * i))

    await asyncio.gather(*(write(log, w) for w, log in enumerate(writers)))
    stored = await writers[0].read(RUN)
    assert len(stored) == 30
    assert_chain(stored)


async def test_subscribe_from_seq_yields_stored_then_live_events(open_log: OpenLog) -> None:
    log, writer = await open_log(), await open_log()
    await log.append(make_events(RUN, 5))
    await log.append(make_events("run-other", 2))
    seen: list[int] = []

    async def follow() -> None:
        async for env in log.subscribe(RUN, from_seq=3):
            assert env.run_id == RUN
            seen.append(env.seq)
            if env.seq == 8:
                return

    task = asyncio.create_task(follow())
    # The stored events come first: once they are seen, the subscription is live.
    await wait_until(lambda: seen == [3, 4, 5], what="the stored events 3..5")
    await writer.append(make_events(RUN, 2, start=5))
    await writer.append(make_events("run-other", 1, start=2))
    await writer.append(make_events(RUN, 1, start=7))
    await asyncio.wait_for(task, 10)
    assert seen == [3, 4, 5, 6, 7, 8]


async def test_subscribe_from_the_future_waits_for_that_seq(log: EventLog) -> None:
    await log.append(make_events(RUN, 2))

    async def first() -> Envelope:
        async for env in log.subscribe(RUN, from_seq=4):
            return env
        raise AssertionError("subscription ended")

    task = asyncio.create_task(first())
    await log.append(make_events(RUN, 1, start=2))  # seq 3: before the one asked for
    await log.append(make_events(RUN, 2, start=3))
    assert (await asyncio.wait_for(task, 10)).seq == 4


async def test_runs_lists_every_run_once(log: EventLog) -> None:
    assert await log.runs() == []
    for run in ("run-b", "run-a", "run-c"):
        await log.append(make_events(run, 3))
    assert await log.runs() == ["run-a", "run-b", "run-c"]


async def test_a_batch_of_several_runs_is_refused(log: EventLog) -> None:
    with pytest.raises(ValueError):
        await log.append(make_events("run-a", 1) + make_events("run-b", 1))
    assert await log.runs() == []


# -- all or nothing -------------------------------------------------------------


def _kill_when(proc: subprocess.Popen[str], ready: str, condition=None, timeout: float = 60) -> None:
    """Wait for the child to print `ready` (and `condition()` to hold), then SIGKILL it."""
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "APPENDING", proc.stderr.read() if proc.stderr else line
    if ready != "APPENDING":
        line = proc.stdout.readline().strip()
        assert line == ready, proc.stderr.read() if proc.stderr else line
    deadline = time.monotonic() + timeout
    while condition is not None and not condition():
        assert proc.poll() is None, "the writer finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()
    proc.wait()


@pytest.mark.slow
def test_sqlite_batch_killed_mid_transaction_leaves_nothing(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    db = tmp_path / "events.db"
    wal = tmp_path / "events.db-wal"
    SQLiteEventLog(db)  # create the file so the WAL is the child's transaction alone
    proc = subprocess.Popen(
        [sys.executable, str(CRASH_WRITER), "sqlite", str(db), "40000", "1000"],
        env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # The page cache spills uncommitted pages into the WAL: the batch is half written.
    _kill_when(proc, "APPENDING", lambda: wal.exists() and wal.stat().st_size > 4_000_000)
    assert wal.stat().st_size > 4_000_000

    async def check() -> None:
        log = SQLiteEventLog(db)
        assert await log.last_seq("run-crash") == 0
        assert await log.read("run-crash") == []
        # The log is healthy: the same batch now goes in whole.
        stored = await log.append(make_events("run-crash", 50), expected_seq=0)
        assert_chain(stored)
        await log.close()

    asyncio.run(check())


async def test_sqlite_failure_mid_transaction_rolls_back_the_batch(tmp_path: Path) -> None:
    log = SQLiteEventLog(tmp_path / "events.db")
    await log.append(make_events(RUN, 2), expected_seq=0)
    # A trigger makes the 3rd insert of the next batch fail after two rows went in.
    log._conn.execute(
        "CREATE TRIGGER fail_mid BEFORE INSERT ON events WHEN NEW.seq = 5 "
        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    )
    with pytest.raises(Exception, match="injected failure"):
        await log.append(make_events(RUN, 5, start=2), expected_seq=2)
    assert await log.last_seq(RUN) == 2
    log._conn.execute("DROP TRIGGER fail_mid")
    stored = await log.append(make_events(RUN, 5, start=2), expected_seq=2)
    assert [e.seq for e in stored] == [3, 4, 5, 6, 7]
    assert_chain(await log.read(RUN))
    await log.close()


@pytest.mark.slow
def test_jetstream_publisher_killed_before_commit_leaves_nothing(
    nats_server: NatsServer, subprocess_env: dict[str, str]
) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(CRASH_WRITER), "jetstream", nats_server.url, "500"],
        env=subprocess_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _kill_when(proc, "COMMITTING")  # 499 of 500 messages are on the server, uncommitted

    async def check() -> None:
        log = await JetStreamEventLog.connect(nats_server.url)
        assert await log.last_seq("run-crash") == 0
        assert await log.read("run-crash") == []
        stored = await log.append(make_events("run-crash", 500), expected_seq=0)
        assert_chain(stored)
        assert len(await log.read("run-crash")) == 500
        await log.close()

    asyncio.run(check())


async def test_jetstream_rejected_batch_stores_none_of_it(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    await log.append(make_events(RUN, 3))
    other = await JetStreamEventLog.connect(nats_server.url)
    await other.append(make_events(RUN, 1, start=3))
    # `log` publishes a 20-event batch expecting the old last message: the server
    # refuses the whole batch; the retry after re-reading lands it whole.
    stored = await log.append(make_events(RUN, 20, start=10))
    assert [e.seq for e in stored] == list(range(5, 25))
    assert_chain(await other.read(RUN))
    await log.close()
    await other.close()


async def test_jetstream_append_larger_than_an_atomic_batch(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url, max_batch=100)
    stored = await log.append(make_events(RUN, 250), expected_seq=0)
    assert_chain(stored)
    assert len(await log.read(RUN)) == 250
    await log.close()


async def test_jetstream_reappending_a_deleted_event_is_a_clear_error(
    nats_server: NatsServer,
) -> None:
    import nats

    log = await JetStreamEventLog.connect(nats_server.url)
    events = make_events(RUN, 3)
    await log.append(events)
    nc = await nats.connect(nats_server.url)
    await nc.jetstream().delete_msg("BENCH", 3)  # behind the log's back
    await nc.close()
    fresh = await JetStreamEventLog.connect(nats_server.url)
    # The server's duplicate window still holds the id: the append cannot land.
    with pytest.raises(LogError, match="remembers event ids the run no longer holds"):
        await fresh.append(events[2:])
    await log.close()
    await fresh.close()


async def test_jetstream_attach_shares_a_connection(nats_server: NatsServer) -> None:
    import nats

    nc = await nats.connect(nats_server.url)
    log = await JetStreamEventLog.attach(nc)
    await log.append(make_events(RUN, 2))
    await log.close()
    assert nc.is_connected  # the caller's connection stays open
    other = await JetStreamEventLog.attach(nc)
    assert [e.seq for e in await other.read(RUN)] == [1, 2]
    await nc.close()


# -- server restart -------------------------------------------------------------


@pytest.mark.parametrize("stop", ["sigterm", pytest.param("sigkill", marks=pytest.mark.slow)])
async def test_jetstream_restart_loses_no_acknowledged_event(
    nats_server: NatsServer, stop: str
) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    acked: list[Envelope] = []
    for i in range(20):
        acked += await log.append(make_events(RUN, 5, start=5 * i))
    nats_server.kill() if stop == "sigkill" else nats_server.stop()
    nats_server.start()
    fresh = await JetStreamEventLog.connect(nats_server.url)
    assert [encode(e) for e in await fresh.read(RUN)] == [encode(e) for e in acked]
    # The first handle reconnects by itself and keeps extending the same chain.
    more = await asyncio.wait_for(log.append(make_events(RUN, 2, start=1000)), 20)
    assert [e.seq for e in more] == [101, 102]
    assert_chain(await fresh.read(RUN))
    await log.close()
    await fresh.close()


async def test_jetstream_subscription_survives_a_server_restart(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    writer = await JetStreamEventLog.connect(nats_server.url)
    await writer.append(make_events(RUN, 3))
    seen: list[int] = []

    async def follow() -> None:
        async for env in log.subscribe(RUN):
            seen.append(env.seq)
            if env.seq == 6:
                return

    task = asyncio.create_task(follow())
    await wait_until(lambda: seen == [1, 2, 3], what="the stored events 1..3")
    nats_server.restart()  # the ephemeral ordered consumer is gone with it
    await writer.close()
    writer = await JetStreamEventLog.connect(nats_server.url)
    await writer.append(make_events(RUN, 3, start=3))
    await asyncio.wait_for(task, 20)
    assert seen == [1, 2, 3, 4, 5, 6]
    await log.close()
    await writer.close()


# -- bad input -------------------------------------------------------------------


async def test_unreachable_nats_fails_fast() -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot reach NATS at nats://127.0.0.1:1"):
        await JetStreamEventLog.connect("nats://127.0.0.1:1")
    assert time.monotonic() - started < 5


async def test_stream_of_another_application_is_not_a_log(nats_server: NatsServer) -> None:
    import nats

    nc = await nats.connect(nats_server.url)
    await nc.jetstream().add_stream(name="BENCH", subjects=["orders.>"])
    await nc.close()
    with pytest.raises(NotALog, match="not a benchagent log"):
        await JetStreamEventLog.connect(nats_server.url)


async def test_run_id_that_is_not_a_subject_token_is_refused(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    with pytest.raises(LogError, match="subject token"):
        await log.append(make_events("run.with.dots", 1))
    await log.close()


async def test_event_above_max_payload_is_a_clear_error(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    with pytest.raises(LogError, match="max_payload"):
        await log.append(make_events(RUN, 1, pad=log.nc.max_payload + 1))
    assert await log.last_seq(RUN) == 0
    await log.close()


def test_sealed_bytes_are_the_canonical_encoding() -> None:
    from store.sealing import seal

    env = make_events(RUN, 1)[0]
    sealed, data = seal(env, 7, 123.5, "ab" * 32)
    assert data == encode(sealed)
    assert sealed.hash == chain_hash(sealed, "ab" * 32)
    assert msgspec.json.decode(data)["seq"] == 7
