"""Projections of a run's log: one small module per question, folded by event class.

    request      RunRequest       what the run was asked for (`RunRequested`)
    design       DesignRounds     subtasks proposed and accepted, by round
    grounding    GroundingRounds  subtasks that failed grounding, rounds grounded, plans
    synthesis    Synthesis        synthesized generators: plans, attempts, verdicts, versions
    approval     PlanApproval     a --plan-only run's proposed spec, the user's edits, approval
    slots        SpecSlots        the spec, its sample slots, their attempts and resolution
    samples      Samples          realized items, checks, repairs, verdicts
    fates        SampleFates      what became of each sample, and why (`audit`)
    media        Media            media bytes by content-addressed name
    publication  Publication      the published benchmark
    evaluation   Evaluations      models released, evaluation requests, scores and failures
    leaderboard  Leaderboard      per-item scores of each model, released and evaluated when
    lineage      Lineage          the run a refresh comes from, items it must not reuse,
                                  saturation
    llm_usage    LlmUsage         LLM attempts, failures, tokens
    status       RunStatus        completed / failed, shortfall, the run's outcome
    judgements   Judgements       the judge's requests, item judgements and UIA (quality loop)
    reviews      HumanReviews     people's marks of items (the latest per item)
    ablation     AblationLink     the ablation this run is a variant of (`benchagent ablate`)

`RunState` (run_state.py) holds all of them for one run and folds each event once
into every projection that reads its class. They are pure folds over store
types: agents, the CLI and `replay.benchmark_files` depend on them alike.
"""

from replay.projections.ablation import AblationLink
from replay.projections.approval import PlanApproval
from replay.projections.base import Projection
from replay.projections.design import DesignRounds
from replay.projections.evaluation import Evaluations
from replay.projections.fates import SampleFate, SampleFates
from replay.projections.grounding import GroundingRounds
from replay.projections.judgements import Judgements
from replay.projections.leaderboard import Leaderboard, ModelRecord
from replay.projections.lineage import Lineage
from replay.projections.llm_usage import LlmUsage
from replay.projections.media import Media
from replay.projections.publication import Publication
from replay.projections.request import RunRequest
from replay.projections.reviews import HumanReviews
from replay.projections.run_state import RunState, Stage
from replay.projections.samples import Samples
from replay.projections.slots import SlotKey, SpecSlots, slot_key
from replay.projections.status import RunOutcome, RunStatus
from replay.projections.synthesis import Synthesis

__all__ = [
    "AblationLink", "DesignRounds", "Evaluations", "GroundingRounds", "HumanReviews",
    "Judgements", "Leaderboard", "Lineage", "LlmUsage", "Media", "ModelRecord", "PlanApproval", "Projection",
    "Publication", "RunOutcome", "RunRequest",
    "RunState", "RunStatus", "SampleFate", "SampleFates", "Samples", "SlotKey", "SpecSlots",
    "Stage", "Synthesis", "slot_key",
]
