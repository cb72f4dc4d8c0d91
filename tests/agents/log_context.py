"""A minimal `AgentContext` over a real SQLite log, for driving one agent by hand in tests."""

from __future__ import annotations

from typing import Any

from replay.projections import RunState
from store.events import Envelope, Payload, new_event
from store.log import EventLog


class LogContext:
    def __init__(self, log: EventLog, run_id: str, role: str, llm: Any = None) -> None:
        self.log, self.run_id, self.role, self._llm = log, run_id, role, llm
        self._state = RunState(run_id)

    async def emit(self, payload: Payload, *, cause: Envelope | None, key: str = "") -> Envelope:
        return (await self.emit_many([(payload, key)], cause=cause))[0]

    async def emit_many(self, items: list[tuple[Payload, str]], *,
                        cause: Envelope | None) -> list[Envelope]:
        envs = [new_event(self.run_id, self.role, p, cause.event_id if cause else None, k)
                for p, k in items]
        return await self.log.append(envs)

    async def history(self) -> list[Envelope]:
        return await self.log.read(self.run_id)

    async def state(self) -> RunState:
        return self._state.catch_up(await self.history())

    def llm(self, role: str) -> Any:
        if self._llm is None:
            raise AssertionError(f"{self.role} asked for an LLM ({role})")
        return self._llm
