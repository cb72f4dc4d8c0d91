"""A child process that appends one big batch and gets killed (-9) in the middle of it.

    python crash_writer.py sqlite PATH N PAD     # killed while the transaction spills to the WAL
    python crash_writer.py jetstream URL N       # killed after N-1 batch messages, before commit

It prints `APPENDING` when the append starts; in jetstream mode it prints
`COMMITTING` and stalls when the commit message is about to leave, so the
parent can kill it at that exact point.
"""

from __future__ import annotations

import asyncio
import sys
import time

from store.jetstream_log import JetStreamEventLog
from store.jetstream_wire import JetStreamWire
from store.sqlite_log import SQLiteEventLog
from tests.store.event_factory import make_events

RUN = "run-crash"


async def sqlite_mode(path: str, n: int, pad: int) -> None:
    log = SQLiteEventLog(path)
    events = make_events(RUN, n, pad=pad)
    print("APPENDING", flush=True)
    await log.append(events, expected_seq=0)
    print("DONE", flush=True)


async def jetstream_mode(url: str, n: int) -> None:
    log = await JetStreamEventLog.connect(url)

    async def stall_before_commit(self, cmd, reply, timeout):  # type: ignore[no-untyped-def]
        await self.nc.flush()  # every message before the commit reached the server
        print("COMMITTING", flush=True)
        time.sleep(3600)  # blocks the loop: the process dies here

    JetStreamWire._commit = stall_before_commit  # type: ignore[method-assign]
    print("APPENDING", flush=True)
    await log.append(make_events(RUN, n), expected_seq=0)
    print("DONE", flush=True)


if __name__ == "__main__":
    mode, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "sqlite":
        asyncio.run(sqlite_mode(target, count, int(sys.argv[4])))
    else:
        asyncio.run(jetstream_mode(target, count))
