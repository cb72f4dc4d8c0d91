"""Content-addressed blob storage beside the event log: media bytes by sha256.

Events are small facts; a 20 MB image or a 10-minute WAV is not, and a NATS
message above the server's `max_payload` (1 MB by default) is refused. A blob
store keeps such bytes under their sha256 so an event can carry `sha256` and
`size` only. Two backends, one contract (`tests/store/test_blob_conformance.py`):

- `FolderBlobStore`: `<home>/blobs/<aa>/<sha256>` next to `events.db`; each
  blob is written to a temp file in its folder, fsynced, then renamed into
  place, so a crash never leaves half a blob under a valid name.
- `JetStreamBlobStore`: a JetStream Object Store bucket (`bench-blobs`); nats-py
  splits an object into 128 KB chunks, so any size goes through a stock
  `nats-server -js` with no config file.

Contract:
- `put(data)` → `BlobRef(sha256, size)`; idempotent (storing the same bytes
  twice stores them once).
- `get(sha256)` → the bytes, checked against the hash: `BlobMissing` if absent,
  `BlobAltered` if the stored bytes no longer hash to their name.
- `has(sha256)` → whether a blob of that name is stored (not checked).
- `verify(sha256, size=None)` → None, or a `BlobProblem` naming a missing or
  altered blob (what `benchagent verify` reports for each referenced blob).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

import msgspec
import structlog

from store.log import LogError, StoreUnavailable

if TYPE_CHECKING:
    from nats.aio.client import Client as NATS
    from nats.js.object_store import ObjectStore

log = structlog.get_logger(__name__)

BLOBS_DIR = "blobs"
BLOB_BUCKET = "bench-blobs"
CONNECT_TIMEOUT_S = 5.0
CHUNK_READ_TIMEOUT_S = 10.0
FETCH_BATCH = 64  # chunks of 128 KB per pull: 8 MB
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobRef(msgspec.Struct, frozen=True, kw_only=True):
    """What an event carries instead of the bytes."""

    sha256: str
    size: int


class BlobProblem(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["missing", "altered"]
    sha256: str
    detail: str

    def __str__(self) -> str:
        return f"blob {self.sha256} {self.kind}: {self.detail}"


class BlobError(LogError):
    """A blob cannot be served; the message is one clear line."""


class BlobMissing(BlobError):
    def __init__(self, sha256: str, where: str) -> None:
        super().__init__(f"blob {sha256} is missing from {where}")
        self.sha256 = sha256


class BlobAltered(BlobError):
    def __init__(self, sha256: str, where: str, actual: str, size: int) -> None:
        super().__init__(f"blob {sha256} in {where} was altered: its {size} bytes hash to "
                         f"{actual}")
        self.sha256, self.actual = sha256, actual


def blob_ref(data: bytes) -> BlobRef:
    return BlobRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def check_sha256(sha256: str) -> str:
    """A blob name is 64 lowercase hex digits (never a path); `ValueError` otherwise."""
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise ValueError(f"not a sha256 blob name: {sha256!r:.80}")
    return sha256


@runtime_checkable
class BlobStore(Protocol):
    async def put(self, data: bytes) -> BlobRef: ...

    async def get(self, sha256: str) -> bytes: ...

    async def has(self, sha256: str) -> bool: ...

    async def verify(self, sha256: str, size: int | None = None) -> BlobProblem | None: ...

    async def close(self) -> None: ...


async def verify_blob(store: BlobStore, sha256: str, size: int | None) -> BlobProblem | None:
    """The shared `verify`: fetch, hash, compare (size too, when the referrer knows it)."""
    check_sha256(sha256)
    try:
        data = await store.get(sha256)
    except BlobMissing:
        return BlobProblem(kind="missing", sha256=sha256, detail="not in the blob store")
    except BlobAltered as exc:
        return BlobProblem(kind="altered", sha256=sha256,
                           detail=f"stored bytes hash to {exc.actual}")
    if size is not None and len(data) != size:
        return BlobProblem(kind="altered", sha256=sha256,
                           detail=f"{len(data)} bytes stored, {size} referenced")
    return None


# ------------------------------------------------------------------ folder


class FolderBlobStore:
    """Blobs as files under `root` (`<home>/blobs`), two hex digits per subfolder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @classmethod
    def beside(cls, events_db: Path | str) -> FolderBlobStore:
        """The blob folder of the SQLite log at `events_db`."""
        return cls(Path(events_db).parent / BLOBS_DIR)

    def path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256

    async def put(self, data: bytes) -> BlobRef:
        ref = blob_ref(data)
        await asyncio.to_thread(self._write, ref, data)
        return ref

    def _write(self, ref: BlobRef, data: bytes) -> None:
        target = self.path(ref.sha256)
        if self._holds(target, ref):
            return  # already stored
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{ref.sha256[:8]}.",
                                       suffix=".tmp")
        except OSError as exc:
            raise StoreUnavailable(f"blob folder {self.root} cannot be written: "
                                   f"{exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    @staticmethod
    def _holds(target: Path, ref: BlobRef) -> bool:
        """The blob is there with the right bytes (an altered one is rewritten by `put`)."""
        try:
            if target.stat().st_size != ref.size:
                return False
            return hashlib.sha256(target.read_bytes()).hexdigest() == ref.sha256
        except OSError:
            return False

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._read, sha256)

    def _read(self, sha256: str) -> bytes:
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobMissing(sha256, str(self.root)) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise BlobAltered(sha256, str(self.root), actual, len(data))
        return data

    async def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    async def verify(self, sha256: str, size: int | None = None) -> BlobProblem | None:
        return await verify_blob(self, sha256, size)

    async def close(self) -> None:
        return None


