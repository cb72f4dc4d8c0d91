"""A slot on a real dataset becomes an item: sample-level planning, tools, then the item.

Sample-level planning shows the LLM the dataset plan, the subtask and the item (its
fields, question, answer, media references and the pure tools that can act on its
media) and asks for the item's question, distractors and tool calls. A question that
gives the answer away is not used; with no tool call named, the dataset plan's own
calls apply. The target is always the source's own label (`agents.realize.Draft`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from agents.base import LLM
from agents.orchestrator.tool_runs import Realization, media_fence, run_tools
from agents.plans import fill_placeholders
from agents.prompts import orchestrator as prompts
from agents.realize import Draft
from agents.settings import RunSettings
from store.events import (
    Envelope,
    RunRequested,
    SamplePlanned,
    SampleRealized,
    SlotAssigned,
    SourceLabel,
    Subtask,
    TransformationPlan,
)
from tools.cards import DatasetCard
from tools.pool import Pool, SourceItem


class SamplePlan(msgspec.Struct, frozen=True, kw_only=True):
    """What planning decided for one item: the event, and the pieces the item is built from."""

    planned: SamplePlanned
    question: str | None
    distractors: list[str]
    calls: list[dict[str, Any]]


def dataset_plan_calls(plan: TransformationPlan, media_refs: list[str]) -> list[dict[str, Any]]:
    """The dataset plan's tool calls, their placeholders filled for this item."""
    return [{"name": c["name"], "arguments": fill_placeholders(c["arguments"], media_refs)}
            for c in plan.tools]


async def plan_sample(event: Envelope[SlotAssigned], plan: TransformationPlan, subtask: Subtask,
                      card: DatasetCard, item: SourceItem, draft: Draft, media_refs: list[str],
                      settings: RunSettings, llm: LLM) -> SamplePlan:
    """Sample-level planning by the LLM: the dataset plan specialised to this item."""
    from tools.registry import default_registry

    p = event.payload
    # Only the tools that can act on this item's media (none for a text item): a short
    # prompt for small models, and no pointless calls.
    families = {f.modality for role, f in card.meta.fields.items()
                if role in card.media_roles() and item.media.get(role)}
    offered = [t for t in default_registry.describe() if t["family"] in families]
    tools_doc = [{"name": t["name"], "description": t["description"][:200],
                  "parameters": sorted(t["parameters"].get("properties", {}))}
                 for t in offered]
    plan_doc = {"instructions": plan.instructions,
                "question_template": plan.question_template,
                "answer_format": plan.answer_format, "tools": plan.tools}
    sub_doc = {"name": subtask.name, "description": subtask.description,
               "capability": subtask.capability}
    answer = await llm.complete_json(
        prompts.SAMPLE_PLAN,
        prompts.sample_plan_messages(p.sample_id, sub_doc, plan_doc,
                                     draft.planning_view(settings.prompt_chars, media_refs),
                                     tools_doc),
        prompts.sample_plan_schema([t["name"] for t in offered]), cause=event)
    question = str(answer.get("question", "")).strip() or None
    notes: list[str] = []
    leaked = draft.leak_in(question) if question else None
    if leaked is not None:
        notes.append(f"question not used: it gives the answer away ({leaked[:80]!r}); "
                     "the source's question stands")
        question = None
    distractors = [str(d) for d in answer.get("distractors", [])]
    calls = [{"name": str(c.get("name")), "arguments": dict(c.get("arguments") or {})}
             for c in answer.get("tool_calls", [])
             if isinstance(c, dict) and c.get("name") not in (None, "", "none")]
    if not calls:  # the dataset plan's own calls still apply, filled for this item
        calls = dataset_plan_calls(plan, media_refs)
    planned = SamplePlanned(sample_id=p.sample_id, plan_id=plan.plan_id,
                            instructions=question or plan.instructions, tool_calls=calls,
                            specialised=True, notes=notes)
    return SamplePlan(planned=planned, question=question, distractors=distractors, calls=calls)


async def realize_sourced(event: Envelope[SlotAssigned], plan: TransformationPlan,
                          subtask: Subtask, request: RunRequested, settings: RunSettings,
                          pool: Pool, llm: LLM) -> Realization:
    """`SamplePlanned`, `ToolApplied` per call, `MediaStored` per file (bytes beside) and
    the `SampleRealized` of a source item."""
    p = event.payload
    card = pool.card(p.dataset_id)
    item = pool.item(p.dataset_id, p.source_item_id)
    draft = Draft(plan, card, item)
    fence = media_fence(pool.source_file(p.dataset_id))
    # The pool resolves media paths already (absolute, inside the dataset's parent folder).
    media_paths = [Path(m) for role in card.media_roles() for m in item.media.get(role, [])]
    media_refs = [f"src:{path.relative_to(fence).as_posix()}" for path in media_paths]

    if "sample-planning" in request.disabled:
        calls = dataset_plan_calls(plan, media_refs)
        decided = SamplePlan(
            planned=SamplePlanned(sample_id=p.sample_id, plan_id=plan.plan_id,
                                  instructions=plan.instructions, tool_calls=calls,
                                  specialised=False),
            question=None, distractors=[], calls=calls)
    else:
        decided = await plan_sample(event, plan, subtask, card, item, draft, media_refs,
                                    settings, llm)
    out = Realization(batch=[(decided.planned, p.sample_id)])
    produced, tool_events = run_tools(decided.calls, p.sample_id, fence, request.seed)
    out.batch += tool_events
    files = produced or [(path.suffix.lower() or ".bin", path.read_bytes())
                         for path in media_paths]
    media = [out.add_media(data, ext).name for ext, data in files]
    extra: dict[str, Any] = {}
    if decided.calls:
        extra["tool_calls"] = [c["name"] for c in decided.calls]
    built = draft.build(p.sample_id, p.subtask, question=decided.question,
                        distractors=decided.distractors, media=media, run_seed=request.seed,
                        extra_metadata=extra, planned=decided.planned.specialised)
    source = SourceLabel(dataset_id=p.dataset_id, item_id=p.source_item_id,
                         field_path=draft.target_path)
    out.batch.append((SampleRealized(sample_id=p.sample_id, item=built, source=source),
                      p.sample_id))
    return out
