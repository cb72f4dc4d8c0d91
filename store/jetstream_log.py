"""NATS JetStream backend of the event log: the distributed one.

Layout: one stream (default `BENCH`) on `bench.>`, file storage, limits
retention without limits, one message per event on `bench.<run_id>.<EventType>`.
The message body is the sealed envelope (`seq`, `time`, `prev_hash`, `hash` set
here, exactly as the SQLite backend does); the `Nats-Msg-Id` header is the event_id.

How the contract is met:
- Optimistic concurrency: every append expects the run's last stream sequence
  (`Nats-Expected-Last-Subject-Sequence` with `...-Subject: bench.<run_id>.*`),
  so two writers can never both extend the same chain; the loser re-reads the
  run and retries (or raises `ConcurrencyConflict` when it gave `expected_seq`).
- Dedup: the server drops a repeated `Nats-Msg-Id` inside the duplicate window;
  beyond it, each process keeps an index of the run (`RunIndex`: event_id ->
  seq), read once from the stream, then only its new tail. The index is exact whenever an append succeeds,
  because that append's expected-last-sequence check proved nothing was added
  after the index was read.
- All-or-nothing: a batch is one JetStream atomic batch (ADR-50), all stored or
  none. The server caps an atomic batch at 1000 messages by default
  (`jetstream { limits { batch { max_msgs } } }`; a lower cap is learnt from its
  refusal); a larger append is written as consecutive atomic chunks: an
  interruption can then leave a prefix of whole chunks, and re-appending the same
  events completes it (dedup skips the stored ones, the chain stays intact).
  Every event must fit the server's `max_payload` (1 MB by default: events are
  small, media bytes go to the blob store, store/blobs.py); one that does not is
  refused before anything is published.
- Lost replies (a server restart): requests give up quickly once the client has
  reconnected (jetstream_wire); an append then re-reads the run and retries, and
  dedup plus the expected-sequence check keep a batch from landing twice.
- Reads use batched direct gets without headers (no consumer, and nats-py's slow
  header parsing avoided); `subscribe` is an ordered consumer filtered on
  `bench.<run_id>.>`, recreated if a server restart loses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence

import msgspec
import nats
import nats.errors
import nats.js.errors
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from store.events import Envelope, EventEnvelope, decode, encode
from store.jetstream_index import RunIndex, read_head
from store.jetstream_wire import (
    ERR_BATCH_TOO_LARGE,
    REQUEST_TIMEOUT_S,
    JetStreamWire,
    OutMsg,
    PublishRejected,
)
from store.log import ConcurrencyConflict, CorruptEvent, LogError, NotALog, StoreUnavailable
from store.nats_connect import connect_nats
from store.sealing import seal
from store.subjects import event_subject, run_subjects, run_wildcard, stream_subjects

log = structlog.get_logger("store.jetstream")

STREAM_MARK = ("benchagent", "event-log/1")  # stream metadata that says "this is ours"
DUPLICATE_WINDOW_S = 2 * 3600.0
MAX_ATOMIC_BATCH = 1000  # nats-server default for an atomic batch
CONNECT_TIMEOUT_S = 5.0
RECONNECT_ATTEMPTS = 60  # ~30 s of reconnecting, then the client gives up (never forever)
_MAX_TRIES = 8
_HEADER_ROOM = 1024  # max_payload counts headers too: Nats-Msg-Id, expected seq, batch ids
_SEAL_ROOM = 256  # what sealing adds to an envelope: seq, time, prev_hash, hash
_HEARTBEAT_S = 1.0  # idle heartbeat of subscriptions; 3 missed ones trigger a check
_TOKEN = re.compile(r"[A-Za-z0-9_\-]+")


class JetStreamEventLog:
    """`EventLog` over a NATS JetStream stream."""

    def __init__(
        self, nc: NATS, stream: str = "BENCH", *, owns_connection: bool = False,
        max_batch: int = MAX_ATOMIC_BATCH,
    ) -> None:  # fmt: skip
        self.nc, self.stream, self.max_batch = nc, stream, max_batch
        self._js = nc.jetstream(timeout=REQUEST_TIMEOUT_S)
        self._wire = JetStreamWire(nc, stream)
        self._owns_connection = owns_connection
        self._runs: dict[str, RunIndex] = {}
        self._types: set[str] = set()  # event types already checked as subject tokens
        self._locks: dict[str, asyncio.Lock] = {}

    # -- opening -------------------------------------------------------------

    @classmethod
    async def connect(
        cls, url: str, stream: str = "BENCH", *, timeout: float = CONNECT_TIMEOUT_S,
        max_batch: int = MAX_ATOMIC_BATCH,
    ) -> JetStreamEventLog:  # fmt: skip
        """Connect to `url`, create or check the stream; `StoreUnavailable` within `timeout`."""
        # Fail fast on the first connect; once connected, ride out server restarts.
        nc = await connect_nats(url, timeout_s=timeout, name="benchagent-store",
                                reconnect_attempts=RECONNECT_ATTEMPTS)
        self = cls(nc, stream, owns_connection=True, max_batch=max_batch)
        try:
            await self.ensure_stream()
        except BaseException:
            await nc.close()
            raise
        return self

    @classmethod
    async def attach(cls, nc: NATS, stream: str = "BENCH") -> JetStreamEventLog:
        """Use an existing connection (closing the log leaves it open)."""
        self = cls(nc, stream)
        await self.ensure_stream()
        return self

    async def ensure_stream(self) -> None:
        """Create the stream, or check that an existing one is a benchagent log."""
        with self._unavailable("open the stream"):
            server = self.nc.connected_server_version
            version = f"{server.major}.{server.minor}"
            if (server.major, server.minor) < (2, 12):
                raise StoreUnavailable(
                    f"nats-server {version} is too old: atomic batches need 2.12 or later"
                )
            subjects = stream_subjects()
            try:
                info = await self._wire.idempotent(lambda: self._js.stream_info(self.stream))
            except nats.js.errors.NotFoundError:
                info = None
            except (nats.js.errors.ServiceUnavailableError, nats.errors.NoRespondersError):
                raise StoreUnavailable(f"JetStream is not enabled on {self._url}") from None
            if info is None:
                config = StreamConfig(
                    name=self.stream, subjects=subjects, storage=StorageType.FILE,
                    retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.OLD,
                    duplicate_window=DUPLICATE_WINDOW_S, allow_atomic=True, allow_direct=True,
                    metadata=dict([STREAM_MARK]),
                )  # fmt: skip
                try:
                    await self._js.add_stream(config)
                except nats.js.errors.BadRequestError as exc:
                    raise NotALog(
                        f"cannot create stream {self.stream} on {self._url}: {exc.description}"
                    ) from None
                return
            config = info.config
            if config.subjects != subjects:
                raise NotALog(
                    f"stream {self.stream} on {self._url} is not a benchagent log "
                    f"(subjects {config.subjects})"
                )
            if not (config.allow_atomic and config.allow_direct):
                config.allow_atomic = config.allow_direct = True
                await self._js.update_stream(config)

    @property
    def _url(self) -> str:
        url = self.nc.connected_url
        return f"{url.scheme}://{url.netloc}" if url else "NATS"

    # -- writing -------------------------------------------------------------

    async def append(
        self, events: Sequence[Envelope], expected_seq: int | None = None
    ) -> list[Envelope]:
        if not events:
            return []
        run_ids = {e.run_id for e in events}
        if len(run_ids) != 1:
            raise ValueError("a batch must hold events of exactly one run")
        (run_id,) = run_ids
        _check_token(run_id)
        unique = _unique(events)
        if len(unique) > self.max_batch:  # several atomic chunks: refuse before the first
            self._check_sizes(unique)
        async with self._lock(run_id):
            with self._unavailable("append"):
                stored: dict[str, Envelope] = {}
                done = 0
                while done < len(unique):
                    chunk = unique[done : done + self.max_batch]
                    expected = expected_seq if done == 0 else None
                    try:
                        result = await self._append_atomic(run_id, chunk, expected)
                    except _BatchTooLarge as exc:  # nothing of the chunk was stored
                        if not 0 < exc.limit < self.max_batch:
                            raise LogError(f"append to run {run_id} refused: {exc}") from None
                        log.info("server caps atomic batches lower", max_msgs=exc.limit)
                        if len(unique) <= self.max_batch:  # now several chunks: not checked
                            self._check_sizes(unique)
                        self.max_batch = exc.limit
                        continue
                    stored.update((env.event_id, env) for env in result)
                    done += len(chunk)
                return [stored[e.event_id] for e in unique]

    async def _append_atomic(
        self, run_id: str, events: Sequence[Envelope], expected_seq: int | None
    ) -> list[Envelope]:
        idx = self._runs.get(run_id)
        just_synced = idx is None
        if idx is None:
            idx = await self._sync(run_id, full=True)
        for attempt in range(_MAX_TRIES):
            fresh = [e for e in events if e.event_id not in idx.ids]
            if fresh and expected_seq is not None and expected_seq != idx.last_seq:
                if not just_synced:  # the index may lag behind another writer
                    idx, just_synced = await self._sync(run_id), True
                    continue
                raise ConcurrencyConflict(run_id, expected_seq, idx.last_seq)
            if not fresh:
                return await self._stored(run_id, idx, events)
            if idx.corrupt_seq is not None:
                raise CorruptEvent(run_id, idx.corrupt_seq, "cannot chain after it")
            sealed, msgs = self._seal(run_id, idx, fresh)
            try:
                ack = await self._wire.publish_atomic(msgs)
            except PublishRejected as exc:
                if exc.retryable:
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                if exc.code == ERR_BATCH_TOO_LARGE:
                    raise _BatchTooLarge(exc) from None
                if "duplicate" in exc.description:
                    idx, just_synced = await self._check_duplicates(run_id, fresh), True
                    continue
                if not exc.wrong_last_sequence:
                    raise LogError(f"append to run {run_id} refused: {exc}") from None
                idx, just_synced = await self._sync(run_id, full=_rewound(exc, idx)), True
                continue
            except (nats.errors.TimeoutError, TimeoutError):
                # No ack (lost in a reconnect?): the batch is stored whole or not at all. A
                # re-read tells which; if not, the retry's expected-last-sequence check and
                # Nats-Msg-Id dedup refuse it should the first attempt still land later.
                log.debug("append ack lost; re-reading run", run_id=run_id)
                await asyncio.sleep(0.05 * attempt)
                idx, just_synced = await self._sync(run_id), True
                continue
            if ack.duplicate:  # the server knew an id our index did not: re-read
                idx = await self._check_duplicates(run_id, fresh)
                just_synced = True
                continue
            idx.learn_sealed(sealed, ack.stream_seq)
            by_id = {env.event_id: env for env in sealed}
            existing = await self._stored(run_id, idx, [e for e in events if e.event_id not in by_id])
            by_id.update((env.event_id, env) for env in existing)
            return [by_id[e.event_id] for e in events]
        raise StoreUnavailable(f"append to run {run_id} did not settle after {_MAX_TRIES} tries")

    async def _check_duplicates(self, run_id: str, fresh: Sequence[Envelope]) -> RunIndex:
        """The server called some of `fresh` duplicates: they must now be in the run."""
        idx = await self._sync(run_id, full=True)
        if all(e.event_id not in idx.ids for e in fresh):
            raise LogError(
                f"run {run_id}: the server remembers event ids the run no longer holds "
                f"(messages deleted from stream {self.stream}?); run `benchagent verify {run_id}`"
            )
        return idx

    def _seal(
        self, run_id: str, idx: RunIndex, fresh: Sequence[Envelope]
    ) -> tuple[list[Envelope], list[OutMsg]]:
        now = time.time()
        seq, prev = idx.last_seq, idx.last_hash
        sealed: list[Envelope] = []
        msgs: list[OutMsg] = []
        for env in fresh:
            if env.type not in self._types:  # it becomes a subject token
                _check_token(env.type, "event type")
                self._types.add(env.type)
            seq += 1
            env, data = seal(env, seq, now, prev)
            prev = env.hash
            self._check_size(env, len(data))
            msgs.append(OutMsg(event_subject(run_id, env.type), data, env.event_id))
            sealed.append(env)
        first = msgs[0]
        msgs[0] = OutMsg(first.subject, first.data, first.msg_id, {
            "Nats-Expected-Last-Subject-Sequence": str(idx.last_stream_seq),
            "Nats-Expected-Last-Subject-Sequence-Subject": run_wildcard(run_id),
        })  # fmt: skip
        return sealed, msgs

    def _check_sizes(self, events: Sequence[Envelope]) -> None:
        """Before an append of several atomic chunks: every event fits (an estimate from
        the unsealed bytes; sealing checks each exactly)."""
        for env in events:
            self._check_size(env, len(encode(env)) + _SEAL_ROOM)

    def _check_size(self, env: Envelope, size: int) -> None:
        """One event is one message: it must fit the server's max_payload with its headers."""
        limit = self.nc.max_payload
        if size + _HEADER_ROOM > limit:
            raise LogError(
                f"event {env.event_id} ({env.type}) of run {env.run_id} is {size:,} bytes, "
                f"above the NATS server's max_payload of {limit:,} bytes (less {_HEADER_ROOM} "
                f"for headers): raise max_payload in the server config (at most 64MB) or use "
                f"the SQLite store"
            )

    async def _stored(
        self, run_id: str, idx: RunIndex, events: Sequence[Envelope]
    ) -> list[Envelope]:
        """The stored versions of already-appended `events` (one scan from the earliest)."""
        if not events:
            return []
        wanted = {e.event_id for e in events}
        last = max(idx.ids[e.event_id] for e in events)
        found: dict[str, Envelope] = {}
        first = min(idx.ids[e.event_id] for e in events)
        async for env in self._scan(run_id, idx.scan_start(first)):
            if env.event_id in wanted:
                found[env.event_id] = env
            if len(found) == len(wanted) or env.seq >= last:
                break
        missing = wanted - found.keys()
        if missing:
            raise LogError(f"run {run_id}: stored event {sorted(missing)[0]} vanished")
        return [found[e.event_id] for e in events]

    async def _sync(self, run_id: str, full: bool = False) -> RunIndex:
        """Bring this process's index of `run_id` up to the stream's present."""
        idx = self._runs.get(run_id)
        if idx is None or full:
            idx = RunIndex()
        pages = self._wire.scan_payloads(run_subjects(run_id), idx.last_stream_seq + 1)
        async for payloads, page_last in pages:
            idx.learn_page([read_head(data) for data in payloads], page_last)
        self._runs[run_id] = idx
        return idx

    async def _scan(
        self, run_id: str, start: int, learn: RunIndex | None = None
    ) -> AsyncIterator[Envelope]:
        """Decoded events of the run from stream seq `start`; `learn` indexes them on the way."""
        seq = 0
        async for payloads, page_last in self._wire.scan_payloads(run_subjects(run_id), start):
            page = []
            for data in payloads:
                try:
                    env = decode(data)
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    raise CorruptEvent(run_id, seq + 1, str(exc).splitlines()[0]) from None
                seq = env.seq
                page.append(env)
            if learn is not None:
                learn.learn_page(page, page_last)
            for env in page:
                yield env

    # -- reading -------------------------------------------------------------

    async def read(self, run_id: str, after_seq: int = 0) -> list[EventEnvelope]:
        _check_token(run_id)
        with self._unavailable("read"):
            idx = self._runs.get(run_id)
            if idx is None:  # first look at this run: one scan reads and indexes it
                idx = RunIndex()
                out = [e async for e in self._scan(run_id, 1, learn=idx) if e.seq > after_seq]
                self._runs.setdefault(run_id, idx)  # an append may have indexed it meanwhile
                return out
            idx = await self._sync(run_id)
            return [e async for e in self._scan(run_id, idx.scan_start(after_seq + 1))
                    if e.seq > after_seq]  # fmt: skip

    async def read_raw(self, run_id: str) -> list[tuple[int, bytes]]:
        _check_token(run_id)
        with self._unavailable("read"):
            out: list[tuple[int, bytes]] = []
            prev = 0
            async for payloads, _ in self._wire.scan_payloads(run_subjects(run_id), 1):
                for data in payloads:
                    head = read_head(data)
                    prev = head.seq if head is not None else prev + 1
                    out.append((prev, data))
            return out

    async def subscribe(
        self, run_id: str, from_seq: int = 1
    ) -> AsyncGenerator[EventEnvelope, None]:
        _check_token(run_id)
        with self._unavailable("subscribe"):
            idx = await self._sync(run_id)
            start = idx.scan_start(from_seq)
        last = from_seq - 1
        while True:  # one ordered consumer per pass; a new one if the server lost it
            with self._unavailable("subscribe"):
                sub = await self._ordered_consumer(run_id, start)
            try:
                with self._unavailable("subscribe"):
                    async for msg in _follow(sub):
                        start = msg.metadata.sequence.stream + 1
                        try:
                            env = decode(msg.data)
                        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                            detail = str(exc).splitlines()[0]
                            raise CorruptEvent(run_id, last + 1, detail) from None
                        if env.seq <= last:  # before from_seq, or redelivered after a reset
                            continue
                        last = env.seq
                        yield env
            finally:
                with contextlib.suppress(nats.errors.Error):
                    await sub.unsubscribe()
            log.debug("ordered consumer lost (server restart?); recreating", run_id=run_id)

    async def _ordered_consumer(self, run_id: str, start: int) -> JetStreamContext.PushSubscription:
        return await self._js.subscribe(
            run_subjects(run_id), stream=self.stream, ordered_consumer=True,
            idle_heartbeat=_HEARTBEAT_S,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(start, 1)
            ),
        )  # fmt: skip

    async def runs(self) -> list[str]:
        with self._unavailable("list runs"):
            info = await self._wire.idempotent(
                lambda: self._js.stream_info(self.stream, subjects_filter=stream_subjects()[0])
            )
            subjects = info.state.subjects or {}
            return sorted({s.split(".")[1] for s in subjects if s.count(".") >= 2})

    async def last_seq(self, run_id: str) -> int:
        _check_token(run_id)
        with self._unavailable("read"):
            stored = await self._wire.last_msg(run_wildcard(run_id))
            if stored is None:
                return 0
            head = read_head(stored.data)
            return head.seq if head is not None else (await self._sync(run_id)).last_seq

    async def close(self) -> None:
        if self._owns_connection and not self.nc.is_closed:
            await self.nc.close()

    # -- helpers -------------------------------------------------------------

    def _lock(self, run_id: str) -> asyncio.Lock:
        return self._locks.setdefault(run_id, asyncio.Lock())

    @contextlib.contextmanager
    def _unavailable(self, what: str) -> Iterator[None]:
        """Connection-level failures become one clear `StoreUnavailable` line."""
        try:
            yield
        except (nats.errors.ConnectionClosedError, nats.errors.NoServersError,
                nats.errors.OutboundBufferLimitError, nats.errors.TimeoutError,
                nats.errors.NoRespondersError,
                TimeoutError) as exc:  # fmt: skip
            raise StoreUnavailable(
                f"cannot {what} on NATS stream {self.stream}: {type(exc).__name__}"
            ) from None
        except nats.js.errors.APIError as exc:
            raise StoreUnavailable(
                f"cannot {what} on NATS stream {self.stream}: {exc.description}"
            ) from None


