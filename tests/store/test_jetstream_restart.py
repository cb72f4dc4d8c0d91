"""JetStream log right after a server restart, and appends whose ack never comes.

A request written in the instant of a restart gets no reply; the log must not
wait out a long timeout (nor fail): it notices the reconnect and retries, and
dedup plus the expected-sequence check make the retry store a batch exactly once.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from store.jetstream_log import JetStreamEventLog
from store.jetstream_wire import JetStreamWire, RequestLost
from tests.nats_server import NatsServer
from tests.store.event_factory import make_events
from tests.store.test_conformance import assert_chain

RUN = "run-a"
PROMPT_S = 3.0  # well under the old 5-10 s request timeouts


@pytest.mark.parametrize("first", ["append", "read", "last_seq", "runs"])
async def test_first_request_after_a_restart_succeeds_promptly(
    nats_server: NatsServer, first: str
) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    await log.append(make_events(RUN, 3))
    for round_ in range(2):
        nats_server.restart()  # no sleep, no waiting for the client to reconnect
        started = time.monotonic()
        new = make_events(RUN, 2, start=10 + 2 * round_)
        if first == "append":
            stored = await log.append(new)
            assert [e.seq for e in stored] == [4 + 2 * round_, 5 + 2 * round_]
        elif first == "read":
            assert len(await log.read(RUN)) == 3 + 2 * round_
        elif first == "last_seq":
            assert await log.last_seq(RUN) == 3 + 2 * round_
        else:
            assert await log.runs() == [RUN]
        assert time.monotonic() - started < PROMPT_S, first
        if first != "append":
            await log.append(new)
        # And right after that, the same handle reads everything back, chained.
        stored = await log.read(RUN)
        assert len(stored) == 5 + 2 * round_
        assert_chain(stored)
    await log.close()


@pytest.mark.parametrize(
    "fate", ["commit-stored-ack-lost", "commit-never-arrives", "commit-arrives-after-the-retry"]
)
async def test_an_unanswered_atomic_batch_is_stored_once_and_whole(
    nats_server: NatsServer, fate: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    await log.append(make_events(RUN, 2))
    commits: list[bytes] = []

    async def lossy(self, cmd, reply, timeout):  # type: ignore[no-untyped-def]
        commits.append(cmd)
        if fate == "commit-stored-ack-lost":  # the server stores it; the ack is not awaited
            await self._send([cmd])
            await self.nc.flush()
            await asyncio.sleep(0.2)
        raise RequestLost("no reply in time")

    real_commit = JetStreamWire._commit

    async def first_lost(self, cmd, reply, timeout):  # type: ignore[no-untyped-def]
        if commits:
            return await real_commit(self, cmd, reply, timeout)
        return await lossy(self, cmd, reply, timeout)

    monkeypatch.setattr(JetStreamWire, "_commit", first_lost)
    batch = make_events(RUN, 50, start=100)
    stored = await log.append(batch, expected_seq=2)
    assert len(commits) == 1  # the first commit really went unanswered
    assert [e.seq for e in stored] == list(range(3, 53))
    monkeypatch.undo()
    if fate == "commit-arrives-after-the-retry":  # the first batch's commit, delayed
        await log._wire._send([commits[0]])
        await log.nc.flush()
        await asyncio.sleep(0.3)  # the server refuses it: stale expected seq, known ids
    fresh = await JetStreamEventLog.connect(nats_server.url)
    everything = await fresh.read(RUN)
    assert [e.event_id for e in everything[2:]] == [e.event_id for e in batch]
    assert_chain(everything)
    assert await fresh.last_seq(RUN) == 52
    await log.close()
    await fresh.close()


async def test_an_append_while_no_stream_answers_waits_for_it(nats_server: NatsServer) -> None:
    """Right after a restart the server may take requests before JetStream has loaded the
    stream ("no stream answers", a 503): that is the store still coming back, not a refusal,
    so the append waits for it (an agent recording a paid model answer must not lose it)."""
    log = await JetStreamEventLog.connect(nats_server.url)
    await log.append(make_events(RUN, 2))
    await log.nc.jetstream().delete_stream(log.stream)

    async def stream_back() -> None:
        await asyncio.sleep(0.5)
        again = await JetStreamEventLog.connect(nats_server.url)  # creates the stream again
        await again.close()

    back = asyncio.create_task(stream_back())
    stored = await log.append(make_events(RUN, 1, start=10))
    await back
    assert [e.seq for e in stored] == [1]  # the stream came back empty: the run starts over
    assert [e.event_id for e in await log.read(RUN)] == [e.event_id for e in stored]
    await log.close()