# --------------------------------------------------------------- JetStream


class JetStreamBlobStore:
    """Blobs as objects (named by sha256) in a JetStream Object Store bucket."""

    def __init__(self, nc: NATS, store: ObjectStore, bucket: str, *,
                 owns_connection: bool = False) -> None:
        self._nc = nc
        self._store = store
        self.bucket = bucket
        self._owns = owns_connection

    @classmethod
    async def connect(cls, url: str, bucket: str = BLOB_BUCKET, *,
                      timeout: float = CONNECT_TIMEOUT_S) -> JetStreamBlobStore:
        """Connect and open (or create) the bucket; `StoreUnavailable` within `timeout`."""
        import nats

        async def on_error(exc: Exception) -> None:
            log.debug("nats connection error", url=url, error=repr(exc))

        try:
            nc = await asyncio.wait_for(
                nats.connect(url, name="benchagent-blobs", connect_timeout=min(1.5, timeout / 3),
                             max_reconnect_attempts=1, reconnect_time_wait=0.5,
                             error_cb=on_error),
                timeout)
        except (TimeoutError, nats.errors.Error, OSError, ValueError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            raise StoreUnavailable(f"cannot reach NATS at {url}: {reason}") from None
        try:
            return await cls.attach(nc, bucket, owns_connection=True)
        except BaseException:
            await nc.close()
            raise

    @classmethod
    async def attach(cls, nc: NATS, bucket: str = BLOB_BUCKET, *,
                     owns_connection: bool = False) -> JetStreamBlobStore:
        """Use an existing connection; the bucket is created on first use."""
        from nats.js.errors import BucketNotFoundError

        js = nc.jetstream()
        try:
            store = await js.object_store(bucket)
        except BucketNotFoundError:
            store = await js.create_object_store(bucket, description="benchagent media blobs")
        return cls(nc, store, bucket, owns_connection=owns_connection)

    async def put(self, data: bytes) -> BlobRef:
        from nats.js.errors import ObjectNotFoundError

        ref = blob_ref(data)
        with self._unavailable_as_store_error("store"):
            try:
                info = await self._store.get_info(ref.sha256)
            except ObjectNotFoundError:
                info = None
            if info is not None and info.size == ref.size \
                    and info.digest == _nats_digest(ref.sha256):
                return ref  # already stored
            await self._store.put(ref.sha256, data)
        return ref

    async def get(self, sha256: str) -> bytes:
        from nats.js.errors import ObjectNotFoundError

        check_sha256(sha256)
        where = f"bucket {self.bucket}"
        with self._unavailable_as_store_error("read"):
            try:
                info = await self._store.get_info(sha256)
            except ObjectNotFoundError:
                raise BlobMissing(sha256, where) from None
            data = await self._read_chunks(info.nuid, info.chunks or 0) if info.size else b""
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:  # replaced by other bytes, or chunks lost or altered
            raise BlobAltered(sha256, where, actual, len(data))
        return data

    async def _read_chunks(self, nuid: str, chunks: int) -> bytes:
        """The object's chunks through a pull consumer, in batches.

        nats-py's `ObjectStore.get` reads them one push message at a time, ~6x slower
        on a 20 MB blob (perf/blob_bench.py); the layout (stream `OBJ_<bucket>`, chunks
        on `$O.<bucket>.C.<nuid>`) is the Object Store's documented wire format.
        """
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.object_store import OBJ_CHUNKS_PRE_TEMPLATE, OBJ_STREAM_TEMPLATE

        sub = await self._nc.jetstream().pull_subscribe(
            OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=self.bucket, obj=nuid),
            stream=OBJ_STREAM_TEMPLATE.format(bucket=self.bucket),
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL,
                                  inactive_threshold=CHUNK_READ_TIMEOUT_S))
        parts: list[bytes] = []
        try:
            while len(parts) < chunks:
                try:
                    msgs = await sub.fetch(batch=min(FETCH_BATCH, chunks - len(parts)),
                                           timeout=CHUNK_READ_TIMEOUT_S)
                except TimeoutError:
                    break  # fewer chunks stored than the object's info says: hashed below
                parts += [m.data for m in msgs]
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        return b"".join(parts)

    async def has(self, sha256: str) -> bool:
        from nats.js.errors import ObjectNotFoundError

        check_sha256(sha256)
        with self._unavailable_as_store_error("look up"):
            try:
                await self._store.get_info(sha256)
            except ObjectNotFoundError:
                return False
        return True

    @contextlib.contextmanager
    def _unavailable_as_store_error(self, doing: str) -> Iterator[None]:
        """A server that does not answer (restarting, unreachable) is `StoreUnavailable`:
        the caller retries later; a blob that is missing or altered is not this."""
        import nats.errors

        try:
            yield
        except BlobError:
            raise
        except (TimeoutError, nats.errors.Error) as exc:
            raise StoreUnavailable(f"cannot {doing} blobs in bucket {self.bucket}: "
                                   f"{type(exc).__name__}: {exc}") from None

    async def verify(self, sha256: str, size: int | None = None) -> BlobProblem | None:
        return await verify_blob(self, sha256, size)

    async def close(self) -> None:
        if self._owns:
            await self._nc.close()


def _nats_digest(sha256: str) -> str:
    """The Object Store's own digest of bytes whose sha256 is `sha256` (base64url)."""
    import base64

    return "SHA-256=" + base64.urlsafe_b64encode(bytes.fromhex(sha256)).decode()
