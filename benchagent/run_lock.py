"""One writer per run: the lock `build` holds on a run while it drives it.

Two processes driving one run would both append `RunResumed`, re-deliver the same
events and race on the same model calls. So `build` (a new run or `--resume`)
first takes the run's lock and holds it until it exits:

- embedded mode: an exclusive `fcntl.flock` on `<home>/locks/<run_id>.lock`. The
  OS releases it when the process dies, even by kill -9, so a crashed build never
  leaves the run locked.
- NATS mode: a lease in the JetStream key-value bucket `bench-run-leases` (key =
  run id), created only if absent and renewed every `lease_s / 3` seconds; the
  bucket's TTL drops a lease its holder stopped renewing (a dead process) after
  `lease_s` seconds.

A run that is locked elsewhere is `RunLocked`: one line naming the holder.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from benchagent.errors import UserError

if TYPE_CHECKING:
    from nats.js.kv import KeyValue

log = structlog.get_logger("benchagent.run_lock")

LOCKS_DIR = "locks"
LEASE_BUCKET = "bench-run-leases"
LEASE_S = 15.0


class RunLocked(UserError):
    """Another process drives the run."""


def holder_label() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def _busy(run_id: str, holder: str, released: str) -> RunLocked:
    return RunLocked(f"run {run_id} is being built by {holder}: wait for it to finish or stop "
                     f"it ({released})")


@contextlib.asynccontextmanager
async def folder_lock(home: Path, run_id: str) -> AsyncIterator[None]:
    """Hold the run's lock file in `home` (embedded mode); `RunLocked` if another process
    holds it."""
    path = Path(home) / LOCKS_DIR / f"{run_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise _busy(run_id, holder, "its lock is released when it exits") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_label().encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def is_folder_locked(home: Path, run_id: str) -> bool:
    """Whether a live process holds the run's lock file (for `benchagent runs`)."""
    path = Path(home) / LOCKS_DIR / f"{run_id}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock this probe took
    return False


@contextlib.asynccontextmanager
async def nats_lease(url: str, run_id: str, lease_s: float = LEASE_S) -> AsyncIterator[None]:
    """Hold the run's lease in the JetStream key-value bucket (NATS mode); `RunLocked` if a
    live holder renews it."""
    import nats.errors
    import nats.js.errors

    from store.log import StoreUnavailable
    from store.nats_connect import connect_nats

    nc = await connect_nats(url, name=f"benchagent lease {run_id}")
    try:
        try:
            kv = await lease_bucket(nc, lease_s)
            key = _lease_key(run_id)
            me = holder_label().encode()
            try:
                revision = [await kv.create(key, me)]
            except nats.js.errors.KeyWrongLastSequenceError:
                holder = await lease_holder(kv, run_id) or "another process"
                raise _busy(run_id, holder,
                            f"a dead holder's lease expires within {lease_s:g} s") from None
        except (TimeoutError, nats.errors.Error) as exc:
            raise StoreUnavailable(f"cannot take run {run_id}'s lease at {url}: "
                                   f"{type(exc).__name__}: {exc}") from None
        renewing = asyncio.create_task(_renew(kv, key, me, revision, lease_s))
        try:
            yield
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            with contextlib.suppress(TimeoutError, nats.errors.Error):
                await kv.delete(key, last=revision[0])
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


async def lease_bucket(nc: object, lease_s: float = LEASE_S) -> KeyValue:
    """The leases' bucket (created on first use, its TTL the lease's length)."""
    from nats.js.api import KeyValueConfig
    from nats.js.errors import BucketNotFoundError

    js = nc.jetstream()  # type: ignore[attr-defined]
    try:
        return await js.key_value(LEASE_BUCKET)
    except BucketNotFoundError:
        return await js.create_key_value(KeyValueConfig(bucket=LEASE_BUCKET, history=1,
                                                        ttl=lease_s))


async def lease_holder(kv: KeyValue, run_id: str) -> str | None:
    """Who holds the run's lease now, or None."""
    import nats.js.errors

    try:
        entry = await kv.get(_lease_key(run_id))
    except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
        return None
    return (entry.value or b"").decode(errors="replace") or None


async def _renew(kv: KeyValue, key: str, me: bytes, revision: list[int], lease_s: float) -> None:
    import nats.errors

    while True:
        await asyncio.sleep(lease_s / 3)
        try:
            revision[0] = await kv.update(key, me, last=revision[0])
        except (TimeoutError, nats.errors.Error) as exc:  # the server may be restarting
            log.warning("lease_not_renewed", key=key, error=f"{type(exc).__name__}: {exc}")


def _lease_key(run_id: str) -> str:
    return f"run.{run_id}"
