"""The events: benchagent's domain language.

Every decision is one of the payload Structs below, carried in an `Envelope`.
Payloads form a msgspec tagged union (tag = class name), so an envelope
decodes to the right payload type without a registry lookup. An event type's
name is `type_name(cls)`, that tag: `Envelope.type`, NATS subjects and AutoGen
topics all come from it, never from a string written by hand.

Closed vocabularies (roles, check names, review decisions, answer formats) are
`Literal`s: a value outside them is refused when the event is decoded. Where a
benchmark item came from is one tagged union, `ItemSource`.

Identity and integrity:
- `event_id` is deterministic (`make_event_id`): the same decision re-emitted
  after a crash has the same id, and the log's dedup turns it into a no-op.
- `seq` is assigned by the log (per run, gapless, from 1).
- `prev_hash`/`hash` form a per-run hash chain (`chain_hash`), set by the log
  at append time, so `benchagent verify` can name the first tampered event.
"""

from __future__ import annotations

import hashlib
from typing import Any, Generic, Literal, TypeVar, get_args

import msgspec

from store.quality import (
    HumanMarks,
    ItemJudgement,
    ItemScores,
    JudgedAnswer,
    MetricScore,
)

# 2: SampleRealized.target_from (a string) became SampleRealized.source (ItemSource).
# 3: MediaStored carries sha256 and size; its bytes live in the blob store (store/blobs.py).
SCHEMA_VERSION = 3
GENESIS_HASH = "0" * 64

Role = Literal["design", "grounding", "allocation", "orchestrator", "verifier", "evaluator"]
ROLES: tuple[Role, ...] = get_args(Role)
# The programmatic checks of a source item (agents/item_checks.py), made before any model call.
ItemCheckName = Literal["placeholder", "truncated_option", "duplicate_option",
                        "answer_in_question", "answer_is_premise", "dangling_premise",
                        "too_few_options",
                        "empty_context", "boilerplate", "offensive", "register"]
CheckName = Literal["format", "answerable", "answer_matches", "depends_on_signal", "generator",
                    "separates", "option_order", "unambiguous"] | ItemCheckName
ReviewDecision = Literal["keep", "revise", "discard"]
REVIEW_DECISIONS: tuple[ReviewDecision, ...] = get_args(ReviewDecision)
# What the LLM may choose (agents/prompts), plus "any" (design disabled) and "generator".
AnswerFormat = Literal["multiple_choice", "short_answer", "free_text", "any", "generator"]
ANSWER_FORMATS: tuple[AnswerFormat, ...] = get_args(AnswerFormat)
TargetSource = Literal["source_label", "generator"]

V = TypeVar("V", bound=str)


def closed_value(value: object, vocabulary: tuple[V, ...]) -> V:
    """`value` as a member of a closed vocabulary; `ValueError` naming the members if it is
    none (an event holding it could not be decoded)."""
    for member in vocabulary:
        if member == value:
            return member
    raise ValueError(f"{value!r} is not one of {', '.join(vocabulary)}")


class Payload(msgspec.Struct, frozen=True, kw_only=True, tag=True, omit_defaults=False):
    """Base of every event payload; the tag is the class name."""


def type_name(cls: type[Payload]) -> str:
    """The name of an event type: its msgspec tag (the class name)."""
    tag = cls.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{cls.__name__} is not a tagged event payload")
    return tag


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
    """The run is wrong (infeasible, exhausted, a handler bug): final, never resumed."""

    stage: Role
    reason: str


# Why a run stopped: a service it needs failed beyond its retry budget, or a person (or a
# supervisor) stopped the process that drove it. Neither is the run's fault.
StopCause = Literal["model_unavailable", "store_unavailable", "interrupted"]


class RunStopped(Payload, frozen=True, kw_only=True):
    """The world failed, not the run: it waits for `benchagent build --resume RUN_ID`.

    Caused by the event whose handler stopped (None when the driving process was
    interrupted); handlers take no new event of a stopped run until `RunResumed`."""

    stage: Role | Literal["cli"]
    cause: StopCause
    reason: str


class RunResumed(Payload, frozen=True, kw_only=True):
    """`benchagent build --resume` took the run up again: every event a role has not reacted
    to is delivered again, recorded answers are reused."""

    after_seq: int  # the log's last seq when the run was resumed
    stopped_seq: int | None = None  # the RunStopped it answers, if the run had stopped


