"""What both buses share: which role handles which event class, one context per (run, role),
and which events `resume` re-delivers.

- `RoleTable`: the agents a bus serves by role, and the roles of each event class,
  derived from the agents' `@on` handlers (agents/base.py). The in-process bus
  subscribes each role to the AutoGen topic of each of its event types, the NATS
  bus filters each role's consumer on their subjects; both ask this table.
- `ContextCache`: the `BusContext` of each (run, role), over one history per run
  (`bus.context.HistoryCache`), the most recently used ones kept.
- `pending_deliveries`: the (role, event) pairs `resume` re-delivers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import structlog
from cachetools import LRUCache

from agents.base import Agent
from agents.models import ModelRouter
from bus.context import BusContext, Deliver, HistoryCache
from bus.pending import unfinished_runs, unreacted
from store.blobs import BlobStore
from store.events import Envelope, Payload
from store.log import EventLog

log = structlog.get_logger("bus")

MAX_RUNS = 64  # runs whose histories and contexts a process keeps in memory


class RoleTable:
    """The agents of a bus by role (`roles`: those this process serves; default all)."""

    def __init__(self, agents: Sequence[Agent], roles: Iterable[str] | None = None) -> None:
        self.agents: dict[str, Agent] = {}
        for agent in agents:
            if agent.role in self.agents:
                raise ValueError(f"two agents with role {agent.role!r}")
            self.agents[agent.role] = agent
        self.roles = tuple(roles) if roles is not None else tuple(self.agents)
        unknown = [r for r in self.roles if r not in self.agents]
        if unknown:
            raise ValueError(f"no agent for role(s): {', '.join(unknown)}")
        self.roles_by_type: dict[type[Payload], list[str]] = {}
        for role in self.roles:
            for event_type in self.handled(role):
                self.roles_by_type.setdefault(event_type, []).append(role)

    def handled(self, role: str) -> tuple[type[Payload], ...]:
        """The event classes `role` reacts to."""
        return self.agents[role].handled_types()

    def recipients(self, env: Envelope[Payload]) -> list[str]:
        """The served roles an event goes to."""
        return self.roles_by_type.get(type(env.payload), [])


class ContextCache:
    """One `BusContext` per (run, role) and one history per run, most recently used kept."""

    def __init__(self, event_log: EventLog, deliver: Deliver, router: ModelRouter | None, *,
                 roles: int, skip_known: bool, blobs: BlobStore | None = None,
                 max_runs: int = MAX_RUNS) -> None:
        self.histories = HistoryCache(event_log, max_runs)
        self.blobs = blobs
        self._log = event_log
        self._deliver = deliver
        self._router = router
        self._skip_known = skip_known
        self._contexts: LRUCache[tuple[str, str], BusContext] = LRUCache(
            maxsize=max_runs * max(1, roles))

    def get(self, run_id: str, role: str) -> BusContext:
        ctx = self._contexts.get((run_id, role))
        if ctx is None:
            ctx = self._contexts[(run_id, role)] = BusContext(
                run_id, role, self._log, self.histories.get(run_id), self._deliver,
                self._router, skip_known=self._skip_known, blobs=self.blobs)
        return ctx


async def pending_deliveries(
    event_log: EventLog, histories: HistoryCache, table: RoleTable, run_id: str | None,
    roles: Iterable[str] | None = None,
) -> list[tuple[str, Envelope[Payload]]]:
    """What `resume` re-delivers: every (role, event) of an unfinished, unstopped run
    (`run_id`'s, or every run's) that a served role (of `roles`, default all) handles but
    never reacted to."""
    runs = await unfinished_runs(event_log, histories, run_id)
    wanted = set(table.roles if roles is None else roles)
    deliveries = [(role, env) for events in runs
                  for role, env in unreacted(events, table.roles_by_type) if role in wanted]
    if deliveries:
        log.info("resumed", runs=len(runs), deliveries=len(deliveries), roles=list(table.roles))
    return deliveries
