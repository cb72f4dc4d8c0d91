"""One conformance suite for every `BlobStore` backend: a folder beside the SQLite log, and a
JetStream Object Store bucket on a real, stock `nats-server -js` (no config file: 1 MB
max_payload), which must still take a 20 MB blob and a 10-minute WAV."""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import struct
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import nats
import pytest

from store.blobs import (
    BLOB_BUCKET,
    BlobAltered,
    BlobMissing,
    BlobRef,
    BlobStore,
    FolderBlobStore,
    JetStreamBlobStore,
)
from store.log import LogError, StoreUnavailable
from tests.nats_server import NatsServer

OpenStore = Callable[[], Awaitable[BlobStore]]
STOCK_MAX_PAYLOAD = 1024 * 1024


@pytest.fixture
def stock_nats(tmp_path: Path) -> Iterator[NatsServer]:
    with NatsServer(tmp_path / "nats", config=None) as server:  # no config file at all
        yield server


@pytest.fixture(params=["folder", "jetstream"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def open_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                     ) -> AsyncIterator[OpenStore]:
    """Opens a NEW handle on one store each call (another process's view)."""
    opened: list[BlobStore] = []
    if backend == "jetstream":
        server: NatsServer = request.getfixturevalue("stock_nats")

    async def open_one() -> BlobStore:
        if backend == "folder":
            store: BlobStore = FolderBlobStore.beside(tmp_path / "events.db")
        else:
            store = await JetStreamBlobStore.connect(server.url)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> BlobStore:
    return await open_store()


async def stored_copies(store: BlobStore, tmp_path: Path, server: NatsServer | None) -> int:
    """How many blob objects the backend really holds (read beneath the API)."""
    if isinstance(store, FolderBlobStore):
        return sum(1 for p in (tmp_path / "blobs").rglob("*") if p.is_file())
    assert server is not None
    nc = await nats.connect(server.url)
    try:
        raw = await nc.jetstream().object_store(BLOB_BUCKET)
        return len(await raw.list(ignore_deletes=True))
    finally:
        await nc.close()


async def overwrite_stored(store: BlobStore, sha256: str, data: bytes,
                           server: NatsServer | None) -> None:
    """Replace the bytes stored under `sha256` behind the store's back (tampering)."""
    if isinstance(store, FolderBlobStore):
        store.path(sha256).write_bytes(data)
        return
    assert server is not None
    nc = await nats.connect(server.url)
    try:
        raw = await nc.jetstream().object_store(BLOB_BUCKET)
        await raw.put(sha256, data)
    finally:
        await nc.close()


async def remove_stored(store: BlobStore, sha256: str, server: NatsServer | None) -> None:
    if isinstance(store, FolderBlobStore):
        store.path(sha256).unlink()
        return
    assert server is not None
    nc = await nats.connect(server.url)
    try:
        raw = await nc.jetstream().object_store(BLOB_BUCKET)
        await raw.delete(sha256)
    finally:
        await nc.close()


def server_of(backend: str, request: pytest.FixtureRequest) -> NatsServer | None:
    return request.getfixturevalue("stock_nats") if backend == "jetstream" else None


def ten_minute_wav(rate: int = 16_000) -> bytes:
    """A real 16-bit mono WAV of 10 minutes (a 440 Hz tone), ~19 MB."""
    buffer = io.BytesIO()
    second = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(rate))
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(second * 600)
    return buffer.getvalue()


# ------------------------------------------------------------------- the contract


async def test_put_names_bytes_by_sha256_and_get_returns_them(open_store: OpenStore) -> None:
    writer, reader = await open_store(), await open_store()
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    ref = await writer.put(data)
    assert ref == BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    assert await reader.has(ref.sha256)
    assert await reader.get(ref.sha256) == data
    assert await reader.verify(ref.sha256, ref.size) is None
    empty = await writer.put(b"")
    assert empty.size == 0 and await reader.get(empty.sha256) == b""


async def test_put_is_idempotent(store: BlobStore, backend: str, tmp_path: Path,
                                 request: pytest.FixtureRequest) -> None:
    server = server_of(backend, request)
    first = await store.put(b"same bytes")
    second = await store.put(b"same bytes")
    await asyncio.gather(*(store.put(b"raced") for _ in range(4)))
    assert first == second
    assert await stored_copies(store, tmp_path, server) == 2
    if isinstance(store, FolderBlobStore):  # no temp file is left beside the blobs
        assert not [p for p in (tmp_path / "blobs").rglob(".*")]