class RunStalled(Payload, frozen=True, kw_only=True):
    """The driving process saw no role with work, queued or being handled, for `quiet_s`
    seconds, and the run had not ended: a handler dropped what the run waited for. The
    Orchestrator reports every open slot short, so the run publishes what it accepted; a
    run still open after that waits for `build --resume` (recorded answers are reused)."""

    after_seq: int  # the log's last seq while the run was quiet
    quiet_s: float
    reason: str


class RunCompleted(Payload, frozen=True, kw_only=True):
    """The run has nothing left to do (published and, if asked, evaluated)."""

    accepted: int
    rejected: int
    content_hash: str


# ------------------------------------------------------------ nondeterminism


# The role a model under evaluation answers under: `eval:<model spec>` (agents/models.py).
EVAL_ROLE_PREFIX = "eval:"


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
    # Asked for (`LLM.complete_choice`): the answer's first token's likeliest alternatives,
    # token text → log-probability, as the model reported them.
    first_token_logprobs: dict[str, float] | None = None




def is_reaction(env: Envelope[Payload]) -> bool:
    """Whether `env` is a decision taken in reaction to its cause (not a work record)."""
    return env.causation_id is not None and not isinstance(env.payload, WORK_IN_PROGRESS)


class ToolApplied(Payload, frozen=True, kw_only=True):
    """A pure tool ran; outputs are content hashes of produced files/values."""

    sample_id: str
    tool: str
    version: str
    arguments: dict[str, Any]
    outputs: dict[str, str] = {}  # logical name -> sha256 (or value)
    error: str | None = None


class MediaStored(Payload, frozen=True, kw_only=True):
    """A produced media file: its bytes are in the run's blob store (store/blobs.py) under
    `sha256`, stored BEFORE this event was appended, so replay needs no tool and no source,
    and no event carries megabytes."""

    sha256: str
    name: str  # content-addressed relative path under media/: media/<sha256>.<ext>
    size: int  # bytes


# ------------------------------------------------------------------- design


