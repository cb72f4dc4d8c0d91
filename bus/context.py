"""The concrete `AgentContext` (agents/base.py) both buses hand to agents.

Emitting builds envelopes with deterministic ids, skips those the run already
holds, APPENDS the rest to the log and only then hands the stored envelopes to
the bus's `deliver` callback (the in-process bus publishes them; in NATS mode
appending already published them on the stream, so `deliver` does nothing and
the skipping is left to the log's dedup, which never re-publishes).

`blobs` is the bus's blob store (media bytes by sha256: a folder beside
`events.db`, or a JetStream Object Store bucket); agents put bytes there before
emitting the `MediaStored` that names them.

`history()` is served from a per-run cache read incrementally (`after_seq`),
because agents call it on every event they handle; `state()` is the run's
`RunState` (replay/projections), folded as that cache grows: one per run per
process, shared by every agent of the process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from cachetools import LRUCache

from agents.base import LLM
from agents.models import ModelRouter
from bus.base import BusError
from replay.projections import RunState
from store.blobs import BlobStore
from store.events import Envelope, EventEnvelope, Payload, new_event
from store.log import EventLog

Deliver = Callable[[Sequence[Envelope[Payload]]], Awaitable[None]]


class RunHistory:
    """The stored events of one run, in seq order, topped up from the log on demand, and
    their projections (`state`), folded as they arrive."""

    def __init__(self, log: EventLog, run_id: str) -> None:
        self.run_id = run_id
        self._log = log
        self._events: list[EventEnvelope] = []
        self._by_id: dict[str, EventEnvelope] = {}
        self.state = RunState(run_id)
        self._lock = asyncio.Lock()  # concurrent handlers must not append the same tail twice

    @property
    def last_seq(self) -> int:
        return self._events[-1].seq if self._events else 0

    async def refresh(self) -> list[EventEnvelope]:
        """Read what the log gained since the last call; returns the whole (shared) list."""
        async with self._lock:
            for env in await self._log.read(self.run_id, self.last_seq):
                self._events.append(env)
                self._by_id[env.event_id] = env
                self.state.fold(env)  # synchronous: no handler sees a half-folded state
        return self._events

    def get(self, event_id: str) -> EventEnvelope | None:
        return self._by_id.get(event_id)


class HistoryCache:
    """`RunHistory` per run, keeping the most recently used `max_runs` runs."""

    def __init__(self, log: EventLog, max_runs: int = 64) -> None:
        self._log = log
        self._runs: LRUCache[str, RunHistory] = LRUCache(maxsize=max_runs)

    def get(self, run_id: str) -> RunHistory:
        history = self._runs.get(run_id)
        if history is None:
            history = self._runs[run_id] = RunHistory(self._log, run_id)
        return history


class BusContext:
    """What one agent role sees of one run: emit, history, LLM."""

    def __init__(
        self,
        run_id: str,
        role: str,
        log: EventLog,
        history: RunHistory,
        deliver: Deliver,
        router: ModelRouter | None = None,
        *,
        skip_known: bool = True,
        blobs: BlobStore | None = None,
    ) -> None:
        self.run_id = run_id
        # Read the run before appending, to deliver only new events. Not needed when
        # appending is delivering (NATS): the log's own dedup then suffices.
        self._skip_known = skip_known
        self.role = role
        self._log = log
        self._history = history
        self._deliver = deliver
        self._router = router
        self._blobs = blobs
        self._llms: dict[str, LLM] = {}

    @property
    def blobs(self) -> BlobStore:
        if self._blobs is None:
            raise RuntimeError(f"no blob store is configured on this bus (asked by {self.role})")
        return self._blobs

    async def emit(self, payload: Payload, *, cause: Envelope[Payload] | None,
                   key: str = "") -> EventEnvelope:
        return (await self.emit_many([(payload, key)], cause=cause))[0]

    async def emit_many(
        self, items: list[tuple[Payload, str]], *, cause: Envelope[Payload] | None
    ) -> list[EventEnvelope]:
        cause_id = cause.event_id if cause is not None else None
        envs = [new_event(self.run_id, self.role, p, cause_id, key) for p, key in items]
        fresh = envs
        if self._skip_known:
            await self._history.refresh()
            fresh = [e for e in envs if self._history.get(e.event_id) is None]
        stored = await self._log.append(fresh) if fresh else []
        if stored:
            await self._deliver(stored)
        by_id = {e.event_id: e for e in stored}
        result = []
        for env in envs:
            found = by_id.get(env.event_id) or self._history.get(env.event_id)
            if found is None:
                raise BusError(f"the log did not return event {env.event_id} ({env.type})")
            result.append(found)
        return result

    async def history(self) -> list[EventEnvelope]:
        return list(await self._history.refresh())

    async def state(self) -> RunState:
        await self._history.refresh()
        return self._history.state

    def llm(self, role: str) -> LLM:
        if self._router is None:
            raise RuntimeError(f"no LLM is configured on this bus (asked by {self.role} for {role})")
        llm = self._llms.get(role)
        if llm is None:
            llm = self._llms[role] = self._router.llm(role, self)
        return llm
