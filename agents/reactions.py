"""What counts as an agent's reaction to an event, for deciding what a resume re-delivers.

Handlers record their LLM calls (`LLMCallRecorded`) while they work and emit
their decisions at the end, in one batch. A handler killed after an LLM call but
before its decisions has therefore *not* reacted: only events other than the
records of work in progress count. A bus's resume should re-deliver every event
a role handles for which `has_reacted` is false.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from store.events import Envelope

# Records of work in progress: written before a handler's decisions, never a decision.
WORK_IN_PROGRESS = frozenset({"LLMCallRecorded"})


def is_reaction(env: Envelope) -> bool:
    return env.causation_id is not None and env.type not in WORK_IN_PROGRESS


def pending(events: Sequence[Envelope],
            roles_by_type: Mapping[str, Sequence[str]]) -> list[tuple[str, Envelope]]:
    """(role, event) pairs, in log order, where `role` handles the event but has not reacted."""
    reacted = {(e.causation_id, e.agent) for e in events if is_reaction(e)}
    return [(role, e) for e in events for role in roles_by_type.get(e.type, ())
            if (e.event_id, role) not in reacted]
