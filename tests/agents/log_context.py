"""A minimal `AgentContext` over a real event log, for driving one agent (or one recorded
LLM) by hand in tests: emit appends, history reads the log back, state folds it."""

from __future__ import annotations

from typing import Any

from replay.projections import RunState
from store.events import Envelope, Payload, new_event
from store.log import EventLog


class LogContext:
    def __init__(self, log: EventLog, run_id: str, role: str = "test", llm: Any = None, *,
                 fail_emit: bool = False) -> None:
        self.log, self.run_id, self.role, self._llm = log, run_id, role, llm
        self.fail_emit = fail_emit  # every emit raises, as a full disk would
        self.emits = 0
        self._state = RunState(run_id)

    async def emit(self, payload: Payload, *, cause: Envelope | None, key: str = "") -> Envelope:
        return (await self.emit_many([(payload, key)], cause=cause))[0]

    async def emit_many(self, items: list[tuple[Payload, str]], *,
                        cause: Envelope | None) -> list[Envelope]:
        self.emits += len(items)
        if self.fail_emit:
            raise OSError("disk full")
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
