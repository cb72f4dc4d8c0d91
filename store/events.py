"""The events: benchagent's domain language.

Every decision is one of the payload Structs below, carried in an `Envelope`.
Payloads form a msgspec tagged union (tag = class name), so an envelope
decodes to the right payload type without a registry lookup.

Identity and integrity:
- `event_id` is deterministic (`make_event_id`): the same decision re-emitted
  after a crash has the same id, and the log's dedup turns it into a no-op.
- `seq` is assigned by the log (per run, gapless, from 1).
- `prev_hash`/`hash` form a per-run hash chain (`chain_hash`), set by the log
  at append time, so `benchagent verify` can name the first tampered event.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

SCHEMA_VERSION = 1
GENESIS_HASH = "0" * 64


class Payload(msgspec.Struct, frozen=True, kw_only=True, tag=True, omit_defaults=False):
    """Base of every event payload; the tag is the class name."""


# --------------------------------------------------------------------------- run


class RunRequested(Payload, frozen=True, kw_only=True):
    """A user asked for a benchmark. First event of every run."""

    requirement: str
    size: int
    seed: int
    pools: list[str] = []
    llm: str = "local:qwen2.5-coder-1.5b"
    llm_key_env: str = "OPENAI_API_KEY"
    role_models: dict[str, str] = {}
    eval_models: list[str] = []
    disabled: list[str] = []  # ablations: design, grounding-scoring, sample-planning, verifier
    config: dict[str, Any] = {}  # everything else the run was configured with; never secrets


class RunFailed(Payload, frozen=True, kw_only=True):
    stage: str
    reason: str


class RunCompleted(Payload, frozen=True, kw_only=True):
    """The run has nothing left to do (published and, if asked, evaluated)."""

    accepted: int
    rejected: int
    content_hash: str


# ------------------------------------------------------------ nondeterminism


class LLMCallRecorded(Payload, frozen=True, kw_only=True):
    """One LLM attempt, recorded before its answer is used.

    `request_key` is a hash of (role, purpose key, model, messages, params,
    schema); a later identical request in the same run reuses `answer`.
    """

    request_key: str
    role: str
    purpose: str
    model: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = {}
    json_schema: dict[str, Any] | None = None
    attempt: int = 1
    answer: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0


# Records of work in progress: a handler writes them while it works (before its decisions),
# so they never count as its reaction to the event it handles; resume re-delivers an event
# whose handler was killed after recording an LLM call but before deciding.
WORK_IN_PROGRESS_TYPES = frozenset({"LLMCallRecorded"})


def is_reaction(env: Envelope) -> bool:
    """Whether `env` is a decision taken in reaction to its cause (not a work record)."""
    return env.causation_id is not None and env.type not in WORK_IN_PROGRESS_TYPES


class ToolApplied(Payload, frozen=True, kw_only=True):
    """A pure tool ran; outputs are content hashes of produced files/values."""

    sample_id: str
    tool: str
    version: str
    arguments: dict[str, Any]
    outputs: dict[str, str] = {}  # logical name -> sha256 (or value)
    error: str | None = None


class MediaStored(Payload, frozen=True, kw_only=True):
    """Bytes of a produced media file, so replay needs no tool and no source."""

    sha256: str
    name: str  # content-addressed relative path under media/
    data: bytes


# ------------------------------------------------------------------- design


class Subtask(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    capability: str
    answer_format: str  # multiple_choice | short_answer | free_text | ...


class SubtasksProposed(Payload, frozen=True, kw_only=True):
    candidates: list[Subtask]
    reason: str = ""
    round: int = 1


class SubtaskReviewed(Payload, frozen=True, kw_only=True):
    name: str
    decision: str  # keep | revise | discard
    reason: str
    revised: Subtask | None = None
    round: int = 1


class DesignAccepted(Payload, frozen=True, kw_only=True):
    subtasks: list[Subtask]
    round: int = 1
    reason: str = ""


# ---------------------------------------------------------------- grounding


class DatasetPreferencesSet(Payload, frozen=True, kw_only=True):
    subtask: str
    modality: list[str]
    annotation: str
    domain: str
    reason: str = ""


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    dataset_id: str
    name: str
    score: float


class DatasetsSearched(Payload, frozen=True, kw_only=True):
    subtask: str
    query: str
    method: str  # e.g. "bm25"
    hits: list[SearchHit]


class TransformationPlan(msgspec.Struct, frozen=True, kw_only=True):
    plan_id: str
    subtask: str
    dataset_id: str
    instructions: str  # how a source item becomes a benchmark item
    question_template: str = ""  # the instruction shown to the evaluated model with each item
    input_fields: list[str] = []
    target_field: str = ""
    answer_format: str = "short_answer"
    tools: list[dict[str, Any]] = []  # planned pure-tool calls (name + arguments)
    target_source: str = "source_label"  # source_label | generator


class PlanProposed(Payload, frozen=True, kw_only=True):
    plan: TransformationPlan
    reason: str = ""


class PlanScored(Payload, frozen=True, kw_only=True):
    plan_id: str
    subtask: str
    dataset_id: str
    alignment: float
    robustness: float
    signal_preservation: float
    accepted: bool
    reason: str


class Grounding(msgspec.Struct, frozen=True, kw_only=True):
    subtask: str
    dataset_id: str
    plan_id: str
    capacity: int  # source items available


class SubtaskGrounded(Payload, frozen=True, kw_only=True):
    subtask: str
    groundings: list[Grounding]
    reason: str = ""


class GroundingFailed(Payload, frozen=True, kw_only=True):
    """A subtask could not be grounded; Design revises it."""

    subtask: str
    reason: str
    round: int = 1


class SubtasksGrounded(Payload, frozen=True, kw_only=True):
    groundings: list[Grounding]
    round: int = 1


# --------------------------------------------------------------- allocation


class Quota(msgspec.Struct, frozen=True, kw_only=True):
    subtask: str
    dataset_id: str
    plan_id: str
    count: int


class AllocationDiagnosed(Payload, frozen=True, kw_only=True):
    feasible: bool
    binding_constraint: str
    detail: str
    adjustment: str = ""


class QuotasAllocated(Payload, frozen=True, kw_only=True):
    quotas: list[Quota]
    method: str = "milp"
    reason: str = ""


class SpecFinalized(Payload, frozen=True, kw_only=True):
    """Subtasks, plans and quotas: everything the Executor needs."""

    subtasks: list[Subtask]
    plans: list[TransformationPlan]
    quotas: list[Quota]


# ------------------------------------------------------------- orchestrator


class SlotAssigned(Payload, frozen=True, kw_only=True):
    """A sample slot got a source item (seeded choice among unused items)."""

    sample_id: str
    slot: int
    subtask: str
    dataset_id: str
    plan_id: str
    source_item_id: str
    attempt: int = 1  # 1 = first fill; >1 = replenishment


class SamplePlanned(Payload, frozen=True, kw_only=True):
    """Sample-level planning: the dataset plan specialised to one item."""

    sample_id: str
    plan_id: str
    instructions: str
    tool_calls: list[dict[str, Any]] = []
    specialised: bool = True  # False when sample-planning is disabled
    notes: list[str] = []  # what of the LLM's plan was not used, and why


class BenchmarkItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    subtask: str
    input: str
    choices: list[str] | None = None
    target: str
    media: list[str] = []
    metadata: dict[str, Any] = {}


class SampleRealized(Payload, frozen=True, kw_only=True):
    sample_id: str
    item: BenchmarkItem
    target_from: str  # "source_label:<field path>" or "generator:<name>"
    repair_of: str | None = None


# ----------------------------------------------------------------- verifier


class CheckVerdict(msgspec.Struct, frozen=True, kw_only=True):
    check: str  # format | answerable | answer_matches | depends_on_signal | generator
    passed: bool
    reason: str
    repairable: bool = False


class SampleChecked(Payload, frozen=True, kw_only=True):
    sample_id: str
    verdicts: list[CheckVerdict]


class RepairRequested(Payload, frozen=True, kw_only=True):
    sample_id: str
    reason: str


class SampleAccepted(Payload, frozen=True, kw_only=True):
    sample_id: str
    subtask: str
    reason: str = ""


class SampleRejected(Payload, frozen=True, kw_only=True):
    sample_id: str
    subtask: str
    check: str
    reason: str


class ReplenishRequested(Payload, frozen=True, kw_only=True):
    subtask: str
    dataset_id: str
    plan_id: str
    slot: int
    replaces: str  # the rejected sample id


class QuotaShortfall(Payload, frozen=True, kw_only=True):
    subtask: str
    dataset_id: str
    plan_id: str
    missing: int
    reason: str
    slot: int = -1  # the sample slot left unfilled (-1: not about one slot)


class BenchmarkPublished(Payload, frozen=True, kw_only=True):
    """The accepted samples that make the benchmark; its files are a projection of the log."""

    sample_ids: list[str]
    accepted: int
    rejected: int
    content_hash: str
    files: dict[str, str] = {}  # relative path -> sha256


# ---------------------------------------------------------------- evaluator


class EvaluationRequested(Payload, frozen=True, kw_only=True):
    models: list[str]
    reason: str = ""


class ModelReleased(Payload, frozen=True, kw_only=True):
    model: str


class ModelAnswered(Payload, frozen=True, kw_only=True):
    model: str
    sample_id: str
    answer: str
    score: float
    scorer: str
    detail: dict[str, Any] = {}


class EvaluationScored(Payload, frozen=True, kw_only=True):
    model: str
    accuracy: float
    per_subtask: dict[str, float]
    n: int


Event = (
    RunRequested
    | RunFailed
    | RunCompleted
    | LLMCallRecorded
    | ToolApplied
    | MediaStored
    | SubtasksProposed
    | SubtaskReviewed
    | DesignAccepted
    | DatasetPreferencesSet
    | DatasetsSearched
    | PlanProposed
    | PlanScored
    | SubtaskGrounded
    | GroundingFailed
    | SubtasksGrounded
    | AllocationDiagnosed
    | QuotasAllocated
    | SpecFinalized
    | SlotAssigned
    | SamplePlanned
    | SampleRealized
    | SampleChecked
    | RepairRequested
    | SampleAccepted
    | SampleRejected
    | ReplenishRequested
    | QuotaShortfall
    | BenchmarkPublished
    | EvaluationRequested
    | ModelReleased
    | ModelAnswered
    | EvaluationScored
)

EVENT_TYPES: dict[str, type[Payload]] = {t.__name__: t for t in Event.__args__}  # type: ignore[attr-defined]


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event. `seq`, `time`, `prev_hash` and `hash` are set by the log."""

    event_id: str
    run_id: str
    type: str
    agent: str
    causation_id: str | None
    payload: Event
    schema_version: int = SCHEMA_VERSION
    seq: int = 0
    time: float = 0.0
    prev_hash: str = ""
    hash: str = ""


