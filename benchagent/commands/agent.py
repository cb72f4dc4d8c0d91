"""`benchagent agent --role ROLE --nats URL [--workers N]`: one agent role as its own OS process.

The process binds to the role's durable JetStream consumer (bus/nats_bus.py),
re-delivers what unfinished runs still wait for (`resume`), and serves until
SIGTERM or SIGINT, then stops cleanly: no new fetches, handlers in flight
finish and ack. Run several processes of one role to share its work.

Which model a handler calls is the run's own choice (its `RunRequested`: `llm`,
`role_models`, `llm_key_env`): `agents.models.ModelRouter` reads it per run.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

import structlog

from benchagent.errors import UserError
from bus.base import Bus
from store.events import ROLES

log = structlog.get_logger("benchagent.agent")



def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agent", help="run one agent role as a worker process on NATS JetStream")
    p.add_argument("--role", required=True, choices=ROLES, help="the agent role to serve")
    p.add_argument("--nats", required=True, metavar="URL", help="nats://HOST:PORT with JetStream")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="events this process handles at once (default 1)")
    p.add_argument("--ack-wait", type=float, default=30.0, metavar="SECONDS",
                   help="redeliver an event if its worker is silent this long (default 30)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    if not args.nats.startswith("nats://"):
        raise UserError(f"--nats {args.nats!r}: expected nats://HOST:PORT")
    asyncio.run(_serve_role(args))
    return 0


async def _serve_role(args: argparse.Namespace) -> None:
    from agents.models import ModelRouter
    from bus.nats_bus import NatsBus

    router = ModelRouter()
    bus = NatsBus(args.nats, _make_agents([args.role]), router, roles=[args.role],
                  workers=args.workers, ack_wait_s=args.ack_wait)
    try:
        await serve(bus)
    finally:
        await router.close()


async def serve(bus: Bus) -> None:
    """Start `bus`, resume unfinished runs, serve until SIGTERM/SIGINT, stop cleanly."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await bus.start()
        try:
            resumed = await bus.resume()
            log.info("agent_serving", resumed=resumed)
            await stopping.wait()
            log.info("agent_stopping")
        finally:
            await bus.stop()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _make_agents(roles: list[str]) -> list[Any]:
    try:
        from agents.registry import make_agents
    except ModuleNotFoundError as exc:
        if exc.name != "agents.registry":
            raise
        raise UserError("the agents are not installed (agents/registry.py is missing)") from None
    return list(make_agents(roles))
