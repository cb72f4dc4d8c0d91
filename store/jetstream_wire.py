"""The few JetStream wire operations the event log needs, on a plain nats-py connection.

nats-py 2.16 has no helper for atomic batch publish (ADR-50, nats-server >= 2.12)
nor for batched direct get (nats-server >= 2.11), so both are spoken here with
headers on core NATS requests:

- `publish_atomic`: every message carries `Nats-Batch-Id` and `Nats-Batch-Sequence`;
  the first has a reply subject (the server answers empty once the batch is open,
  or with the reason it is not), the middle ones have none, the last adds
  `Nats-Batch-Commit: 1` and its reply is the one PubAck of the batch. All are
  pipelined. The server stores all of them or none (a batch never committed is
  abandoned after its timeout).
- `scan`: `$JS.API.DIRECT.GET.<stream>` with `next_by_subj` and `batch` streams
  stored messages back to an inbox and ends with a `204 EOB` status; no consumer
  is created, so reads cost no JetStream API state.

Lost requests: a request written just before a server restart is noticed, or in
the instant of a reconnect, gets no reply. Every request therefore waits at most
a short `request_timeout_s`, and gives up at once (`RequestLost`) when the
connection reconnected while it waited. Reads are idempotent and retried here
within `retry_budget_s`; publishes are not retried here: the log re-reads the
run and lets dedup and the expected-sequence check decide (see jetstream_log).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

# JetStream error codes we react to (nats-server errors.json).
ERR_WRONG_LAST_SEQUENCE = 10071
ERR_BATCH_TOO_LARGE = 10199

_SCAN_PAGE = 1000
_SCAN_PAGE_BYTES = 8 << 20  # keeps a page of media events inside nats-py's pending limits

REQUEST_TIMEOUT_S = 2.0  # one attempt; a healthy server answers in milliseconds
RETRY_BUDGET_S = 30.0  # about as long as the client keeps reconnecting (jetstream_log)
_COMMIT_BYTES_PER_S = 20e6  # a big atomic batch may take the server a while to store
_LOSS_CHECK_S = 0.1  # how often a waiting request looks for a reconnect
_SEND_BYTES = 4 << 20  # a big batch is handed to the connection in parts of about this size

T = TypeVar("T")


class RequestLost(TimeoutError):
    """No reply came: the connection reconnected while waiting, or the attempt timed out."""


@dataclass(frozen=True, slots=True)
class StoredMsg:
    stream_seq: int
    subject: str
    headers: dict[str, str]
    data: bytes


@dataclass(frozen=True, slots=True)
class OutMsg:
    subject: str
    data: bytes
    msg_id: str  # Nats-Msg-Id: the server drops a repeat inside its duplicate window
    headers: dict[str, str] | None = None  # any others (the expected-sequence checks)


class PublishRejected(Exception):
    """The server refused a publish (or a whole atomic batch) with a JetStream error."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{description} (err_code {code})")
        self.code, self.description = code, description

    @property
    def wrong_last_sequence(self) -> bool:
        return self.code == ERR_WRONG_LAST_SEQUENCE

    @property
    def retryable(self) -> bool:
        """Worth the same publish again: too many batches in flight, or no stream answering
        yet (503: JetStream still loading its streams after a server restart)."""
        return self.code == 503 or "inflight" in self.description


@dataclass(frozen=True, slots=True)
class PubAck:
    stream_seq: int
    duplicate: bool = False


def _parse_ack(reply: Msg) -> PubAck:
    if reply.headers and reply.headers.get("Status") == "503":
        raise PublishRejected(503, f"no stream answers on {reply.subject}")
    resp = json.loads(reply.data)
    if "error" in resp:
        err = resp["error"]
        raise PublishRejected(int(err.get("err_code", 0)), str(err.get("description", err)))
    return PubAck(stream_seq=int(resp["seq"]), duplicate=bool(resp.get("duplicate", False)))


