"""One-line summaries of events, for `benchagent log` and `benchagent audit`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from store import events as ev
from store.events import Envelope, EventEnvelope, Payload
from store.quality import ITEM_METRICS


def _short(text: str, n: int = 70) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def summarize(env: EventEnvelope) -> str:
    """What the event decided, in one line."""
    p = env.payload
    match p:
        case ev.RunRequested():
            off = f", disabled={','.join(p.disabled)}" if p.disabled else ""
            return f"size={p.size} seed={p.seed} llm={p.llm}{off}: {_short(p.requirement, 50)}"
        case ev.LLMCallRecorded():
            outcome = f"error: {_short(p.error, 40)}" if p.error else f"{p.completion_tokens} tok"
            return f"{p.role}/{p.purpose} attempt {p.attempt} on {p.model}: {outcome}"
        case ev.SubtasksProposed():
            return f"round {p.round}: " + ", ".join(c.name for c in p.candidates)
        case ev.SubtaskReviewed():
            return f"{p.name}: {p.decision} — {_short(p.reason, 50)}"
        case ev.DesignAccepted():
            return f"round {p.round}: " + ", ".join(s.name for s in p.subtasks)
        case ev.DatasetPreferencesSet():
            return f"{p.subtask}: modality={'+'.join(p.modality)} domain={_short(p.domain, 30)}"
        case ev.DatasetsSearched():
            top = ", ".join(f"{h.name} ({h.score:.2f})" for h in p.hits[:3])
            return f"{p.subtask}: {p.method} → {top}"
        case ev.PlanProposed():
            return f"{p.plan.plan_id} for {p.plan.subtask} on {p.plan.dataset_id}"
        case ev.PlanScored():
            verdict = "accepted" if p.accepted else "filtered"
            return (
                f"{p.plan_id}: {verdict} (align {p.alignment:.2f}, robust {p.robustness:.2f}, "
                f"signal {p.signal_preservation:.2f}) — {_short(p.reason, 40)}"
            )
        case ev.SubtaskGrounded():
            return f"{p.subtask}: " + ", ".join(f"{g.dataset_id}/{g.plan_id}" for g in p.groundings)
        case ev.GroundingFailed():
            return f"{p.subtask}: {_short(p.reason)}"
        case ev.SubtasksGrounded():
            return f"{len(p.groundings)} groundings"
        case ev.AllocationDiagnosed():
            state = "feasible" if p.feasible else f"infeasible ({p.binding_constraint})"
            return f"{state}: {_short(p.detail, 50)}"
        case ev.QuotasAllocated():
            return ", ".join(f"{q.subtask}/{q.dataset_id}={q.count}" for q in p.quotas)
        case ev.SpecFinalized():
            return f"{len(p.subtasks)} subtasks, {sum(q.count for q in p.quotas)} samples"
        case ev.SlotAssigned():
            moved = (f", moved from {p.moved_from.dataset_id}: {_short(p.moved_from.reason, 50)}"
                     if p.moved_from else "")
            return f"{p.sample_id} ← {p.dataset_id}#{p.source_item_id} (attempt {p.attempt}{moved})"
        case ev.SamplePlanned():
            how = "specialised" if p.specialised else "dataset plan as is"
            return f"{p.sample_id}: {how}, {len(p.tool_calls)} tool calls"
        case ev.ToolApplied():
            return f"{p.sample_id}: {p.tool} v{p.version}" + (f" error: {p.error}" if p.error else "")
        case ev.MediaStored():
            return f"{p.name} ({p.size:,} bytes, in the blob store)"
        case ev.SampleRealized():
            return (f"{p.sample_id}: target from {ev.target_from(p.source)}: "
                    f"{_short(p.item.input, 40)}")
        case ev.SampleChecked():
            failed = [v.check for v in p.verdicts if not v.passed]
            return f"{p.sample_id}: " + (f"failed {', '.join(failed)}" if failed else "all checks passed")
        case ev.RepairRequested():
            return f"{p.sample_id}: {_short(p.reason)}"
        case ev.SampleAccepted():
            return f"{p.sample_id} ({p.subtask})"
        case ev.SampleRejected():
            return f"{p.sample_id} ({p.subtask}) by {p.check}: {_short(p.reason, 50)}"
        case ev.ReplenishRequested():
            return f"slot {p.slot} of {p.subtask}/{p.dataset_id}, replacing {p.replaces}"
        case ev.QuotaShortfall():
            return f"{p.subtask}/{p.dataset_id}: {p.missing} missing — {_short(p.reason, 40)}"
        case ev.BenchmarkPublished():
            return f"{p.accepted} accepted, {p.rejected} rejected, hash {p.content_hash[:12]}"
        case ev.GeneratorPlanned():
            params = ", ".join(q.name for q in p.plan.params) or "no parameters"
            return (f"{p.plan.name} r{p.revision} by {p.by} for {p.plan.subtask}: {params}; "
                    f"metric {p.plan.metric}")
        case ev.GeneratorDrafted():
            sha = p.source_sha256[:12] or "not usable"
            return f"{p.name} r{p.revision} attempt {p.attempt} by {p.by}: {sha}"
        case ev.GeneratorChecked():
            bad = [c.check for c in p.checks if c.status == "failed"]
            verdict = "passed" if p.passed else f"failed {', '.join(bad)}"
            return f"{p.name} r{p.revision} attempt {p.attempt} {p.stage}: {verdict}"
        case ev.GeneratorSynthesized():
            return f"{p.name}@{p.version} r{p.revision} after {p.attempts} attempt(s)"
        case ev.SpecProposed():
            return (f"{len(p.subtasks)} subtasks, {sum(q.count for q in p.quotas)} samples: "
                    "waiting for approval")
        case ev.PlanEdited():
            edit = msgspec.to_builtins(p.edit)
            return f"by {p.by}: {edit.pop('type')} {_short(str(edit), 50)}"
        case ev.SpecApproved():
            return f"by {p.by} with {p.edits} edit(s)"
        case ev.GeneratorsRevised():
            return ", ".join(p.names) or "no generator edited"
        case ev.EvaluationRequested():
            return ", ".join(p.models)
        case ev.ModelReleased():
            return p.model + (f" (from {p.source})" if p.source else "")
        case ev.EvaluationFailed():
            return f"{p.model}: {_short(p.reason)}"
        case ev.ModelDiscovered():
            again = f", appearance {p.appearance}" if p.appearance > 1 else ""
            return f"{p.model} listed by {p.source}{again}"
        case ev.ModelWithdrawn():
            return f"{p.model} no longer listed by {p.source}"
        case ev.BudgetExhausted():
            return f"{p.kind} budget {p.used}/{p.limit} on {p.day}: not started: {p.stopped}"
        case ev.BenchmarkSaturated():
            scope = p.scope + (f" {p.subtask}" if p.subtask else "")
            return f"{scope}: {p.model} reached {p.accuracy:.3f} (threshold {p.threshold:g})"
        case ev.RefreshRequested():
            return (f"v{p.version} of {p.root_run}, refreshing {p.parent_run}: "
                    f"{sum(len(v) for v in p.excluded.values())} items excluded, "
                    f"{len(p.harder)} generator plans harder")
        case ev.ModelAnswered():
            judged = ""
            if p.judged is not None:
                ok = sum(v.satisfied for v in p.judged.verdicts)
                judged = f", judge: {ok}/{len(p.judged.verdicts)} criteria"
            return f"{p.model} on {p.sample_id}: score {p.score:g} ({p.scorer}{judged})"
        case ev.EvaluationScored():
            return f"{p.model}: accuracy {p.accuracy:.3f} over {p.n}"
        case ev.JudgeRequested():
            sees = "sees images" if p.vision else "text only"
            return f"{p.judge} ({sees}) on {len(p.sample_ids)} items"
        case ev.ItemJudged():
            scores = " ".join(f"{m.upper()} {p.scores.get(m).score}" for m in ITEM_METRICS)
            unseen = f", {len(p.unseen_media)} media unseen" if p.unseen_media else ""
            return f"{p.sample_id}: {scores}{unseen}"
        case ev.BenchmarkJudged():
            own = " (self-judged)" if p.self_judged else ""
            return (f"UIA {p.uia.score} by {p.judge}{own}, {p.items_judged} items: "
                    f"{_short(p.uia.reason, 40)}")
        case ev.JudgingFailed():
            return _short(p.reason)
        case ev.HumanReviewed():
            m = p.marks
            return (f"{p.sample_id}: correct {m.correct} clear {m.clear} answerable "
                    f"{m.answerable} relevant {m.relevant}")
        case ev.AblationLinked():
            return f"variant {p.variant} of {p.group} ({len(p.runs)} variants)"
        case ev.RunCompleted():
            return f"{p.accepted} accepted, {p.rejected} rejected"
        case ev.RunFailed():
            return f"at {p.stage}: {_short(p.reason)}"
        case ev.RunStopped():
            return f"at {p.stage} ({p.cause}): {_short(p.reason)}; resumable"
        case ev.RunStalled():
            return f"{_short(p.reason)}; open slots reported short"
        case ev.RunResumed():
            stopped = f" (stopped at seq {p.stopped_seq})" if p.stopped_seq else ""
            return f"after seq {p.after_seq}{stopped}"
    return ""


def timestamp(env: Envelope[Payload]) -> str:
    return dt.datetime.fromtimestamp(env.time, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def timeline_rows(events: list[EventEnvelope]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq,
            "time": timestamp(e),
            "agent": e.agent,
            "type": e.type,
            "event_id": e.event_id,
            "causation_id": e.causation_id,
            "summary": summarize(e),
        }
        for e in events
    ]
