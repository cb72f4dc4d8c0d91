"""Running one agent on one event, the same way on both buses, and the two kinds of failure.

- The run is wrong (an infeasible allocation, an exhausted pool, a handler bug): the
  handler raises, the failure is logged and recorded as `RunFailed`, caused by the
  event, so the run ends visibly and whoever waits on it wakes up. Final.
- The world failed: a model server stayed unreachable or rate-limiting beyond the
  retry budget (`agents.base.ServiceUnavailable`). The run is recorded as
  `RunStopped` (caused by the event, which stays unreacted) and no handler takes a
  new event of it until `benchagent build --resume RUN_ID` appends `RunResumed`;
  resume then re-delivers every unreacted event and the recorded answers are reused.
- A `StoreUnavailable` is the store's failure: it becomes a `BusError` for the bus
  to retry (NATS redelivers) or to report (`build` stops with the `--resume` line).
"""

from __future__ import annotations

import structlog

from agents.base import Agent, ServiceUnavailable
from bus.base import BusError
from bus.context import BusContext
from store.events import Envelope, Payload, RunFailed, RunStopped
from store.log import StoreUnavailable

log = structlog.get_logger("bus")

_REASON_CHARS = 500


def failure_reason(role: str, env: Envelope[Payload], exc: BaseException) -> str:
    """One line naming the role, the event and the error."""
    detail = (str(exc).strip().splitlines() or [""])[0]
    text = f"{role} failed on {env.type} (seq {env.seq}): {type(exc).__name__}: {detail}"
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


async def handle_event(agent: Agent, env: Envelope[Payload], ctx: BusContext) -> None:
    """Run `agent.handle`, unless the run is stopped; on error record `RunFailed` (the run is
    wrong) or `RunStopped` (the world failed). Raises `BusError` if even that fails."""
    state = await ctx.state()
    if state.status.stopped is not None:
        # Not handled, so not reacted to: `--resume` delivers it again.
        log.info("skipped_stopped_run", run_id=env.run_id, role=agent.role, event_type=env.type,
                 seq=env.seq)
        return
    try:
        await agent.handle(env, ctx)
    except StoreUnavailable as exc:
        # The store, not the agent, failed: the run is not at fault. Not acked, the event
        # is redelivered (NATS) or left for resume; the re-emits are deduplicated.
        raise BusError(f"{agent.role} could not finish {env.type} (seq {env.seq}): {exc}") from exc
    except ServiceUnavailable as exc:
        reason = failure_reason(agent.role, env, exc)
        log.warning("run_stopped", run_id=env.run_id, role=agent.role, event_type=env.type,
                    seq=env.seq, reason=reason)
        # One stop per event per resume: a later outage after a resume is a new event.
        key = f"stopped-{(await ctx.state()).status.resumes}"
        try:
            await ctx.emit(RunStopped(stage=agent.role, cause=exc.cause, reason=reason),
                           cause=env, key=key)
        except Exception as emit_exc:
            raise BusError(f"{reason}; and RunStopped could not be recorded: {emit_exc}") \
                from exc
    except Exception as exc:
        reason = failure_reason(agent.role, env, exc)
        log.error("handler_failed", run_id=env.run_id, role=agent.role, event_type=env.type,
                  seq=env.seq, reason=reason, exc_info=exc)
        try:
            await ctx.emit(RunFailed(stage=agent.role, reason=reason), cause=env,
                           key="handler-error")
        except Exception as emit_exc:
            raise BusError(f"{reason}; and RunFailed could not be recorded: {emit_exc}") from exc