class JetStreamWire:
    """Publishing and direct reads on one stream over one NATS connection."""

    def __init__(
        self, nc: NATS, stream: str, request_timeout_s: float = REQUEST_TIMEOUT_S,
        retry_budget_s: float = RETRY_BUDGET_S,
    ) -> None:  # fmt: skip
        self.nc, self.stream = nc, stream
        self.request_timeout_s, self.retry_budget_s = request_timeout_s, retry_budget_s
        self._direct_get = f"$JS.API.DIRECT.GET.{stream}"
        self._batch_n = 0
        self._inflight: dict[asyncio.Timeout, int] = {}  # waiting request -> reconnects then
        self._watcher: asyncio.Task[None] | None = None
        self._reply_prefix: str | None = None
        self._reply_n = 0
        self._replies: dict[str, asyncio.Future[Msg]] = {}  # reply subject -> its answer

    # -- surviving lost requests ---------------------------------------------

    async def attempt(self, call: Awaitable[T], timeout: float | None = None) -> T:
        """Await `call` once: `RequestLost` after `timeout`, or as soon as the connection
        reconnects meanwhile (what was in flight then will never be answered)."""
        try:
            async with asyncio.timeout(timeout or self.request_timeout_s) as deadline:
                self._inflight[deadline] = self.nc.stats["reconnects"]
                if self._watcher is None or self._watcher.done():
                    self._watcher = asyncio.create_task(self._expire_lost_requests())
                try:
                    return await call
                finally:
                    del self._inflight[deadline]
        except TimeoutError:  # nats.errors.TimeoutError is one too
            raise RequestLost("no reply in time, or the connection reconnected") from None

    async def _expire_lost_requests(self) -> None:
        """While requests wait: end those sent before a reconnect at once. (Polling a
        counter: cheaper per request than a task each, and needs no connection callback.)"""
        loop = asyncio.get_running_loop()
        try:
            while self._inflight:
                await asyncio.sleep(_LOSS_CHECK_S)
                reconnects = self.nc.stats["reconnects"]
                for deadline, sent_at in list(self._inflight.items()):
                    if sent_at != reconnects and not deadline.expired():
                        deadline.reschedule(loop.time())
        finally:
            self._watcher = None

    async def idempotent(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` retried after lost replies, within `retry_budget_s`; safe only for
        requests whose repetition changes nothing (reads)."""
        deadline = time.monotonic() + self.retry_budget_s
        while True:
            await self.connected(deadline)
            try:
                return await self.attempt(call())
            except RequestLost:
                if time.monotonic() >= deadline:
                    raise

    async def connected(self, deadline: float) -> None:
        """Wait while the client reconnects, rather than queue requests for a dead server."""
        while not self.nc.is_connected:
            if self.nc.is_closed:
                raise nats.errors.ConnectionClosedError
            if time.monotonic() >= deadline:
                raise RequestLost("not connected")
            await asyncio.sleep(0.02)

    # -- publishing ----------------------------------------------------------
    #
    # Publishes are written as raw HPUB commands with replies on this wire's own inbox:
    # nats-py's per-message header encoding and request set-up cost more CPU than the
    # rest of an append (nats-py is pinned; `_send_command` is its one write path).

    async def publish(self, msg: OutMsg) -> PubAck:
        """One attempt: `RequestLost` leaves the outcome unknown to the caller."""
        inbox, reply = await self._expect_reply()
        try:
            await self._connected_now()
            parts: list[bytes] = []
            _hpub(parts, msg.subject, inbox, _header_block(msg, ""), msg.data)
            await self._send(parts)
            return _parse_ack(await self.attempt(reply))
        finally:
            self._replies.pop(inbox, None)

    async def publish_atomic(self, msgs: Sequence[OutMsg]) -> PubAck:
        """Store all of `msgs` or none; returns the ack of the last one.

        One attempt with a fresh batch id: after `RequestLost` the server holds either
        the whole batch or none of it (an uncommitted batch is dropped after its timeout).
        The first message's reply (the batch is open) is not awaited before the rest are
        sent (ADR-50 makes that wait optional): the server answers in order, so an error
        opening the batch is known by the time the commit is answered."""
        if len(msgs) == 1:
            return await self.publish(msgs[0])
        self._batch_n += 1
        batch_id = f"{self.nc._nuid.next().decode()}{self._batch_n}"  # unique per client
        open_inbox, opened = await self._expect_reply()
        commit_inbox, committed = await self._expect_reply()
        try:
            await self._connected_now()
            parts: list[bytes] = []
            pending = size = 0
            for i, msg in enumerate(msgs[:-1], start=1):
                batch = f"Nats-Batch-Id: {batch_id}\r\nNats-Batch-Sequence: {i}\r\n"
                reply = open_inbox if i == 1 else ""
                _hpub(parts, msg.subject, reply, _header_block(msg, batch), msg.data)
                pending += len(msg.data)
                if pending > _SEND_BYTES:  # bounded copies for batches of media
                    await self._send(parts)
                    size, pending, parts = size + pending, 0, []
            await self._send(parts)
            last = msgs[-1]
            batch = (f"Nats-Batch-Id: {batch_id}\r\nNats-Batch-Sequence: {len(msgs)}\r\n"
                     "Nats-Batch-Commit: 1\r\n")  # fmt: skip
            parts = []
            _hpub(parts, last.subject, commit_inbox, _header_block(last, batch), last.data)
            size += pending + len(last.data)
            timeout = self.request_timeout_s + size / _COMMIT_BYTES_PER_S
            ack = await self._commit(b"".join(parts), committed, timeout)
            if opened.done() and opened.result().data:  # the batch never opened: say why
                _parse_ack(opened.result())
            return _parse_ack(ack)
        finally:
            self._replies.pop(open_inbox, None)
            self._replies.pop(commit_inbox, None)

    async def _commit(self, cmd: bytes, reply: asyncio.Future[Msg], timeout: float) -> Msg:
        """Send the commit message and wait for the batch's ack (tests stall or lose it here)."""
        await self._send([cmd])
        return await self.attempt(reply, timeout)

    async def _connected_now(self) -> None:
        await self.connected(time.monotonic() + self.retry_budget_s)

    async def _send(self, parts: list[bytes]) -> None:
        if parts:
            await self.nc._send_command(b"".join(parts))
            await self.nc._flush_pending()

    async def _expect_reply(self) -> tuple[str, asyncio.Future[Msg]]:
        """A fresh reply subject on this wire's inbox and the future its answer resolves."""
        if self._reply_prefix is None:
            prefix = self.nc.new_inbox()
            await self.nc.subscribe(f"{prefix}.*", cb=self._on_reply)
            self._reply_prefix = prefix
        self._reply_n += 1
        inbox = f"{self._reply_prefix}.{self._reply_n}"
        future: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()
        self._replies[inbox] = future
        return inbox, future

    async def _on_reply(self, msg: Msg) -> None:
        future = self._replies.pop(msg.subject, None)
        if future is not None and not future.done():
            future.set_result(msg)

    # -- reading -------------------------------------------------------------

    async def last_msg(self, subject: str) -> StoredMsg | None:
        """The last stored message whose subject matches `subject` (wildcards allowed)."""
        req = json.dumps({"last_by_subj": subject}).encode()
        reply = await self.idempotent(lambda: self._direct_request(req))
        return _stored(reply)

    async def get(self, stream_seq: int) -> StoredMsg | None:
        req = json.dumps({"seq": stream_seq}).encode()
        reply = await self.idempotent(lambda: self._direct_request(req))
        return _stored(reply)

    def _direct_request(self, req: bytes) -> Awaitable[Msg]:
        return self.nc.request(self._direct_get, req, timeout=self.request_timeout_s)

    async def scan(self, subject: str, start_seq: int = 1) -> AsyncIterator[StoredMsg]:
        """Stored messages (with headers) matching `subject` from `start_seq` on, as of now."""
        async for page, _ in self._pages(subject, start_seq, with_headers=True):
            for msg in page:
                stored = _stored(msg)
                assert stored is not None
                yield stored

    async def scan_payloads(
        self, subject: str, start_seq: int = 1
    ) -> AsyncIterator[tuple[list[bytes], int]]:
        """Pages of payloads matching `subject` from `start_seq` on, each with the stream
        seq of its last message. No headers: nats-py parses headers slowly, and reads
        of whole runs are where the time goes."""
        async for page, last_seq in self._pages(subject, start_seq, with_headers=False):
            yield [msg.data for msg in page], last_seq

    async def _pages(
        self, subject: str, start_seq: int, with_headers: bool
    ) -> AsyncIterator[tuple[list[Msg], int]]:
        seq = max(start_seq, 1)
        while True:
            page, status = await self.idempotent(
                lambda: self._page(subject, seq, with_headers)  # noqa: B023 - awaited at once
            )
            headers = status.headers or {}
            if headers.get("Status") != "204" or not page:
                return  # 404: nothing (more) matches
            last_seq = int(headers.get("Nats-Last-Sequence", "0"))
            yield page, last_seq
            seq = last_seq + 1  # until a 404: a page may end early at max_bytes

    async def _page(self, subject: str, seq: int, with_headers: bool) -> tuple[list[Msg], Msg]:
        """One batched direct get on its own inbox (a retried page never mixes with a late
        answer to the lost one); returns the messages and the closing status message."""
        page: list[Msg] = []
        end: asyncio.Future[Msg] = asyncio.get_running_loop().create_future()

        async def collect(msg: Msg) -> None:
            if msg.headers and "Status" in msg.headers:  # 204 EOB closes a page, 404: none
                if not end.done():
                    end.set_result(msg)
            else:
                page.append(msg)

        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox, cb=collect)
        try:
            req: dict[str, object] = {
                "seq": seq, "next_by_subj": subject, "batch": _SCAN_PAGE,
                "max_bytes": _SCAN_PAGE_BYTES,
            }  # fmt: skip
            if not with_headers:
                req["no_hdr"] = True
            await self.nc.publish(self._direct_get, json.dumps(req).encode(), reply=inbox)
            status = await end
            return page, status
        finally:
            with contextlib.suppress(nats.errors.Error):
                await sub.unsubscribe()


def _header_block(msg: OutMsg, batch_lines: str) -> bytes:
    """The NATS header block of `msg`; `batch_lines` are this wire's own, well formed."""
    extra = ""
    if msg.headers:
        extra = "".join([f"{k}: {v}\r\n" for k, v in msg.headers.items()])
        if extra.count("\n") + extra.count("\r") != 2 * len(msg.headers):
            raise ValueError(f"a header holds a line break: {msg.headers!r}")
    if "\n" in msg.msg_id or "\r" in msg.msg_id:
        raise ValueError(f"a message id holds a line break: {msg.msg_id!r}")
    return f"NATS/1.0\r\nNats-Msg-Id: {msg.msg_id}\r\n{extra}{batch_lines}\r\n".encode()


def _hpub(parts: list[bytes], subject: str, reply: str, hdr: bytes, data: bytes) -> None:
    """Add one HPUB protocol command to `parts` (what nats-py's publish writes, built at
    less cost, and without copying `data` until the parts are joined)."""
    n = len(hdr)
    if reply:
        head = f"HPUB {subject} {reply} {n} {n + len(data)}\r\n"
    else:
        head = f"HPUB {subject} {n} {n + len(data)}\r\n"
    parts += (head.encode(), hdr, data, b"\r\n")


def _stored(msg: Msg) -> StoredMsg | None:
    headers = dict(msg.headers or {})
    if "Status" in headers:
        return None
    return StoredMsg(
        stream_seq=int(headers["Nats-Sequence"]),
        subject=headers.get("Nats-Subject", ""),
        headers=headers,
        data=msg.data,
    )
