"""The in-process bus: agents as AutoGen actors on a `SingleThreadedAgentRuntime`.

Each `Agent` is wrapped in a `RoleActor` (a RoutedAgent) registered under its
role, with one `TypeSubscription` per event class it has an `@on` handler for
(`bus.wiring.RoleTable`); AutoGen topic = (EventType, run_id), so one actor
instance serves one run of one role and the same `Agent` object serves them all. Emitting appends to the log, then
publishes (see bus/base.py for the full contract).

AutoGen runs every published message in its own task, so several events are
handled at once; the bus counts deliveries in flight so that `idle()` and
`stop()` know when handlers are done. Handler errors are caught in
`bus.dispatch.handle_event` (recorded as `RunFailed`), never left to the
runtime, which would swallow them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence

import structlog
from autogen_core import (
    AgentId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TypeSubscription,
    message_handler,
)

from agents.base import Agent
from agents.models import ModelRouter
from bus.base import TERMINAL, BusError, wait_for_event
from bus.dispatch import handle_event
from bus.messages import EventMessage, topic_of, topic_type
from bus.wiring import ContextCache, RoleTable, pending_deliveries
from store.blobs import BlobStore
from store.events import Envelope, Payload, RunResumed
from store.log import EventLog

log = structlog.get_logger("bus")
# Idle seconds before a run counts as stalled: idleness is exact in one process (a delivery
# counts from its publish to its handler's end), so this is only a margin.
STALL_AFTER_S = 5.0


class RoleActor(RoutedAgent):
    """AutoGen face of one agent role for one run; the work happens in the bus."""

    def __init__(self, bus: InProcessBus, role: str) -> None:
        super().__init__(f"benchagent {role} agent")
        self._bus = bus
        self._role = role

    @message_handler
    async def on_event(self, message: EventMessage, ctx: MessageContext) -> None:
        # @message_handler: published events and resume's direct sends both arrive here.
        await self._bus._handle(self._role, message.envelope())


class InProcessBus:
    """`Bus` for one process: `InProcessBus(log, agents, router)`."""

    def __init__(
        self,
        log: EventLog,
        agents: Sequence[Agent],
        router: ModelRouter | None = None,
        *,
        blobs: BlobStore | None = None,
        stop_grace_s: float = 30.0,
        stall_after_s: float = STALL_AFTER_S,
    ) -> None:
        self.log = log
        self._stall_after_s = stall_after_s
        self._table = RoleTable(agents)
        self._contexts = ContextCache(log, self._deliver, router, roles=len(self._table.roles),
                                      skip_known=True, blobs=blobs)
        self._runtime: SingleThreadedAgentRuntime | None = None
        self._stop_grace_s = stop_grace_s
        self._in_flight = 0  # deliveries queued or running
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._handler_tasks: set[asyncio.Task[object]] = set()
        self._resume_tasks: set[asyncio.Task[object]] = set()
        self._failures: dict[str, BusError] = {}  # run_id -> why the bus could not go on
        self._failed: dict[str, asyncio.Event] = {}

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        if self._runtime is not None:
            raise RuntimeError("bus already started")
        runtime = SingleThreadedAgentRuntime()
        for role in self._table.roles:
            await runtime.register_factory(role, self._actor_factory(role))
            for event_type in self._table.handled(role):
                await runtime.add_subscription(
                    TypeSubscription(topic_type=topic_type(event_type), agent_type=role))
        runtime.start()
        self._runtime = runtime

    def _actor_factory(self, role: str) -> Callable[[], RoleActor]:
        return lambda: RoleActor(self, role)

    async def busy(self) -> bool:
        return self._in_flight > 0

    @property
    def stall_after_s(self) -> float:
        return self._stall_after_s

    async def idle(self) -> None:
        """Return once no delivery is queued or being handled."""
        await self._idle.wait()

    async def stop(self) -> None:
        """Stop taking events; handlers in flight get `stop_grace_s` to finish, then are cancelled."""
        if self._runtime is None:
            return
        self._closing = True  # queued deliveries now return at once; the log keeps them
        try:
            await asyncio.wait_for(self._idle.wait(), self._stop_grace_s)
        except TimeoutError:
            log.warning("stop_cancelling_handlers", running=len(self._handler_tasks))
            for task in list(self._handler_tasks):
                task.cancel()
            await asyncio.gather(*self._handler_tasks, return_exceptions=True)
        await self._runtime.stop()
        self._runtime = None

    # -- the Bus contract ----------------------------------------------------

    async def submit(self, envelope: Envelope[Payload]) -> Envelope[Payload]:
        history = self._contexts.histories.get(envelope.run_id)
        await history.refresh()
        known = history.get(envelope.event_id)
        if known is not None:
            return known
        (stored,) = await self.log.append([envelope])
        await self._deliver([stored])
        return stored

    async def wait_for(
        self,
        run_id: str,
        types: Iterable[type[Payload]] = TERMINAL,
        timeout: float | None = None,
        *,
        after_seq: int = 0,
    ) -> Envelope[Payload]:
        waiting = asyncio.ensure_future(wait_for_event(self.log, run_id, types, timeout,
                                                       after_seq))
        failed = asyncio.ensure_future(self._failed_event(run_id).wait())
        try:
            await asyncio.wait({waiting, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            failed.cancel()
        if waiting.done():
            return waiting.result()
        waiting.cancel()
        raise self._failures[run_id]

    async def resume(self, run_id: str | None = None) -> int:
        runtime = self._require_runtime()
        deliveries = await pending_deliveries(self.log, self._contexts.histories, self._table,
                                              run_id)
        for role, env in deliveries:
            self._begin(1)
            task = asyncio.ensure_future(
                runtime.send_message(EventMessage.of(env), AgentId(role, env.run_id))
            )
            self._resume_tasks.add(task)
            task.add_done_callback(self._resume_tasks.discard)
        return len(deliveries)

    # -- delivery ------------------------------------------------------------

    async def _deliver(self, envs: Sequence[Envelope[Payload]]) -> None:
        runtime = self._require_runtime()
        for env in envs:
            if isinstance(env.payload, RunResumed):
                await self.resume(env.run_id)  # the run is taken up again: what waits, goes
                continue
            recipients = len(self._table.recipients(env))
            if recipients:
                self._begin(recipients)
                await runtime.publish_message(EventMessage.of(env), topic_of(env))

    async def _handle(self, role: str, env: Envelope[Payload]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handler_tasks.add(task)
        try:
            if self._closing:
                return  # left in the log: resume delivers it again
            await handle_event(self._table.agents[role], env, self._contexts.get(env.run_id, role))
        except Exception as exc:  # never let AutoGen swallow it: wait_for raises it
            failure = exc if isinstance(exc, BusError) else BusError(f"{role}: {exc!r}")
            log.error("bus_failure", run_id=env.run_id, role=role, error=str(failure))
            self._failures[env.run_id] = failure
            self._failed_event(env.run_id).set()
        finally:
            if task is not None:
                self._handler_tasks.discard(task)
            self._end()

    def _failed_event(self, run_id: str) -> asyncio.Event:
        return self._failed.setdefault(run_id, asyncio.Event())

    def _begin(self, n: int) -> None:
        self._in_flight += n
        self._idle.clear()

    def _end(self) -> None:
        self._in_flight -= 1
        if self._in_flight <= 0:
            self._in_flight = 0
            self._idle.set()

    def _require_runtime(self) -> SingleThreadedAgentRuntime:
        if self._runtime is None:
            raise RuntimeError("bus not started: call start() first")
        return self._runtime
