"""The six agent roles and how to build them: `make_agents(roles, options)`.

Used by `benchagent build` (all roles in one process) and by `benchagent agent
--role ROLE` (one role per process). Ablations are not a constructor option:
each run records its `disabled` list in `RunRequested`, and every agent applies
its pass-through (DESIGN.md, the paper's Table 4) when the run says so, so any
worker serves any run correctly.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from agents.allocation import AllocationAgent
from agents.base import Agent
from agents.design import DesignAgent
from agents.evaluator import EvaluatorAgent
from agents.grounding import GroundingAgent
from agents.orchestrator import OrchestratorAgent
from agents.settings import ABLATIONS
from agents.sources import PoolCache
from agents.verifier import VerifierAgent
from store.events import ROLES

ALL_ROLES = ROLES  # in pipeline order: store.events.Role
__all__ = ["ABLATIONS", "ALL_ROLES", "AgentOptions", "make_agents", "parse_disabled"]


class AgentOptions(msgspec.Struct, kw_only=True):
    """Process-level resources shared by the agents of one process (models are the bus's:
    `agents.models.ModelRouter` behind `ctx.llm`)."""

    pools: PoolCache = msgspec.field(default_factory=PoolCache)


def make_agents(roles: Iterable[str] = ALL_ROLES, options: AgentOptions | None = None) -> list[Agent]:
    """One agent object per role, sharing `options` (the pool cache)."""
    options = options or AgentOptions()
    wanted = list(dict.fromkeys(roles))
    unknown = [r for r in wanted if r not in ALL_ROLES]
    if unknown:
        raise ValueError(f"unknown agent role {unknown[0]!r}; roles are {', '.join(ALL_ROLES)}")
    builders = {
        "design": lambda: DesignAgent(options.pools),
        "grounding": lambda: GroundingAgent(options.pools),
        "allocation": AllocationAgent,
        "orchestrator": lambda: OrchestratorAgent(options.pools),
        "verifier": lambda: VerifierAgent(options.pools),
        "evaluator": EvaluatorAgent,
    }
    return [builders[r]() for r in wanted]


def parse_disabled(text: str | Iterable[str]) -> list[str]:
    """`design,verifier` → sorted list; `ValueError` naming an unknown ablation."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    for n in names:
        if n not in ABLATIONS:
            raise ValueError(f"unknown --disable name {n!r}; choose among {', '.join(ABLATIONS)}")
    return sorted(set(names))
