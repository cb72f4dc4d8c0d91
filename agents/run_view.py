"""A run's state as a fold over its events: what every agent decides from.

Agents never keep state of their own; they fold `ctx.history()` into a
`RunView`. `ViewCache` keeps one view per run and folds only the events it has
not seen yet (the log is append-only and seq-ordered), which keeps a handler's
cost independent of the run's length. The fold is synchronous, so concurrent
handlers of one process never see a half-updated view.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from agents.base import AgentContext
from store import events as ev
from store.events import Envelope

SlotKey = tuple[str, str, str, int]  # (subtask, dataset_id, plan_id, slot)


@dataclass
class RunView:
    run_id: str
    last_seq: int = 0
    request: Envelope | None = None
    proposals: dict[int, Envelope] = field(default_factory=dict)  # SubtasksProposed by round
    designs: dict[int, Envelope] = field(default_factory=dict)  # DesignAccepted by round
    design_round_of: dict[str, int] = field(default_factory=dict)  # DesignAccepted id -> round
    grounding_failed: dict[int, list[Envelope]] = field(default_factory=lambda: defaultdict(list))
    subtask_grounded: dict[int, list[Envelope]] = field(default_factory=lambda: defaultdict(list))
    grounded: dict[int, Envelope] = field(default_factory=dict)  # SubtasksGrounded by round
    plans: dict[str, ev.TransformationPlan] = field(default_factory=dict)
    spec: Envelope | None = None
    slots: dict[str, ev.SlotAssigned] = field(default_factory=dict)
    slot_events: dict[str, Envelope] = field(default_factory=dict)
    attempts: dict[SlotKey, dict[int, str]] = field(default_factory=lambda: defaultdict(dict))
    realized: dict[str, Envelope] = field(default_factory=dict)  # the latest per sample
    checked: dict[str, list[Envelope]] = field(default_factory=lambda: defaultdict(list))
    repairs: dict[str, Envelope] = field(default_factory=dict)
    accepted: dict[str, Envelope] = field(default_factory=dict)
    rejected: dict[str, Envelope] = field(default_factory=dict)
    replenish: dict[str, Envelope] = field(default_factory=dict)  # by event id
    shortfalls: dict[SlotKey, Envelope] = field(default_factory=dict)
    media: set[str] = field(default_factory=set)
    filled: set[SlotKey] = field(default_factory=set)  # slots with an accepted sample
    published: Envelope | None = None
    eval_requests: list[Envelope] = field(default_factory=list)
    eval_scored: dict[str, list[Envelope]] = field(default_factory=lambda: defaultdict(list))
    completed: Envelope | None = None
    failed: Envelope | None = None
    llm_calls: int = 0
    llm_errors: int = 0
    llm_tokens: int = 0

    # ------------------------------------------------------------------ fold

    def fold(self, env: Envelope) -> None:
        self.last_seq = env.seq
        p = env.payload
        match p:
            case ev.LLMCallRecorded():
                self.llm_calls += 1
                self.llm_errors += p.error is not None
                self.llm_tokens += p.prompt_tokens + p.completion_tokens
            case ev.RunRequested():
                if self.request is None:
                    self.request = env
            case ev.SubtasksProposed():
                self.proposals.setdefault(p.round, env)
            case ev.DesignAccepted():
                self.designs.setdefault(p.round, env)
                self.design_round_of[env.event_id] = p.round
            case ev.GroundingFailed():
                self.grounding_failed[p.round].append(env)
            case ev.SubtaskGrounded():
                self.subtask_grounded[self.design_round_of.get(env.causation_id or "", 0)].append(env)
            case ev.SubtasksGrounded():
                self.grounded.setdefault(p.round, env)
            case ev.PlanProposed():
                self.plans.setdefault(p.plan.plan_id, p.plan)
            case ev.SpecFinalized():
                if self.spec is None:
                    self.spec = env
            case ev.SlotAssigned():
                if p.sample_id not in self.slots:
                    self.slots[p.sample_id] = p
                    self.slot_events[p.sample_id] = env
                    self.attempts[slot_key(p)][p.attempt] = p.sample_id
            case ev.SampleRealized():
                self.realized[p.sample_id] = env
            case ev.SampleChecked():
                self.checked[p.sample_id].append(env)
            case ev.RepairRequested():
                self.repairs.setdefault(p.sample_id, env)
            case ev.SampleAccepted():
                self.accepted.setdefault(p.sample_id, env)
                slot = self.slots.get(p.sample_id)
                if slot is not None:
                    self.filled.add(slot_key(slot))
            case ev.SampleRejected():
                self.rejected.setdefault(p.sample_id, env)
            case ev.ReplenishRequested():
                self.replenish[env.event_id] = env
            case ev.QuotaShortfall():
                if p.slot >= 0:
                    self.shortfalls.setdefault((p.subtask, p.dataset_id, p.plan_id, p.slot), env)
                elif (cause := self.replenish.get(env.causation_id or "")) is not None:
                    r = cause.payload
                    self.shortfalls.setdefault((r.subtask, r.dataset_id, r.plan_id, r.slot), env)
            case ev.MediaStored():
                self.media.add(p.name)
            case ev.BenchmarkPublished():
                if self.published is None:
                    self.published = env
            case ev.EvaluationRequested():
                self.eval_requests.append(env)
            case ev.EvaluationScored():
                self.eval_scored[env.causation_id or ""].append(env)
            case ev.RunCompleted():
                self.completed = self.completed or env
            case ev.RunFailed():
                self.failed = self.failed or env

    # --------------------------------------------------------------- queries

    @property
    def finished(self) -> bool:
        return self.completed is not None or self.failed is not None

    def request_payload(self) -> ev.RunRequested:
        if self.request is None:
            raise LookupError(f"run {self.run_id} has no RunRequested event")
        return self.request.payload  # type: ignore[return-value]

    def spec_payload(self) -> ev.SpecFinalized | None:
        return self.spec.payload if self.spec is not None else None  # type: ignore[return-value]

    def slot_keys(self) -> list[SlotKey]:
        """Every sample slot the spec asks for, in a stable order."""
        spec = self.spec_payload()
        if spec is None:
            return []
        keys = []
        for q in spec.quotas:
            keys += [(q.subtask, q.dataset_id, q.plan_id, s) for s in range(q.count)]
        return keys

    def slot_state(self, key: SlotKey) -> str:
        """accepted | exhausted | pending."""
        for sid in self.attempts.get(key, {}).values():
            if sid in self.accepted:
                return "accepted"
        if key in self.shortfalls:
            return "exhausted"
        return "pending"

    def accepted_in_slots(self) -> list[str]:
        """The accepted sample of every accepted slot (one per slot), sorted."""
        out = []
        for key in self.slot_keys():
            ids = [sid for _, sid in sorted(self.attempts.get(key, {}).items())]
            out += [sid for sid in ids if sid in self.accepted][:1]
        return sorted(out)

    def all_slots_resolved(self) -> bool:
        """Every slot of the spec is filled or reported short (counted incrementally)."""
        spec = self.spec_payload()
        if spec is None:
            return False
        total = sum(q.count for q in spec.quotas)
        return total > 0 and len(self.filled | self.shortfalls.keys()) >= total

    def stage(self) -> str:
        """The pipeline stage the run has reached (for progress displays)."""
        if self.failed is not None:
            return "failed"
        if self.completed is not None:
            return "completed"
        if self.published is not None:
            return "evaluation"
        if self.spec is not None:
            return "realization"
        if self.grounded:
            return "allocation"
        if self.designs:
            return "grounding"
        return "design"


def slot_key(p: ev.SlotAssigned | ev.ReplenishRequested) -> SlotKey:
    return (p.subtask, p.dataset_id, p.plan_id, p.slot)


class ViewCache:
    """One incrementally folded `RunView` per run, for one agent object.

    Only the most recently used `max_runs` views are kept (a daemon serves many runs); an
    evicted view is simply folded again from the history when its run comes back.
    """

    def __init__(self, max_runs: int = 64) -> None:
        self._views: OrderedDict[str, RunView] = OrderedDict()
        self._max_runs = max_runs

    def fold(self, run_id: str, events: list[Envelope]) -> RunView:
        view = self._views.get(run_id)
        if view is None:
            view = self._views[run_id] = RunView(run_id)
            while len(self._views) > self._max_runs:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(run_id)
        start = view.last_seq
        # The log's seqs are gapless from 1, so the unseen events start at index last_seq.
        if start < len(events) and events[start].seq == start + 1:
            tail = events[start:]
        else:
            tail = [e for e in events if e.seq > start]
        for env in tail:
            view.fold(env)
        return view

    async def current(self, ctx: AgentContext) -> RunView:
        """The view of `ctx`'s run, up to date with its history."""
        return self.fold(ctx.run_id, await ctx.history())

    def forget(self, run_id: str) -> None:
        self._views.pop(run_id, None)
