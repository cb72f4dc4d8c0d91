"""Events per second through the buses: in-process (AutoGen over SQLite) and NATS JetStream.

A run of N samples flows through three trivial agents, so what is measured is
the bus itself (append, deliver, context, history top-up), not agent logic:

    RunRequested -> fan: N SlotAssigned (batches of 100)
                 -> relay: SampleRealized per slot -> accept: SampleAccepted per sample

That is 1 + 3N events; the clock runs from submit to the N-th SampleAccepted.

    PYTHONPATH=. .venv/bin/python perf/bus_throughput.py [--samples 3000] [--nats-samples 1000] [--workers 16]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from agents.base import Agent, on
from bus.context import BusContext
from bus.inprocess import InProcessBus
from bus.nats_bus import NatsBus
from store.events import (
    BenchmarkItem,
    Envelope,
    GeneratedBy,
    RunRequested,
    SampleAccepted,
    SampleRealized,
    SlotAssigned,
    new_event,
)
from store.sqlite_log import SQLiteEventLog
from tests.nats_server import NatsServer

BATCH = 100


class Fan(Agent):
    role = "allocation"

    @on(RunRequested)
    async def fan_out(self, event: Envelope[RunRequested], ctx: BusContext) -> None:
        n = event.payload.size
        for start in range(0, n, BATCH):
            await ctx.emit_many(
                [(SlotAssigned(sample_id=f"s{i}", slot=i, subtask="t", dataset_id="d",
                               plan_id="p", source_item_id=str(i)), str(i))
                 for i in range(start, min(n, start + BATCH))],
                cause=event,
            )


class Relay(Agent):
    role = "orchestrator"

    @on(SlotAssigned)
    async def relay(self, event: Envelope[SlotAssigned], ctx: BusContext) -> None:
        sid = event.payload.sample_id
        item = BenchmarkItem(id=sid, subtask="t", input="q", target="a")
        source = GeneratedBy(name="x", version="1", seed=0)
        await ctx.emit(SampleRealized(sample_id=sid, item=item, source=source),
                       cause=event, key=sid)


class Accept(Agent):
    role = "verifier"

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.done = asyncio.Event()

    @on(SampleRealized)
    async def accept(self, event: Envelope[SampleRealized], ctx: BusContext) -> None:
        await ctx.emit(SampleAccepted(sample_id=event.payload.sample_id, subtask="t"),
                       cause=event, key=event.payload.sample_id)
        self.count += 1
        if self.count >= self.expected:
            self.done.set()


async def measure(bus_for: object, samples: int, label: str) -> None:
    accept = Accept(samples)
    bus = bus_for([Fan(), Relay(), accept])  # type: ignore[operator]
    await bus.start()
    try:
        request = RunRequested(requirement="throughput", size=samples, seed=1)
        started = time.perf_counter()
        await bus.submit(new_event(f"perf-{samples}", "user", request))
        await asyncio.wait_for(accept.done.wait(), 600)
        elapsed = time.perf_counter() - started
    finally:
        await bus.stop()
    events = 1 + 3 * samples
    print(f"{label:<28} {samples:>6} samples  {events:>6} events  {elapsed:7.2f} s  "
          f"{events / elapsed:9,.0f} events/s  {elapsed / events * 1e6:7.0f} us/event")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--nats-samples", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.samples:
            log = SQLiteEventLog(Path(tmp) / "events.db")
            try:
                await measure(lambda agents: InProcessBus(log, agents), args.samples,
                              "in-process (SQLite)")
            finally:
                await log.close()
        if args.nats_samples:
            with NatsServer(Path(tmp) / "nats") as server:
                await measure(
                    lambda agents: NatsBus(server.url, agents, workers=args.workers),
                    args.nats_samples, f"NATS JetStream ({args.workers} w)",
                )


if __name__ == "__main__":
    asyncio.run(main())
