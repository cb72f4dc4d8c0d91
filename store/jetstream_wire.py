"""The few JetStream wire operations the event log needs, on a plain nats-py connection.

nats-py 2.16 has no helper for atomic batch publish (ADR-50, nats-server >= 2.12)
nor for batched direct get (nats-server >= 2.11), so both are spoken here with
headers on core NATS requests:

- `publish_atomic`: every message carries `Nats-Batch-Id` and `Nats-Batch-Sequence`;
  the first is a request (the server answers empty once the batch is open), the
  middle ones are pipelined without replies, the last adds `Nats-Batch-Commit: 1`
  and its reply is the one PubAck of the batch. The server stores all of them or
  none (a batch never committed is abandoned after its timeout).
- `scan`: `$JS.API.DIRECT.GET.<stream>` with `next_by_subj` and `batch` streams
  stored messages back to an inbox and ends with a `204 EOB` status; no consumer
  is created, so reads cost no JetStream API state.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import nats.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

# JetStream error codes we react to (nats-server errors.json).
ERR_WRONG_LAST_SEQUENCE = 10071
ERR_BATCH_TOO_LARGE = 10199

_SCAN_PAGE = 1000
_SCAN_PAGE_BYTES = 8 << 20  # keeps a page of media events inside nats-py's pending limits


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
    headers: dict[str, str]


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
        return "inflight" in self.description  # "... too many inflight" batches


@dataclass(frozen=True, slots=True)
class PubAck:
    stream_seq: int
    duplicate: bool = False


def _parse_ack(data: bytes) -> PubAck:
    resp = json.loads(data)
    if "error" in resp:
        err = resp["error"]
        raise PublishRejected(int(err.get("err_code", 0)), str(err.get("description", err)))
    return PubAck(stream_seq=int(resp["seq"]), duplicate=bool(resp.get("duplicate", False)))


class JetStreamWire:
    """Publishing and direct reads on one stream over one NATS connection."""

    def __init__(self, nc: NATS, stream: str, timeout: float = 5.0) -> None:
        self.nc, self.stream, self.timeout = nc, stream, timeout
        self._direct_get = f"$JS.API.DIRECT.GET.{stream}"
        self._batch_n = 0

    async def publish(self, msg: OutMsg) -> PubAck:
        reply = await self._request(msg.subject, msg.data, msg.headers)
        return _parse_ack(reply.data)

    async def publish_atomic(self, msgs: Sequence[OutMsg]) -> PubAck:
        """Store all of `msgs` or none; returns the ack of the last one."""
        if len(msgs) == 1:
            return await self.publish(msgs[0])
        self._batch_n += 1
        batch_id = f"{self.nc._nuid.next().decode()}{self._batch_n}"  # unique per client
        last = len(msgs)
        for i, msg in enumerate(msgs, start=1):
            headers = {**msg.headers, "Nats-Batch-Id": batch_id, "Nats-Batch-Sequence": str(i)}
            if i == last:
                headers["Nats-Batch-Commit"] = "1"
                reply = await self._request(msg.subject, msg.data, headers)
                return _parse_ack(reply.data)
            if i == 1:
                reply = await self._request(msg.subject, msg.data, headers)
                if reply.data:  # an empty reply means the batch is open
                    _parse_ack(reply.data)
            else:
                await self.nc.publish(msg.subject, msg.data, headers=headers)
        raise AssertionError("unreachable")

    async def _request(self, subject: str, data: bytes, headers: dict[str, str]) -> Msg:
        try:
            return await self.nc.request(subject, data, timeout=self.timeout, headers=headers)
        except nats.errors.NoRespondersError:
            raise PublishRejected(503, f"no stream answers on {subject}") from None

    async def last_msg(self, subject: str) -> StoredMsg | None:
        """The last stored message whose subject matches `subject` (wildcards allowed)."""
        req = json.dumps({"last_by_subj": subject}).encode()
        reply = await self.nc.request(self._direct_get, req, timeout=self.timeout)
        return _stored(reply)

    async def get(self, stream_seq: int) -> StoredMsg | None:
        req = json.dumps({"seq": stream_seq}).encode()
        reply = await self.nc.request(self._direct_get, req, timeout=self.timeout)
        return _stored(reply)

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
        page: list[Msg] = []
        end: asyncio.Future[Msg] | None = None

        async def collect(msg: Msg) -> None:
            if msg.headers and "Status" in msg.headers:  # 204 EOB closes a page, 404: none
                if end is not None and not end.done():
                    end.set_result(msg)
            else:
                page.append(msg)

        inbox = self.nc.new_inbox()
        sub = await self.nc.subscribe(inbox, cb=collect)
        try:
            seq = max(start_seq, 1)
            while True:
                page, end = [], asyncio.get_running_loop().create_future()
                req: dict[str, object] = {
                    "seq": seq, "next_by_subj": subject, "batch": _SCAN_PAGE,
                    "max_bytes": _SCAN_PAGE_BYTES,
                }  # fmt: skip
                if not with_headers:
                    req["no_hdr"] = True
                await self.nc.publish(self._direct_get, json.dumps(req).encode(), reply=inbox)
                status = await asyncio.wait_for(end, self.timeout)
                headers = status.headers or {}
                if headers.get("Status") != "204" or not page:
                    return  # 404: nothing (more) matches
                last_seq = int(headers.get("Nats-Last-Sequence", "0"))
                yield page, last_seq
                seq = last_seq + 1  # until a 404: a page may end early at max_bytes
        finally:
            await sub.unsubscribe()


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
