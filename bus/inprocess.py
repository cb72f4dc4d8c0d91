"""The in-process bus: agents as AutoGen actors on a `SingleThreadedAgentRuntime`.

Each `Agent` is wrapped in a `RoleActor` (a RoutedAgent) registered under its
role, with one `TypeSubscription` per event type it handles; AutoGen topic =
(EventType, run_id), so one actor instance serves one run of one role and the
same `Agent` object serves them all. Emitting appends to the log, then
publishes (see bus/base.py for the full contract).

AutoGen runs every published message in its own task, so several events are
handled at once; the bus counts deliveries in flight so that `idle()` and
`stop()` know when handlers are done. Handler errors are caught in
`bus.dispatch.handle_event` (recorded as `RunFailed`), never left to the
runtime, which would swallow them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Iterable, Sequence

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
from bus.base import TERMINAL_TYPES, BusError, wait_for_event
from bus.context import BusContext, HistoryCache, LlmFactory
from bus.dispatch import handle_event
from bus.messages import EventMessage, topic_of
from bus.pending import unfinished_runs, unreacted
from store.events import Envelope
from store.log import EventLog

log = structlog.get_logger("bus")


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
    """`Bus` for one process: `InProcessBus(log, agents, llm_factory)`."""

    def __init__(
        self,
        log: EventLog,
        agents: Sequence[Agent],
        llm_factory: LlmFactory | None = None,
        *,
        stop_grace_s: float = 30.0,
    ) -> None:
        self.log = log
        self._agents: dict[str, Agent] = {}
        for agent in agents:
            if agent.role in self._agents:
                raise ValueError(f"two agents with role {agent.role!r}")
            self._agents[agent.role] = agent
        self._roles_by_type: dict[str, list[str]] = {}
        for agent in agents:
            for type_ in agent.handles:
                self._roles_by_type.setdefault(type_, []).append(agent.role)
        self._llm_factory = llm_factory
        self._histories = HistoryCache(log)
        self._contexts: OrderedDict[tuple[str, str], BusContext] = OrderedDict()
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
        for role, agent in self._agents.items():
            await runtime.register_factory(role, lambda role=role: RoleActor(self, role))
            for type_ in agent.handles:
                await runtime.add_subscription(TypeSubscription(topic_type=type_, agent_type=role))
        runtime.start()
        self._runtime = runtime

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

    async def submit(self, envelope: Envelope) -> Envelope:
        history = self._histories.get(envelope.run_id)
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
        types: Iterable[str] = TERMINAL_TYPES,
        timeout: float | None = None,
    ) -> Envelope:
        waiting = asyncio.ensure_future(wait_for_event(self.log, run_id, types, timeout))
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
        runs = await unfinished_runs(self.log, self._histories, run_id)
        count = 0
        for events in runs:
            for role, env in unreacted(events, self._roles_by_type):
                self._begin(1)
                task = asyncio.ensure_future(
                    runtime.send_message(EventMessage.of(env), AgentId(role, env.run_id))
                )
                self._resume_tasks.add(task)
                task.add_done_callback(self._resume_tasks.discard)
                count += 1
        if count:
            log.info("resumed", runs=len(runs), deliveries=count)
        return count

    # -- delivery ------------------------------------------------------------

    async def _deliver(self, envs: Sequence[Envelope]) -> None:
        runtime = self._require_runtime()
        for env in envs:
            recipients = len(self._roles_by_type.get(env.type, ()))
            if recipients:
                self._begin(recipients)
                await runtime.publish_message(EventMessage.of(env), topic_of(env))

    async def _handle(self, role: str, env: Envelope) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handler_tasks.add(task)
        try:
            if self._closing:
                return  # left in the log: resume delivers it again
            await handle_event(self._agents[role], env, self._context(env.run_id, role))
        except Exception as exc:  # never let AutoGen swallow it: wait_for raises it
            failure = exc if isinstance(exc, BusError) else BusError(f"{role}: {exc!r}")
            log.error("bus_failure", run_id=env.run_id, role=role, error=str(failure))
            self._failures[env.run_id] = failure
            self._failed_event(env.run_id).set()
        finally:
            if task is not None:
                self._handler_tasks.discard(task)
            self._end()

    def _context(self, run_id: str, role: str) -> BusContext:
        key = (run_id, role)
        ctx = self._contexts.get(key)
        if ctx is None:
            history = self._histories.get(run_id)
            ctx = self._contexts[key] = BusContext(
                run_id, role, self.log, history, self._deliver, self._llm_factory
            )
            while len(self._contexts) > 64 * max(1, len(self._agents)):
                self._contexts.popitem(last=False)
        else:
            self._contexts.move_to_end(key)
        return ctx

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