async def test_a_missing_blob_is_named(store: BlobStore, backend: str,
                                       request: pytest.FixtureRequest) -> None:
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not await store.has(absent)
    with pytest.raises(BlobMissing, match=absent) as missing:
        await store.get(absent)
    assert isinstance(missing.value, LogError) and "\n" not in str(missing.value)
    problem = await store.verify(absent)
    assert problem is not None and problem.kind == "missing" and problem.sha256 == absent
    # Stored, then lost behind the store's back.
    ref = await store.put(b"to be lost")
    await remove_stored(store, ref.sha256, server_of(backend, request))
    problem = await store.verify(ref.sha256, ref.size)
    assert problem is not None and problem.kind == "missing" and ref.sha256 in str(problem)


async def test_an_altered_blob_is_named(store: BlobStore, backend: str,
                                        request: pytest.FixtureRequest) -> None:
    ref = await store.put(b"the original media bytes")
    await overwrite_stored(store, ref.sha256, b"the altered media bytes!",
                           server_of(backend, request))
    with pytest.raises(BlobAltered, match=ref.sha256):
        await store.get(ref.sha256)
    problem = await store.verify(ref.sha256, ref.size)
    assert problem is not None and problem.kind == "altered"
    assert problem.sha256 == ref.sha256
    assert hashlib.sha256(b"the altered media bytes!").hexdigest() in problem.detail
    # Putting the right bytes again repairs it.
    await store.put(b"the original media bytes")
    assert await store.verify(ref.sha256, ref.size) is None


async def test_a_size_the_referrer_disagrees_with_is_altered(store: BlobStore) -> None:
    ref = await store.put(b"12345")
    problem = await store.verify(ref.sha256, size=6)
    assert problem is not None and problem.kind == "altered" and "6 referenced" in problem.detail


@pytest.mark.parametrize("name", ["../../../etc/passwd", "ABC", "0" * 63, "g" * 64, ""])
async def test_a_blob_name_is_a_sha256_never_a_path(store: BlobStore, name: str) -> None:
    for call in (store.get, store.has, store.verify):
        with pytest.raises(ValueError, match="not a sha256"):
            await call(name)


async def test_20_mb_and_a_10_minute_wav_go_through_a_stock_server(
        open_store: OpenStore, backend: str, request: pytest.FixtureRequest) -> None:
    server = server_of(backend, request)
    if server is not None:  # the server really is stock: 1 MB per message
        nc = await nats.connect(server.url)
        assert nc.max_payload == STOCK_MAX_PAYLOAD
        await nc.close()
    writer, reader = await open_store(), await open_store()
    image = hashlib.sha256(b"seed").digest() * (20 * 1024 * 1024 // 32)
    wav = ten_minute_wav()
    assert len(image) == 20 * 1024 * 1024 and len(wav) > 19_000_000
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getnframes() / w.getframerate() == 600
    for data in (image, wav):
        ref = await writer.put(data)
        assert await reader.get(ref.sha256) == data
        assert await reader.verify(ref.sha256, ref.size) is None


async def test_an_unreachable_server_is_one_line() -> None:
    from tests.nats_server import free_port

    with pytest.raises(StoreUnavailable, match="cannot reach NATS") as err:
        await JetStreamBlobStore.connect(f"nats://127.0.0.1:{free_port()}", timeout=2)
    assert "\n" not in str(err.value)


async def test_an_unwritable_folder_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "blobs"
    blocker.write_text("a file where the folder should be")
    store = FolderBlobStore(blocker)
    with pytest.raises(StoreUnavailable, match="cannot be written"):
        await store.put(b"x")


async def test_a_write_that_fails_leaves_no_blob_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FolderBlobStore(tmp_path / "blobs")
    data = b"interrupted" * 1000

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("store.blobs.os.replace", crash)
    with pytest.raises(OSError, match="No space"):
        await store.put(data)
    monkeypatch.undo()
    sha = hashlib.sha256(data).hexdigest()
    assert not await store.has(sha)
    assert [p for p in (tmp_path / "blobs").rglob("*") if p.is_file()] == []
