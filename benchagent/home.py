"""The home folder and the store it selects.

`--home DIR` (default `$BENCHAGENT_HOME`, else `./.benchagent`) holds `events.db`
(SQLite mode), `blobs/` (the media bytes those events name, by sha256) and
`runs/<run_id>/`. `--store nats://HOST:PORT` selects JetStream: the stream
`BENCH` for events and the Object Store bucket `bench-blobs` for media.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from benchagent.errors import UserError
from store.blobs import BlobStore
from store.log import EventLog

T = TypeVar("T")
BlobUse = Callable[[BlobStore], Awaitable[T]]


def add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", default=None, help="home folder (default $BENCHAGENT_HOME or ./.benchagent)")
    parser.add_argument("--store", default=None, help="nats://HOST:PORT to use JetStream instead of SQLite")


def home_dir(args: argparse.Namespace) -> Path:
    home = Path(args.home or os.environ.get("BENCHAGENT_HOME") or ".benchagent")
    try:
        home.mkdir(parents=True, exist_ok=True)
        # A probe of its own: two processes starting on one home unlinked each other's
        # shared ".write-probe", and one of them failed ("No such file or directory").
        with tempfile.TemporaryFile(dir=home, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise UserError(f"home folder {home} cannot be written: {exc.strerror}") from None
    return home


def run_dir(args: argparse.Namespace, run_id: str) -> Path:
    return home_dir(args) / "runs" / run_id


async def open_log(args: argparse.Namespace) -> EventLog:
    """Open the event log selected by `--store`/`--home`."""
    store = args.store or os.environ.get("BENCHAGENT_STORE")
    if store:
        if not store.startswith("nats://"):
            raise UserError(f"unsupported --store {store!r}: expected nats://HOST:PORT")
        from store.jetstream_log import JetStreamEventLog

        return await JetStreamEventLog.connect(store)
    from store.sqlite_log import SQLiteEventLog

    return SQLiteEventLog(home_dir(args) / "events.db")


def store_url(args: argparse.Namespace) -> str | None:
    """The NATS URL of `--store` (or `$BENCHAGENT_STORE`); None in embedded mode."""
    store = args.store or os.environ.get("BENCHAGENT_STORE")
    if store and not store.startswith("nats://"):
        raise UserError(f"unsupported --store {store!r}: expected nats://HOST:PORT")
    return store or None


async def open_blobs(args: argparse.Namespace) -> BlobStore:
    """The blob store of the selected store: `<home>/blobs`, or the JetStream bucket."""
    url = store_url(args)
    if url:
        from store.blobs import JetStreamBlobStore

        return await JetStreamBlobStore.connect(url)
    from store.blobs import FolderBlobStore

    return FolderBlobStore.beside(home_dir(args) / "events.db")


async def read_run(args: argparse.Namespace, run_id: str) -> list:
    """All events of `run_id` from the selected store, hash chain checked first:
    `UnknownRun` if it has none, `TamperedLog` (naming the first bad event) if broken."""
    from store.verify import read_verified

    log = await open_log(args)
    try:
        return await read_verified(log, run_id)
    finally:
        await log.close()


async def read_blobs_for(args: argparse.Namespace, use: BlobUse[T]) -> T:
    """`await use(blobs)` with the selected store's blob store open."""
    blobs = await open_blobs(args)
    try:
        return await use(blobs)
    finally:
        await blobs.close()
