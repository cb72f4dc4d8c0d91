"""Connecting to NATS without hanging: a bounded first connect, then reconnects.

The one connect routine of the project: the JetStream log (store/jetstream_log.py)
and the NATS bus (bus/nats_bus.py) both use it. nats-py retries the first connect
as many times as it would later reconnect, so the first connect is made with a few
attempts (a refused port fails in about a second) under an overall `timeout_s` (an
unanswering host), reported as `StoreUnavailable` in one line; once connected, the
client reconnects `reconnect_attempts` times (-1: forever, so a worker outlives a
NATS restart). Callbacks are `async def` (nats-py requires it) and log through
structlog, so a reconnect prints no traceback.
"""

from __future__ import annotations

import asyncio

import nats
import structlog
from nats.aio.client import Client as NATS

from store.log import StoreUnavailable

log = structlog.get_logger("store.nats")

_FIRST_CONNECT_ATTEMPTS = 3


async def connect_nats(url: str, *, timeout_s: float = 5.0, name: str = "benchagent",
                       reconnect_attempts: int = -1) -> NATS:
    """A connected client, or `StoreUnavailable` within about `timeout_s` seconds."""
    connected = False

    async def on_error(exc: Exception) -> None:
        # Before the first connect succeeds, the final StoreUnavailable says it all.
        (log.warning if connected else log.debug)(
            "nats_error", url=url, error=f"{type(exc).__name__}: {exc}"
        )

    async def on_disconnected() -> None:
        log.info("nats_disconnected", url=url)

    async def on_reconnected() -> None:
        log.info("nats_reconnected", url=url)

    try:
        nc = await asyncio.wait_for(
            nats.connect(
                url,
                name=name,
                connect_timeout=min(2.0, timeout_s),
                reconnect_time_wait=0.5,
                max_reconnect_attempts=_FIRST_CONNECT_ATTEMPTS,
                error_cb=on_error,
                disconnected_cb=on_disconnected,
                reconnected_cb=on_reconnected,
            ),
            timeout_s,
        )
    except TimeoutError:
        raise StoreUnavailable(f"cannot reach NATS at {url} within {timeout_s:g} s") from None
    except (OSError, ValueError, nats.errors.Error) as exc:
        reason = str(exc) or type(exc).__name__
        raise StoreUnavailable(f"cannot reach NATS at {url}: {reason}") from None
    connected = True
    nc.options["max_reconnect_attempts"] = reconnect_attempts  # from now on
    return nc
