"""What an agent is, and the context it acts through.

An agent role reacts to events of the types in `handles` and emits events
through its `AgentContext`. It never imports NATS or SQLite: the bus builds the
context. Emitting appends to the log first, then delivers to subscribers.

Agents should derive their state from `ctx.history()` (the run's events so
far), not from memory, so that any worker process can take any event and a
restarted process resumes where the log says.
"""

from __future__ import annotations

from typing import Any, Protocol

from store.events import Envelope, Payload


class LLM(Protocol):
    """A recorded, retried, schema-constrained LLM for one role of one run."""

    async def complete_json(
        self, purpose: str, messages: list[dict[str, Any]], schema: dict[str, Any], *, cause: Envelope
    ) -> Any:
        """Answer parsed as JSON that satisfies `schema`; every attempt recorded as an event."""
        ...

    async def complete_text(
        self, purpose: str, messages: list[dict[str, Any]], *, cause: Envelope
    ) -> str: ...


class AgentContext(Protocol):
    run_id: str

    async def emit(self, payload: Payload, *, cause: Envelope | None, key: str = "") -> Envelope:
        """Append the event (deterministic id from run, cause, type, key) and deliver it."""
        ...

    async def emit_many(
        self, items: list[tuple[Payload, str]], *, cause: Envelope | None
    ) -> list[Envelope]:
        """Append several events as one all-or-nothing batch, then deliver them."""
        ...

    async def history(self) -> list[Envelope]:
        """Every event of this run so far, in seq order."""
        ...

    def llm(self, role: str) -> LLM: ...


class Agent(Protocol):
    role: str  # design | grounding | allocation | orchestrator | verifier | evaluator
    handles: tuple[str, ...]  # event type names

    async def handle(self, event: Envelope, ctx: AgentContext) -> None: ...