class Subtask(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str
    capability: str
    answer_format: AnswerFormat
    # What this subtask's items test that the other subtasks' do not (Design's own words).
    distinct_focus: str = ""


class NearDuplicate(msgspec.Struct, frozen=True, kw_only=True):
    """A proposed subtask dropped as a near-duplicate of one kept (agents/subtask_overlap)."""

    name: str
    duplicate_of: str
    similarity: float  # character n-gram cosine of what the two say they test


class BuildStep(msgspec.Struct, frozen=True, kw_only=True):
    """A proposed subtask dropped as a step of building a model, not a test item
    (agents/build_steps)."""

    name: str
    step: str  # what its name or capability says it does ("model training")


class SubtasksProposed(Payload, frozen=True, kw_only=True):
    candidates: list[Subtask]
    reason: str = ""
    round: int = 1
    near_duplicates: list[NearDuplicate] = []  # proposals dropped before review
    build_steps: list[BuildStep] = []  # proposals dropped before review


class SubtaskReviewed(Payload, frozen=True, kw_only=True):
    name: str
    decision: ReviewDecision
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


class DatasetRelevance(msgspec.Struct, frozen=True, kw_only=True):
    """How many of a dataset's sampled questions ask what a subtask tests (agents/relevance)."""

    dataset_id: str
    on_target: float  # share of sampled questions with a cue of the subtask's capability
    sampled: int
    kept: bool  # False: filtered at grounding, no plan asked for
    examples: list[str] = []  # a few off-target questions, for the reason
    # For a subtask about everyday life: the share of sampled items (question and options, or
    # a generator's rendered items) in the everyday register (agents/register.py); None when
    # the subtask names no everyday life or the dataset is measured by its card.
    register: float | None = None


class DatasetsSearched(Payload, frozen=True, kw_only=True):
    subtask: str
    query: str
    method: str  # e.g. "bm25"
    hits: list[SearchHit]
    relevance: list[DatasetRelevance] = []  # per hit measured; plans only for the kept ones


class TransformationPlan(msgspec.Struct, frozen=True, kw_only=True):
    plan_id: str
    subtask: str
    dataset_id: str
    instructions: str  # how a source item becomes a benchmark item
    question_template: str = ""  # the instruction shown to the evaluated model with each item
    input_fields: list[str] = []
    target_field: str = ""
    answer_format: AnswerFormat = "short_answer"
    tools: list[dict[str, Any]] = []  # planned pure-tool calls (name + arguments)
    target_source: TargetSource = "source_label"


class PlanProposed(Payload, frozen=True, kw_only=True):
    plan: TransformationPlan
    reason: str = ""


class PlanSignals(msgspec.Struct, frozen=True, kw_only=True):
    """What was measured of a plan on the dataset's own items (agents/plan_signals)."""

    template_fills: bool  # the instruction's placeholders are the item's own fields
    target_is_label: bool  # the target is the dataset's label, not an input
    fields_present: float  # share of sampled items with the fields the plan needs
    items_pass: float  # share of the items it builds that pass agents/item_checks
    on_target: float  # share of the dataset's sampled questions on the subtask's capability
    sampled: int
    problems: list[str] = []  # each rejects the plan


class PlanScored(Payload, frozen=True, kw_only=True):
    plan_id: str
    subtask: str
    dataset_id: str
    alignment: float  # with `signals`: half the model's score, half the measured one
    robustness: float
    signal_preservation: float
    accepted: bool
    reason: str
    signals: PlanSignals | None = None
    llm_scores: list[float] = []  # the model's own alignment, robustness, preservation


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


class SlotMove(msgspec.Struct, frozen=True, kw_only=True):
    """The quota a moved slot belongs to, and why its attempt draws on another grounding."""

    dataset_id: str
    plan_id: str
    reason: str


class SlotAssigned(Payload, frozen=True, kw_only=True):
    """A sample slot got a source item (seeded choice among unused items)."""

    sample_id: str
    slot: int
    subtask: str
    dataset_id: str  # where the item comes from (and `plan_id`, how it is made)
    plan_id: str
    source_item_id: str
    attempt: int = 1  # 1 = first fill; >1 = replenishment
    # Set when the slot of another quota of the subtask (its dataset and plan) draws on this
    # grounding: that grounding failed the slot and this one, a generator, has filled slots.
    moved_from: SlotMove | None = None

    @property
    def quota_dataset_id(self) -> str:
        """The dataset of the quota whose slot this attempt fills."""
        return self.moved_from.dataset_id if self.moved_from else self.dataset_id

    @property
    def quota_plan_id(self) -> str:
        return self.moved_from.plan_id if self.moved_from else self.plan_id


class SamplePlanned(Payload, frozen=True, kw_only=True):
    """Sample-level planning: the dataset plan specialised to one item."""

    sample_id: str
    plan_id: str
    instructions: str
    tool_calls: list[dict[str, Any]] = []
    specialised: bool = True  # False when no model was asked (nothing to specialise, a
    # source item the Verifier rejects anyway, or sample-planning disabled): `notes` says why
    notes: list[str] = []  # what of the LLM's plan was not used, and why
    # Why the planned question was dropped for the source's own ("" when it was used or none
    # was written): it gave the answer away, dropped the source's key entities, or made the
    # item fail a programmatic check the source question passes.
    fallback: str = ""


class BenchmarkItem(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    subtask: str
    input: str
    choices: list[str] | None = None
    target: str
    media: list[str] = []
    metadata: dict[str, Any] = {}


class SourceLabel(msgspec.Struct, frozen=True, kw_only=True, tag="source_label"):
    """The item's target is the label of a real dataset item, at `field_path` of its record."""

    dataset_id: str
    item_id: str
    field_path: str


class GeneratedBy(msgspec.Struct, frozen=True, kw_only=True, tag="generator"):
    """The item is an instance of a procedural generator: re-created from these alone."""

    name: str
    version: str
    seed: int
    params: dict[str, Any] = {}


ItemSource = SourceLabel | GeneratedBy


# A synthesized generator's name starts with this; built-in names never do.
SYNTHESIZED_PREFIX = "synth-"


def is_synthesized(generator: str) -> bool:
    """Whether a generator name is one a run synthesized (its code lives in the run's log)."""
    return generator.startswith(SYNTHESIZED_PREFIX)


def target_from(source: ItemSource) -> str:
    """Where the target came from, as the benchmark files say it: `source_label:<field path>`,
    `generator:<name>` (built in), or `generator:<name>@<version>` (synthesized: the version
    is its source's sha256 prefix)."""
    if isinstance(source, GeneratedBy):
        if is_synthesized(source.name):
            return f"generator:{source.name}@{source.version}"
        return f"generator:{source.name}"
    return f"source_label:{source.field_path}"


class SampleRealized(Payload, frozen=True, kw_only=True):
    sample_id: str
    item: BenchmarkItem
    source: ItemSource
    repair_of: str | None = None
    # Set on a re-realization that restored the source's question (`repair_of` names the
    # sample): why the rewritten question was dropped (its blind answer missed the label).
    fallback: str = ""

    @property
    def generated_by(self) -> GeneratedBy | None:
        """The generator that made the item; None for an item of a real dataset."""
        return self.source if isinstance(self.source, GeneratedBy) else None


# ----------------------------------------------------------------- verifier


class CheckVerdict(msgspec.Struct, frozen=True, kw_only=True):
    check: CheckName
    passed: bool
    reason: str
    repairable: bool = False


class SampleChecked(Payload, frozen=True, kw_only=True):
    sample_id: str
    verdicts: list[CheckVerdict]


class RepairRequested(Payload, frozen=True, kw_only=True):
    sample_id: str
    reason: str
    # The rewritten question is dropped and the source's restored (no model call), rather
    # than reworded again: its blind answer no longer reached the source label.
    restore_source_question: bool = False


class SampleAccepted(Payload, frozen=True, kw_only=True):
    sample_id: str
    subtask: str
    reason: str = ""


class SampleRejected(Payload, frozen=True, kw_only=True):
    sample_id: str
    subtask: str
    check: CheckName
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


# ---------------------------------------------------- synthesized generators

ParamKind = Literal["int", "float", "bool", "choice"]
PARAM_KINDS: tuple[ParamKind, ...] = get_args(ParamKind)
Author = Literal["grounding", "user"]
SynthesisStage = Literal["code", "items"]
CheckStatus = Literal["passed", "failed", "skipped"]


class PlannedParam(msgspec.Struct, frozen=True, kw_only=True):
    """A parameter of a generator plan: int/float ranges, or choices."""

    name: str
    kind: ParamKind
    low: float | None = None
    high: float | None = None
    choices: list[Any] | None = None
    description: str = ""


class PlannedCheck(msgspec.Struct, frozen=True, kw_only=True):
    """A check the generator's own `checks()` must implement, by name."""

    name: str
    description: str


class GeneratorPlan(msgspec.Struct, frozen=True, kw_only=True):
    """BenchAgents' P-Agent plan for one subtask's generator."""

    plan_id: str  # the TransformationPlan this generator grounds
    subtask: str
    name: str  # SYNTHESIZED_PREFIX + slug
    description: str  # what one instance asks
    params: list[PlannedParam]
    constraints: list[str] = []
    checks: list[PlannedCheck] = []
    complexity: str = ""  # how difficulty is measured, in [0, 1]
    metric: str = ""  # how an answer is scored
    multiple_choice: bool = False


class GeneratorPlanned(Payload, frozen=True, kw_only=True):
    """A generator plan (revision 1: the model's; later: the developer's edits applied)."""

    plan: GeneratorPlan
    round: int = 1  # the design round
    revision: int = 1
    by: Author = "grounding"
    reason: str = ""


class GeneratorDrafted(Payload, frozen=True, kw_only=True):
    """One attempt at the template's parts (by the model, or the developer's own)."""

    name: str
    revision: int
    attempt: int
    parts: str
    source_sha256: str = ""  # of the composed module; "" when the parts are not Python
    by: Author = "grounding"
    # parameters the model read under a near name, renamed to the plan's (agents/synthesis/parts)
    renamed: dict[str, str] = {}
    # allowed modules the model used without importing them, imported for it (same module)
    imported: list[str] = []
    # plan parameters a function of `problem` used without reading them, read for it
    # ("checks:seconds": `seconds = problem['seconds']` put first in checks)
    unpacked: list[str] = []


class SynthesisCheck(msgspec.Struct, frozen=True, kw_only=True):
    check: str
    status: CheckStatus
    summary: str


class GeneratorChecked(Payload, frozen=True, kw_only=True):
    """The verdict on one attempt: the code in the sandbox, or its rendered items."""

    name: str
    revision: int
    attempt: int
    stage: SynthesisStage
    source_sha256: str
    passed: bool
    checks: list[SynthesisCheck]
    feedback: str = ""  # what goes back to the model for its next attempt
    seconds: float = 0.0


class GeneratorSynthesized(Payload, frozen=True, kw_only=True):
    """A generator that passed every check: its recorded source is the only code that makes,
    verifies and scores its items (`GeneratedBy.version` = `version`)."""

    name: str
    revision: int
    plan_id: str
    subtask: str
    description: str
    source: str  # the composed module
    sha256: str
    version: str  # sha256[:12]
    parts: str
    params: list[PlannedParam]
    multiple_choice: bool = False
    attempts: int = 1


# Records of work in progress: a handler writes them while it works (before its decisions),
# so they never count as its reaction to the event it handles; resume re-delivers an event
# whose handler was killed after recording an LLM call, or a synthesis attempt, but before
# deciding (`GeneratorSynthesized` or the subtask's `GroundingFailed`), or that stopped the
# run (`RunStopped` is caused by the event whose handler could not go on).
WORK_IN_PROGRESS: tuple[type[Payload], ...] = (
    LLMCallRecorded, GeneratorPlanned, GeneratorDrafted, GeneratorChecked, RunStopped)


# --------------------------------------------------- the developer in the loop


class SpecProposed(Payload, frozen=True, kw_only=True):
    """The spec of a `--plan-only` run: it waits for `SpecApproved` before realization."""

    subtasks: list[Subtask]
    plans: list[TransformationPlan]
    quotas: list[Quota]


class DropSubtask(msgspec.Struct, frozen=True, kw_only=True, tag="drop_subtask"):
    subtask: str


class RenameSubtask(msgspec.Struct, frozen=True, kw_only=True, tag="rename_subtask"):
    subtask: str
    to: str


class SetQuota(msgspec.Struct, frozen=True, kw_only=True, tag="set_quota"):
    subtask: str
    count: int


class SetParamRange(msgspec.Struct, frozen=True, kw_only=True, tag="set_param_range"):
    generator: str
    param: str
    low: float | None = None
    high: float | None = None
    choices: list[Any] | None = None


class SetCheck(msgspec.Struct, frozen=True, kw_only=True, tag="set_check"):
    generator: str
    check: str
    description: str | None = None  # None: drop the check


class SetParts(msgspec.Struct, frozen=True, kw_only=True, tag="set_parts"):
    """The developer's own template parts for a generator (checked like the model's)."""

    generator: str
    parts: str


PlanEdit = DropSubtask | RenameSubtask | SetQuota | SetParamRange | SetCheck | SetParts


class PlanEdited(Payload, frozen=True, kw_only=True):
    """One edit of the proposed plan, attributed to the user who approved it."""

    edit: PlanEdit
    by: str = "user"


class SpecApproved(Payload, frozen=True, kw_only=True):
    """The developer approved the proposed plan with the `PlanEdited` events before it."""

    edits: int = 0
    by: str = "user"


class GeneratorsRevised(Payload, frozen=True, kw_only=True):
    """After approval: the generators the developer's edits touched are checked again (and
    re-synthesized where needed); the approved plan can be finalized."""

    names: list[str] = []
    reason: str = ""


# ---------------------------------------------------------------- evaluator


class EvaluationRequested(Payload, frozen=True, kw_only=True):
    models: list[str]
    reason: str = ""
    # The judge of open-ended answers (a model spec); "" = the run's judge role (role_models
    # "judge", else the backbone).
    judge: str = ""
    expected_order: list[str] = []  # --expect-order: the models, weakest first


class ModelReleased(Payload, frozen=True, kw_only=True):
    """A model to evaluate on this run's benchmark (recorded by the watcher, `benchagent watch`)."""

    model: str
    source: str = ""  # where the watcher found it (openai:URL, folder:DIR, catalogue)
    key_env: str = ""  # name of the variable holding its API key ("" = the run's llm_key_env)
    discovered_at: float = 0.0  # when the watcher first saw it listed (unix time)


class ModelAnswered(Payload, frozen=True, kw_only=True):
    model: str
    sample_id: str
    answer: str
    score: float
    scorer: str
    detail: dict[str, Any] = {}
    judged: JudgedAnswer | None = None  # an open-ended answer scored against its rubric


class EvaluationScored(Payload, frozen=True, kw_only=True):
    model: str
    accuracy: float
    per_subtask: dict[str, float]
    n: int


# ------------------------------------------------------------------ quality


class JudgeRequested(Payload, frozen=True, kw_only=True):
    """Judge the published benchmark (Benchmark Agent §4.1): the items named, then UIA.

    `judge` is the model spec as displayed (no credentials); recording it here makes a
    resumed judgement ask the same model. `vision`: whether that model was given images."""

    judge: str
    vision: bool
    sample_ids: list[str]
    items: int | None = None  # --items N (None: every published item)
    seed: int = 0  # of the item sample


class ItemJudged(Payload, frozen=True, kw_only=True):
    """The judge's FSQ, QAC, CQC, TSD and SSC of one item, each with its reason."""

    sample_id: str
    scores: ItemScores
    judge: str
    unseen_media: list[str] = []  # media the judge was told it could not see
    self_judged: bool = False  # the judge is the backbone that built the benchmark

    def judgement(self) -> ItemJudgement:
        return ItemJudgement(sample_id=self.sample_id, scores=self.scores, judge=self.judge,
                             unseen_media=list(self.unseen_media))


class BenchmarkJudged(Payload, frozen=True, kw_only=True):
    """The judge's User-Intention Alignment of the whole benchmark; closes a JudgeRequested
    (the request's `ItemJudged` events come in the same batch, before it)."""

    uia: MetricScore
    judge: str
    builder: str  # the run's backbone
    self_judged: bool
    items_judged: int
    items_shown: list[str] = []  # sample ids shown to the judge as examples
    unjudged: dict[str, str] = {}  # sample id -> why the judge gave no usable answer


class JudgingFailed(Payload, frozen=True, kw_only=True):
    """A JudgeRequested that could not be answered (e.g. the UIA call failed)."""

    reason: str


class HumanReviewed(Payload, frozen=True, kw_only=True):
    """A person's marks (1-5: correct, clear, answerable, relevant) for one item."""

    sample_id: str
    marks: HumanMarks
    comment: str = ""
    sheet: str = ""  # the imported file's name and sha256 prefix


class AblationLinked(Payload, frozen=True, kw_only=True):
    """This run is one variant of an ablation (`benchagent ablate`); its siblings' run ids."""

    group: str
    variant: str
    runs: dict[str, str]  # variant -> run id, every variant of the group
class EvaluationFailed(Payload, frozen=True, kw_only=True):
    """Every call to the model failed: no score, and the reason (first error) instead."""

    model: str
    reason: str
    n: int  # items it was asked


# ------------------------------------------------------------------- daemon
# `benchagent watch` keeps a stream of its own (run id "watcher", no RunRequested)
# for what it learns of its model sources and what its budget stopped. What concerns one
# benchmark (a model released on it, its saturation, a refresh's link to its parent) goes
# into that benchmark's run.

BudgetKind = Literal["runs", "calls"]
SaturationScope = Literal["benchmark", "subtask"]


class ModelDiscovered(Payload, frozen=True, kw_only=True):
    """A source lists a model the watcher had not seen there (or not since it was withdrawn)."""

    source: str  # openai:URL | folder:DIR | catalogue
    model: str  # the model spec evaluations use
    key_env: str = ""  # name of the variable holding its API key ("" = none)
    appearance: int = 1  # 2, 3...: listed again after as many withdrawals


class ModelWithdrawn(Payload, frozen=True, kw_only=True):
    """A source that answered no longer lists a model: it is evaluated on nothing new."""

    source: str
    model: str
    appearance: int  # the appearance that ended


class BudgetExhausted(Payload, frozen=True, kw_only=True):
    """The day's budget stopped the watcher from starting something (recorded once a day)."""

    day: str  # UTC, YYYY-MM-DD
    kind: BudgetKind
    limit: int
    used: int  # spent today when it stopped
    needed: int  # what the stopped work would have cost at least
    stopped: str  # e.g. "evaluate MODEL on RUN", "refresh RUN"


class BenchmarkSaturated(Payload, frozen=True, kw_only=True):
    """The best model reached the threshold on the benchmark (or one subtask): it no longer
    separates models well. `evidence`: every scored model's accuracy in that scope."""

    scope: SaturationScope
    subtask: str | None = None
    model: str
    accuracy: float
    threshold: float
    n: int  # items in the scope
    evidence: dict[str, float]
    scored_event: str  # id of the EvaluationScored that reached the threshold


class GeneratorShift(msgspec.Struct, frozen=True, kw_only=True):
    """A generator plan's parameters moved toward higher complexity (measured, not guessed)."""

    plan_id: str
    generator: str
    params_before: dict[str, Any]
    params_after: dict[str, Any]
    complexity_before: float  # mean instance complexity over the probe seeds
    complexity_after: float


class RefreshRequested(Payload, frozen=True, kw_only=True):
    """This run refreshes a saturated benchmark: same requirement and spec, made harder.

    Recorded with the run's `RunRequested` and its (inherited) `SpecFinalized` in one batch:
    the Design agent leaves a refresh alone, the Orchestrator draws no item of `excluded`,
    and the Verifier rejects an item that every model of `separate` solves.
    """

    parent_run: str
    root_run: str  # v1 of the lineage
    version: int  # 2 for the first refresh of root_run
    saturation: list[str]  # ids of the parent's BenchmarkSaturated events
    excluded: dict[str, list[str]]  # dataset id -> source item ids the parent used
    harder: list[GeneratorShift] = []
    separate: list[str] = []  # models evaluated on the parent (at least two, else none)
    solved_by_all: int = 0  # parent items every evaluated model solved
    reason: str = ""


Event = (
    RunRequested
    | RunFailed
    | RunStopped
    | RunResumed
    | RunStalled
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
    | GeneratorPlanned
    | GeneratorDrafted
    | GeneratorChecked
    | GeneratorSynthesized
    | SpecProposed
    | PlanEdited
    | SpecApproved
    | GeneratorsRevised
    | EvaluationRequested
    | ModelReleased
    | ModelAnswered
    | EvaluationScored
    | JudgeRequested
    | ItemJudged
    | BenchmarkJudged
    | JudgingFailed
    | HumanReviewed
    | AblationLinked
    | EvaluationFailed
    | ModelDiscovered
    | ModelWithdrawn
    | BudgetExhausted
    | BenchmarkSaturated
    | RefreshRequested
)

EVENT_TYPES: dict[str, type[Payload]] = {type_name(t): t for t in get_args(Event)}

P = TypeVar("P", bound=Payload, covariant=True)


class Envelope(msgspec.Struct, Generic[P], frozen=True, kw_only=True):
    """One stored event. `seq`, `time`, `prev_hash` and `hash` are set by the log.

    `type` is stored (readers of the raw log and old logs rely on it) but never chosen:
    it is `type_name` of the payload's class, filled in when left empty, and an envelope
    whose `type` disagrees with its payload is refused (also when decoded).
    """

    event_id: str
    run_id: str
    type: str = ""
    agent: str
    causation_id: str | None
    payload: P
    schema_version: int = SCHEMA_VERSION
    seq: int = 0
    time: float = 0.0
    prev_hash: str = ""
    hash: str = ""

    def __post_init__(self) -> None:
        name = type_name(type(self.payload))
        if not self.type:
            msgspec.structs.force_setattr(self, "type", name)
        elif self.type != name:
            raise ValueError(f"envelope type {self.type!r} is not its payload's type {name!r}")


# An envelope as the log gives it back: its payload is one of the event types.
EventEnvelope = Envelope[Event]

_encoder = msgspec.json.Encoder(order="deterministic")
_decoder = msgspec.json.Decoder(EventEnvelope)


def encode(env: Envelope[Payload]) -> bytes:
    """Canonical JSON bytes of an envelope (deterministic key order)."""
    return _encoder.encode(env)


def decode(data: bytes) -> EventEnvelope:
    """Decode stored bytes; raises `msgspec.DecodeError`/`ValidationError` if corrupt."""
    return _decoder.decode(data)


def make_event_id(run_id: str, causation_id: str | None, type_: str, key: str = "") -> str:
    """Deterministic id: the same decision always gets the same id."""
    raw = "\x1f".join((run_id, causation_id or "", type_, key)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


PayloadT = TypeVar("PayloadT", bound=Payload)


def new_event(
    run_id: str,
    agent: str,
    payload: PayloadT,
    causation_id: str | None = None,
    key: str = "",
) -> Envelope[PayloadT]:
    """Build an unsequenced envelope with its deterministic id (its `type` from the payload)."""
    return Envelope(
        event_id=make_event_id(run_id, causation_id, type_name(type(payload)), key),
        run_id=run_id,
        agent=agent,
        causation_id=causation_id,
        payload=payload,
    )


def chain_hash(env: Envelope[Payload], prev_hash: str) -> str:
    """Hash of an event: its canonical bytes (without `hash`) chained to the previous hash."""
    body = msgspec.structs.replace(env, prev_hash=prev_hash, hash="")
    return hashlib.sha256(prev_hash.encode() + encode(body)).hexdigest()
