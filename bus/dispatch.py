"""Running one agent on one event, the same way on both buses.

A handler that raises must not vanish in a background task (AutoGen swallows
exceptions of published messages; a NATS worker would redeliver forever): the
failure is logged and recorded as `RunFailed`, caused by the event, so the run
ends visibly and whoever waits on it wakes up. A `StoreUnavailable` is the
store's failure, not the run's: it becomes a `BusError` for the bus to retry.
"""

from __future__ import annotations

import structlog

from agents.base import Agent
from bus.base import BusError
from bus.context import BusContext
from store.events import Envelope, Payload, RunFailed
from store.log import StoreUnavailable

log = structlog.get_logger("bus")

_REASON_CHARS = 500


def failure_reason(role: str, env: Envelope[Payload], exc: BaseException) -> str:
    """One line naming the role, the event and the error."""
    detail = (str(exc).strip().splitlines() or [""])[0]
    text = f"{role} failed on {env.type} (seq {env.seq}): {type(exc).__name__}: {detail}"
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


async def handle_event(agent: Agent, env: Envelope[Payload], ctx: BusContext) -> None:
    """Run `agent.handle`; on error record `RunFailed`. Raises `BusError` if even that fails."""
    try:
        await agent.handle(env, ctx)
    except StoreUnavailable as exc:
        # The store, not the agent, failed: the run is not at fault. Not acked, the event
        # is redelivered (NATS) or left for resume; the re-emits are deduplicated.
        raise BusError(f"{agent.role} could not finish {env.type} (seq {env.seq}): {exc}") from exc
    except Exception as exc:
        reason = failure_reason(agent.role, env, exc)
        log.error("handler_failed", run_id=env.run_id, role=agent.role, event_type=env.type,
                  seq=env.seq, reason=reason, exc_info=exc)
        try:
            await ctx.emit(RunFailed(stage=agent.role, reason=reason), cause=env,
                           key="handler-error")
        except Exception as emit_exc:
            raise BusError(f"{reason}; and RunFailed could not be recorded: {emit_exc}") from exc