_encoder = msgspec.json.Encoder(order="deterministic")
_decoder = msgspec.json.Decoder(Envelope)


def encode(env: Envelope) -> bytes:
    """Canonical JSON bytes of an envelope (deterministic key order)."""
    return _encoder.encode(env)


def decode(data: bytes) -> Envelope:
    """Decode stored bytes; raises `msgspec.DecodeError`/`ValidationError` if corrupt."""
    return _decoder.decode(data)


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON for any msgspec-encodable value (used for hashing)."""
    return _encoder.encode(value)


def make_event_id(run_id: str, causation_id: str | None, type_: str, key: str = "") -> str:
    """Deterministic id: the same decision always gets the same id."""
    raw = "\x1f".join((run_id, causation_id or "", type_, key)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


def new_event(
    run_id: str,
    agent: str,
    payload: Payload,
    causation_id: str | None = None,
    key: str = "",
) -> Envelope:
    """Build an unsequenced envelope with its deterministic id."""
    type_ = type(payload).__name__
    return Envelope(
        event_id=make_event_id(run_id, causation_id, type_, key),
        run_id=run_id,
        type=type_,
        agent=agent,
        causation_id=causation_id,
        payload=payload,
    )


def chain_hash(env: Envelope, prev_hash: str) -> str:
    """Hash of an event: its canonical bytes (without `hash`) chained to the previous hash."""
    body = msgspec.structs.replace(env, prev_hash=prev_hash, hash="")
    return hashlib.sha256(prev_hash.encode() + encode(body)).hexdigest()
