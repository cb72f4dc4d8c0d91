"""Run the test pipeline in its own OS process, so a test can `kill -9` it mid-run.

    python pipeline_process.py inprocess --db FILE --run-id ID --size N --delay S
        an InProcessBus over the SQLite file: submits the run, then serves forever.
    python pipeline_process.py nats --url URL --role ROLE [--role ROLE] [--workers N]
        NatsBus workers for the given roles, served like `benchagent agent` until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from store.events import new_event
from tests.bus.bus_pipeline import pipeline_agents, request


async def inprocess(args: argparse.Namespace) -> None:
    from bus.inprocess import InProcessBus
    from store.sqlite_log import SQLiteEventLog

    bus = InProcessBus(SQLiteEventLog(args.db), pipeline_agents())
    await bus.start()
    await bus.submit(new_event(args.run_id, "user", request(args.size, work_delay_s=args.delay)))
    print("submitted", flush=True)
    await asyncio.Event().wait()  # until killed


async def nats(args: argparse.Namespace) -> None:
    from benchagent.commands.agent import serve
    from bus.nats_bus import NatsBus

    agents = [a for a in pipeline_agents() if a.role in args.role]
    bus = NatsBus(args.url, agents, None, roles=args.role, workers=args.workers,
                  ack_wait_s=args.ack_wait)
    await serve(bus)


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("inprocess")
    p.add_argument("--db", required=True)
    p.add_argument("--run-id", required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--delay", type=float, required=True)
    p = sub.add_parser("nats")
    p.add_argument("--url", required=True)
    p.add_argument("--role", action="append", required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--ack-wait", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(inprocess(args) if args.mode == "inprocess" else nats(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
