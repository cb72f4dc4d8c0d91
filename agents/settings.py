"""Per-run knobs of the agents, read from the run's `RunRequested.config`.

They shape decisions, so they live in the log (the first event) rather than in
a worker's memory: any worker, and a resumed run, decides with the same values.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from store.events import RunRequested

# `synthesis`: no generator is synthesized, even for a subtask the pool cannot ground.
ABLATIONS = ("design", "grounding-scoring", "sample-planning", "verifier", "synthesis")


class RunSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    max_subtasks: int = 6  # the Design agent proposes 2..max_subtasks candidates
    search_k: int = 2  # relevant candidate datasets planned and scored per subtask
    groundings_per_subtask: int = 2  # accepted plans kept per subtask
    score_threshold: float = 0.6  # Score-and-Filter: each dimension must reach it
    max_design_rounds: int = 3  # design -> grounding feedback rounds before giving up
    max_attempts: int = 6  # realizations per sample slot (first fill + replenishments)
    # A slot whose grounding has filled none of its slots moves to a sibling generator
    # grounding that has, after this many model-checked rejections (or when it would be
    # reported short); 0: slots never move (`agents/orchestrator/slot_moves.py`).
    move_after: Annotated[int, msgspec.Meta(ge=0)] = 2
    prompt_chars: int = 2400  # source text shown to an LLM, per field
    generators: bool = True  # built-in procedural generators are part of the pool
    # Synthesized generators (agents/synthesis): always one per subtask as an extra candidate
    # (else only for a subtask no pool plan grounds), within these bounds.
    synthesize: bool = False
    # Attempts at the generator's code per plan: after the first, each is a fresh sample or
    # one function rewritten, so more rounds are more independent tries (1.5B: 60-100 s each).
    synthesis_rounds: int = 5
    synthesis_seeds: int = 12  # seeds the sandboxed checks run
    synthesis_item_checks: int = 2  # rendered items the model-based checks read (a call each)
    # Judge every item the blind solve cannot reject, even a source's multiple-choice item
    # whose blind answer reached the label and whose question asks what the subtask tests
    # (off: those are settled without a judgement — the 1.5B's passed every one on the demo).
    judge_every_item: bool = False
    # A source's multiple-choice item is kept only if each blind solve gives its label this
    # much of the way from chance to certainty, as a share of the option letters' probability
    # (two options: 0.6; four: 0.4); 0 turns the `unambiguous` check off.
    solve_margin: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.2
    # Stop after the plan (`SpecProposed`) until `benchagent approve`.
    plan_only: bool = False


SETTING_NAMES = tuple(RunSettings.__struct_fields__)


def settings_from_config(config: dict[str, Any]) -> RunSettings:
    """Validate the agent settings found in a run's config (other keys are ignored)."""
    known = {k: v for k, v in config.items() if k in SETTING_NAMES}
    return msgspec.convert(known, RunSettings)


def settings_of(request: RunRequested) -> RunSettings:
    return settings_from_config(request.config)
