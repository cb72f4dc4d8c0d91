"""The NATS bus: each agent role is a durable JetStream consumer shared by its workers.

The log is the JetStream log (`store.jetstream_log`): appending an event
publishes it on `bench.<run_id>.<EventType>`, so emitting = appending and the
stream does the delivering. For each role this process serves, the bus binds to
the durable pull consumer `role-<role>`, filtered on `bench.*.<Type>` for every
event class the role has an `@on` handler for (`bus.wiring.RoleTable`; deliver
policy "all": events submitted before any worker started are not lost). A durable pull consumer is JetStream's queue group:
every worker of the role, in any process, fetches from the same consumer and
each message goes to one of them.

A message is acked only after the handler returned, i.e. after every event it
emitted was appended. While a handler runs, the bus sends "in progress" every
`ack_wait_s / 3` so a slow LLM call does not trigger a redelivery; a worker
killed mid-handler stops sending them and the message is redelivered after
`ack_wait_s`. A handler error is recorded as `RunFailed` (bus/dispatch.py) and
the message acked; if even that cannot be stored the message is nak'ed for a
later retry.

Every role's consumer also takes `RunResumed`: the worker that gets it re-delivers,
in its own process, what its role never reacted to in that run (after a
`RunStopped`, or a build killed mid-run), so `benchagent build --resume` works
with remote agents too. Media bytes go to the JetStream Object Store bucket
`bench-blobs` on the bus's connection (`ctx.blobs`, store/blobs.py): chunked, so
any size fits a stock `nats-server -js`.

`resume()` (bus/base.py) handles the unreacted events of unfinished runs
directly in this process, without waiting `ack_wait_s` for JetStream to
redeliver what a dead worker held. It cannot tell a dead worker's event from
one a live worker is still handling, so such an event may be handled twice:
dedup keeps the log exact, but work (e.g. an LLM call not yet recorded) may be
paid twice. `benchagent agent` resumes once, at start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import msgspec
import nats.errors
import nats.js.errors
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from agents.base import Agent
from agents.models import ModelRouter
from bus.base import TERMINAL, wait_for_event
from bus.dispatch import handle_event
from bus.wiring import ContextCache, RoleTable, pending_deliveries
from store.blobs import BlobStore, JetStreamBlobStore
from store.events import Envelope, Payload, RunResumed, decode
from store.log import EventLog, StoreUnavailable
from store.nats_connect import connect_nats
from store.subjects import type_filter

log = structlog.get_logger("bus.nats")

DEFAULT_STREAM = "BENCH"
_FETCH_TIMEOUT_S = 2.0
_NAK_DELAY_S = 2.0
# Idle seconds before a run counts as stalled. A remote worker's re-deliveries after
# `RunResumed` are invisible from the driving process; the long wait covers them (the
# 1.5B's longest calls take about a minute to record).
NATS_STALL_AFTER_S = 120.0


def consumer_name(role: str) -> str:
    return f"role-{role}"


class NatsBus:
    """`Bus` over NATS JetStream: `NatsBus(url, agents, router, roles=...)`.

    `roles` selects which of `agents` this process serves (default: all of them);
    `workers` is how many events each role handles at once in this process.
    """

    def __init__(
        self,
        url: str,
        agents: Sequence[Agent],
        router: ModelRouter | None = None,
        *,
        roles: Iterable[str] | None = None,
        workers: int = 1,
        ack_wait_s: float = 30.0,
        stream: str = DEFAULT_STREAM,
        connect_timeout_s: float = 5.0,
        stop_grace_s: float = 30.0,
        stall_after_s: float = NATS_STALL_AFTER_S,
        log: EventLog | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.url = url
        self._table = RoleTable(agents, roles)
        self.roles = self._table.roles
        self._router = router
        self.workers = workers
        self.ack_wait_s = ack_wait_s
        self.stream = stream
        self._connect_timeout_s = connect_timeout_s
        self._stop_grace_s = stop_grace_s
        self._stall_after_s = stall_after_s
        self._given_log = log
        self.log: EventLog | None = None
        self._given_blobs = blobs
        self.blobs: BlobStore | None = None
        self._nc: NATS | None = None
        self._contexts: ContextCache | None = None
        self._pullers: list[asyncio.Task[None]] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        if self._nc is not None:
            raise RuntimeError("bus already started")
        self._nc = await connect_nats(self.url, timeout_s=self._connect_timeout_s,
                                      name=f"benchagent {','.join(self.roles)}")
        try:
            if self._given_log is not None:
                self.log = self._given_log
            else:  # the log shares this connection (and its endless reconnects)
                from store.jetstream_log import JetStreamEventLog

                self.log = await JetStreamEventLog.attach(self._nc, self.stream)
            self.blobs = self._given_blobs or await _attach_blobs(self._nc, self.url)
            # Appending to the JetStream log publishes: the stream delivers, the log dedups.
            self._contexts = ContextCache(self.log, _stream_delivers, self._router,
                                          roles=len(self.roles), skip_known=False,
                                          blobs=self.blobs)
            js = self._nc.jetstream()
            for role in self.roles:
                handled = self._table.handled(role)
                if not handled:  # no filter would mean every subject
                    continue
                types: list[type[Payload]] = [*handled, RunResumed]
                subjects = sorted(type_filter(t) for t in types)
                await self._ensure_consumer(js, role, subjects)
                sub = await js.pull_subscribe_bind(durable=consumer_name(role), stream=self.stream)
                self._pullers.append(asyncio.create_task(self._pull(role, sub)))
        except BaseException:
            await self._close_connections()
            raise
        log.info("nats_bus_started", url=self.url, roles=list(self.roles), workers=self.workers)

    async def _ensure_consumer(self, js: JetStreamContext, role: str, subjects: list[str]) -> None:
        """Create the role's durable consumer, or update its filters and ack wait."""
        try:
            await js.add_consumer(self.stream, ConsumerConfig(
                durable_name=consumer_name(role),
                filter_subjects=subjects,
                deliver_policy=DeliverPolicy.ALL,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait_s,
                max_deliver=-1,
            ))
        except nats.js.errors.APIError as exc:
            raise StoreUnavailable(
                f"cannot set up the {role} consumer on stream {self.stream} at {self.url}: "
                f"{exc.description}"
            ) from None

    async def stop(self) -> None:
        """Stop fetching; handlers in flight get `stop_grace_s` to finish and ack."""
        if self._nc is None:
            return
        self._closing = True
        for task in self._pullers:
            task.cancel()
        await asyncio.gather(*self._pullers, return_exceptions=True)
        self._pullers.clear()
        if self._handlers:
            _, late = await asyncio.wait(set(self._handlers), timeout=self._stop_grace_s)
            for task in late:  # unacked: JetStream redelivers them to another worker
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        await self._close_connections()
        log.info("nats_bus_stopped", roles=list(self.roles))

    async def _close_connections(self) -> None:
        if self.blobs is not None and self._given_blobs is None:
            await self.blobs.close()  # shares the connection: closes nothing of its own
        self.blobs = None
        if self._nc is not None:
            try:
                await self._nc.close()
            finally:
                self._nc = None
        if self.log is not None and self._given_log is None:
            await self.log.close()
        self.log = None

    # -- the Bus contract ----------------------------------------------------

    async def submit(self, envelope: Envelope[Payload]) -> Envelope[Payload]:
        (stored,) = await self._require_log().append([envelope])
        return stored

    async def wait_for(
        self,
        run_id: str,
        types: Iterable[type[Payload]] = TERMINAL,
        timeout: float | None = None,
        *,
        after_seq: int = 0,
    ) -> Envelope[Payload]:
        return await wait_for_event(self._require_log(), run_id, types, timeout, after_seq)

    async def resume(self, run_id: str | None = None, roles: Iterable[str] | None = None) -> int:
        contexts = self._require_contexts()
        deliveries = await pending_deliveries(self._require_log(), contexts.histories,
                                              self._table, run_id, roles)
        limits = {role: asyncio.Semaphore(self.workers) for role in self.roles}
        for role, env in deliveries:
            self._track(asyncio.create_task(self._redeliver(role, env, limits[role])))
        return len(deliveries)

    async def busy(self) -> bool:
        """A handler runs here, or a role consumer of the stream holds an event not yet
        delivered or not yet acked (a worker in any process is on it, or none is running).
        A store that does not answer counts as busy: nothing can be told."""
        if self._handlers:
            return True
        if self._nc is None:
            return False
        try:
            infos = await self._nc.jetstream().consumers_info(self.stream)
        except Exception as exc:  # noqa: BLE001 - unknown is not idle
            log.warning("consumer_info_failed", error=f"{type(exc).__name__}: {exc}")
            return True
        roles = [i for i in infos if (i.name or "").startswith(consumer_name(""))]
        return not roles or any((i.num_pending or 0) + (i.num_ack_pending or 0) > 0
                                for i in roles)

    @property
    def stall_after_s(self) -> float:
        return self._stall_after_s

    # -- delivery ------------------------------------------------------------

    async def _pull(self, role: str, sub: object) -> None:
        """Fetch as many messages as there are free handler slots; one task each."""
        free = self.workers
        slot_freed = asyncio.Event()

        def release(_: asyncio.Task[None]) -> None:
            nonlocal free
            free += 1
            slot_freed.set()

        while not self._closing:
            if free == 0:
                slot_freed.clear()
                await slot_freed.wait()
                continue
            try:
                msgs = await sub.fetch(free, timeout=_FETCH_TIMEOUT_S)  # type: ignore[attr-defined]
            except nats.errors.TimeoutError:
                continue
            except Exception as exc:  # reconnecting, server restarting...: keep pulling
                log.warning("fetch_failed", role=role, error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.5)
                continue
            for msg in msgs:
                free -= 1
                task = asyncio.create_task(self._consume(role, msg))
                task.add_done_callback(release)
                self._track(task)

    async def _consume(self, role: str, msg: Msg) -> None:
        try:
            env = decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.error("undecodable_message", role=role, subject=msg.subject, error=str(exc))
            await msg.term()  # redelivering it would never help
            return
        if isinstance(env.payload, RunResumed):  # this role's share of `build --resume`
            try:
                resumed = await self.resume(env.run_id, roles=[role])
            except Exception as exc:
                log.error("resume_failed", run_id=env.run_id, role=role, error=str(exc))
                await _quietly(msg.nak(delay=_NAK_DELAY_S))
                return
            log.info("run_resumed", run_id=env.run_id, role=role, deliveries=resumed)
            await _quietly(msg.ack())
            return
        try:
            await self._handle_keeping_alive(role, env, msg)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the failure could not even be recorded: retry later
            log.error("delivery_failed", run_id=env.run_id, role=role, event_type=env.type,
                      seq=env.seq, error=str(exc))
            await _quietly(msg.nak(delay=_NAK_DELAY_S))
            return
        await _quietly(msg.ack())

    async def _handle_keeping_alive(self, role: str, env: Envelope[Payload], msg: Msg) -> None:
        ctx = self._require_contexts().get(env.run_id, role)
        handling = asyncio.ensure_future(handle_event(self._table.agents[role], env, ctx))
        try:
            while True:
                done, _ = await asyncio.wait({handling}, timeout=self.ack_wait_s / 3)
                if done:
                    break
                await _quietly(msg.in_progress())
        except asyncio.CancelledError:
            handling.cancel()
            raise
        handling.result()

    async def _redeliver(self, role: str, env: Envelope[Payload],
                         limit: asyncio.Semaphore) -> None:
        async with limit:
            if self._closing:
                return
            try:
                ctx = self._require_contexts().get(env.run_id, role)
                await handle_event(self._table.agents[role], env, ctx)
            except Exception as exc:
                log.error("resume_delivery_failed", run_id=env.run_id, role=role,
                          event_type=env.type, error=str(exc))

    def _require_contexts(self) -> ContextCache:
        if self._contexts is None:
            raise RuntimeError("bus not started: call start() first")
        return self._contexts

    def _track(self, task: asyncio.Task[None]) -> None:
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    def _require_log(self) -> EventLog:
        if self.log is None:
            raise RuntimeError("bus not started: call start() first")
        return self.log


async def _attach_blobs(nc: NATS, url: str) -> BlobStore:
    try:
        return await JetStreamBlobStore.attach(nc)
    except (TimeoutError, nats.errors.Error) as exc:
        raise StoreUnavailable(f"cannot open the blob bucket at {url}: {exc}") from None


async def _stream_delivers(envs: Sequence[Envelope[Payload]]) -> None:
    """Appending to the JetStream log already published the events on their subjects."""


async def _quietly(ack: object) -> None:
    try:
        await ack  # type: ignore[misc]
    except (TimeoutError, nats.errors.Error) as exc:
        log.warning("ack_signal_failed", error=type(exc).__name__)