async def _follow(sub: JetStreamContext.PushSubscription) -> AsyncIterator[Msg]:
    """Messages of an ordered consumer; returns when the server no longer has the consumer
    (an ephemeral consumer does not survive a server restart)."""
    while True:
        try:
            yield await sub.next_msg(timeout=_HEARTBEAT_S * 3)
        except nats.errors.TimeoutError:
            try:
                await sub.consumer_info()
            except nats.js.errors.NotFoundError:
                return
            except nats.errors.ConnectionClosedError:
                raise
            except nats.errors.Error:
                await asyncio.sleep(_HEARTBEAT_S)  # the server is still coming back


def _check_token(token: str, what: str = "run id") -> None:
    if not _TOKEN.fullmatch(token):
        raise LogError(
            f"{what} {token!r} cannot be a NATS subject token (use letters, digits, '-', '_')"
        )


def _rewound(exc: PublishRejected, idx: RunIndex) -> bool:
    """The run's last message is older than we knew (deleted?): rebuild the index."""
    match = re.search(r"wrong last sequence: (\d+)", exc.description)
    return match is not None and int(match.group(1)) < idx.last_stream_seq


def _unique(events: Sequence[Envelope]) -> list[Envelope]:
    seen: dict[str, Envelope] = {}
    for env in events:
        seen.setdefault(env.event_id, env)
    return list(seen.values())


class _BatchTooLarge(Exception):
    """The server refused an atomic batch for its message count; it says its cap."""

    def __init__(self, exc: PublishRejected) -> None:
        super().__init__(str(exc))
        match = re.search(r"too large: (\d+)", exc.description)
        self.limit = int(match.group(1)) if match else 0
