"""What an agent is, and the context it acts through.

An agent role is a subclass of `Agent` whose methods marked `@on(EventClass)` react
to events of that class:

    class VerifierAgent(Agent):
        role = "verifier"

        @on(SampleRealized)
        async def verify(self, event: Envelope[SampleRealized], ctx: AgentContext) -> None:
            ...

The event classes an agent handles are those of its marked methods: both buses
derive their subscriptions (AutoGen topics, NATS consumer filters) and what
`resume` re-delivers from them. An agent emits events through its
`AgentContext` and never imports NATS or SQLite: the bus builds the context.
Emitting appends to the log first, then delivers to subscribers.

Agents derive their state from the run's log, never from memory, so that any
worker process can take any event and a restarted process resumes where the
log says: `await ctx.state()` is the run's `RunState` (replay/projections), up to
date with its history.

Media bytes never travel in events: a handler puts them in `ctx.blobs` (the run's
content-addressed blob store, store/blobs.py) BEFORE it emits the `MediaStored`
that names them, so nothing in the log points at a missing blob.

Two kinds of failure: an exception out of a handler means the run is wrong and
ends it (`RunFailed`, final); `ServiceUnavailable` means the world failed (a
model server down or rate-limiting beyond the retry budget) and stops it
(`RunStopped`) until `benchagent build --resume RUN_ID`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import msgspec

from store.blobs import BlobStore
from store.dispatch import handler_table, on
from store.events import Envelope, EventEnvelope, Payload, Role, StopCause

if TYPE_CHECKING:
    from replay.projections import RunState

__all__ = ["LLM", "Agent", "AgentContext", "Batch", "ServiceUnavailable", "on"]


class ServiceUnavailable(Exception):
    """The world failed, not the run: a service it needs stayed unavailable beyond its retry
    budget. The bus records `RunStopped` (resumable), never `RunFailed`."""

    cause: StopCause = "model_unavailable"

# Events to emit together (`emit_many`), each with the key of its deterministic id.
Batch = list[tuple[Payload, str]]


class LLM(Protocol):
    """A recorded, retried, schema-constrained LLM for one role of one run."""

    async def complete_json(
        self, purpose: str, messages: list[dict[str, Any]], schema: dict[str, Any], *,
        cause: Envelope[Payload], sampling: Mapping[str, Any] | None = None,
    ) -> Any:
        """Answer parsed as JSON that satisfies `schema`; every attempt recorded as an event
        (`sampling` as for `complete_text`)."""
        ...

    async def complete_text(
        self, purpose: str, messages: list[dict[str, Any]], *, cause: Envelope[Payload],
        sampling: Mapping[str, Any] | None = None,
    ) -> str:
        """Free text; `sampling` (e.g. temperature and seed) overrides the role's parameters
        for this request, and is part of what makes it the same request again."""
        ...

    async def complete_choice(
        self, purpose: str, messages: list[dict[str, Any]], *, cause: Envelope[Payload],
    ) -> ChoiceAnswer:
        """A short answer (an option's letter) with its first token's alternatives and their
        log-probabilities, recorded with the call (None where the model reports none)."""
        ...


    async def continuation_logprobs(
        self, purpose: str, text: str, continuations: list[str], *, cause: Envelope[Payload],
    ) -> list[float] | None:
        """The log-probability of each continuation right after `text` (raw text, no chat
        template), recorded like any call; None when the model cannot score text (a chat
        API that reports the probabilities of no prompt)."""
        ...


class ChoiceAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A short answer (an option's letter) and how likely the model found each first token."""

    text: str
    # token text → log-probability of the answer's first token; None: the model gave none.
    first_token_logprobs: dict[str, float] | None = None


class AgentContext(Protocol):
    run_id: str

    @property
    def blobs(self) -> BlobStore:
        """The run's blob store: put media bytes there BEFORE emitting what names them."""
        ...

    async def emit(
        self, payload: Payload, *, cause: Envelope[Payload] | None, key: str = ""
    ) -> EventEnvelope:
        """Append the event (deterministic id from run, cause, type, key) and deliver it."""
        ...

    async def emit_many(
        self, items: list[tuple[Payload, str]], *, cause: Envelope[Payload] | None
    ) -> list[EventEnvelope]:
        """Append several events as one all-or-nothing batch, then deliver them."""
        ...

    async def history(self) -> list[EventEnvelope]:
        """Every event of this run so far, in seq order."""
        ...

    async def state(self) -> RunState:
        """The run's projections, up to date with its history (shared within a process)."""
        ...

    def llm(self, role: str) -> LLM:
        """The recorded LLM the run names for `role` (`eval:<spec>`: that model)."""
        ...


class Agent:
    """Base of the agent roles: `role`, and handlers marked `@on(EventClass)`."""

    role: ClassVar[Role]
    _handlers: ClassVar[dict[type[Payload], str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = handler_table(cls)

    @classmethod
    def handled_types(cls) -> tuple[type[Payload], ...]:
        """The event classes this agent reacts to (those of its `@on` methods)."""
        return tuple(cls._handlers)

    async def handle(self, event: Envelope[Payload], ctx: AgentContext) -> None:
        """Run the handler of the event's class."""
        name = self._handlers.get(type(event.payload))
        if name is None:  # the buses deliver only handled types: this is a wiring error
            raise LookupError(f"{type(self).__name__} has no handler for {event.type}")
        await getattr(self, name)(event, ctx)
