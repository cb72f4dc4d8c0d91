"""JetStream log and the server's limits on a stock server (1 MB max_payload): an event
above max_payload is named with the limit, atomic batches far above it in total, a server
that caps atomic batches lower. Media never make a big event: their bytes are blobs
(tests/store/test_blob_conformance.py, tests/test_big_media.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec
import pytest
import yaml

from store import events as ev
from store.events import encode, new_event
from store.jetstream_log import JetStreamEventLog
from store.log import LogError
from tests.nats_server import NATS_CONFIG, NatsServer
from tests.store.event_factory import make_events
from tests.store.test_conformance import assert_chain

RUN = "run-a"
REPO = Path(__file__).resolve().parents[2]
MB = 1 << 20


def big_event(size: int, key: str) -> ev.Envelope:
    """An LLM call whose answer is `size` characters (hex: incompressible-ish text)."""
    text = (hashlib.sha256(key.encode()).hexdigest() * (size // 64 + 1))[:size]
    payload = ev.LLMCallRecorded(request_key=key, role="design", purpose="big", model="m",
                                 messages=[], answer=text)
    return new_event(RUN, "design", payload, key=key)


async def test_the_deployed_server_is_a_stock_one(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    assert log.nc.max_payload == MB  # deploy/nats.conf leaves the default
    await log.close()


async def test_an_event_above_max_payload_is_named_with_the_limit(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    limit = log.nc.max_payload
    big = big_event(limit, "huge")
    with pytest.raises(LogError) as info:
        await log.append(make_events(RUN, 2) + [big], expected_seq=0)
    message = str(info.value)
    assert "\n" not in message
    assert big.event_id in message and "LLMCallRecorded" in message
    assert f"max_payload of {limit:,} bytes" in message
    assert await log.last_seq(RUN) == 0  # all or nothing: the small ones were not stored
    # Just under max_payload, but not with the headers added: refused the same way,
    # instead of the server dropping the connection on a payload violation.
    base = len(encode(make_events(RUN, 1, pad=0)[0])) + 140  # + sealing fields
    near = make_events(RUN, 1, start=7, pad=limit - 40 - base)[0]
    with pytest.raises(LogError, match="max_payload"):
        await log.append([near])
    assert log.nc.is_connected
    stored = await log.append(make_events(RUN, 2), expected_seq=0)
    assert [e.seq for e in stored] == [1, 2]
    await log.close()


async def test_a_too_large_event_in_a_later_chunk_stores_nothing(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url, max_batch=5)
    batch = make_events(RUN, 12) + [big_event(log.nc.max_payload, "huge")]
    with pytest.raises(LogError, match="max_payload"):
        await log.append(batch)
    assert await log.last_seq(RUN) == 0
    await log.close()


async def test_an_atomic_batch_far_above_max_payload_in_total(nats_server: NatsServer) -> None:
    log = await JetStreamEventLog.connect(nats_server.url)
    batch = [big_event(MB * 3 // 4, f"answer-{i}") for i in range(12)]  # ~9 MB in all
    stored = await log.append(batch, expected_seq=0)
    assert sum(len(encode(e)) for e in stored) > 8 * log.nc.max_payload
    fresh = await JetStreamEventLog.connect(nats_server.url)
    back = await fresh.read(RUN)
    assert [e.event_id for e in back] == [e.event_id for e in batch]
    assert_chain(back)
    await log.close()
    await fresh.close()


async def test_a_server_capping_atomic_batches_lower_is_followed(tmp_path: Path) -> None:
    config = tmp_path / "nats.conf"
    config.write_text(NATS_CONFIG.read_text().replace("max_msgs: 1000", "max_msgs: 40"))
    assert "max_msgs: 40" in config.read_text()
    with NatsServer(tmp_path / "nats", config=config) as server:
        log = await JetStreamEventLog.connect(server.url)
        stored = await log.append(make_events(RUN, 100), expected_seq=0)
        assert [e.seq for e in stored] == list(range(1, 101))
        assert log.max_batch == 40
        assert_chain(await log.read(RUN))
        await log.close()


def test_compose_runs_nats_with_the_repo_config() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    nats = compose["services"]["nats"]
    mounted = dict(v.split(":")[1::-1] for v in nats["volumes"])  # container path -> source
    conf_in_container = nats["command"][nats["command"].index("--config") + 1]
    assert (REPO / mounted[conf_in_container]).resolve() == NATS_CONFIG
    settings = [line.split("#")[0] for line in NATS_CONFIG.read_text().splitlines()]
    assert not any("max_payload" in line for line in settings)


async def test_what_would_break_the_protocol_is_refused(nats_server: NatsServer) -> None:
    # Messages are written as raw protocol commands: a subject with a space or a header
    # with a line break must never reach the wire.
    log = await JetStreamEventLog.connect(nats_server.url)
    env = make_events(RUN, 1)[0]
    # An event type is its payload's class name: one that is not a subject token cannot
    # even be written down (see tests/store/test_events.py).
    with pytest.raises(ValueError, match="'Model Released' is not its payload's type"):
        msgspec.structs.replace(env, type="Model Released")
    with pytest.raises(ValueError, match="line break"):
        await log.append([msgspec.structs.replace(env, event_id="e1\r\nNats-Msg-Id: x")])
    assert await log.last_seq(RUN) == 0
    assert [e.seq for e in await log.append([env])] == [1]
    await log.close()
