"""The Orchestrator: sample slots → realized benchmark items (paper §3.2, realization).

- SpecFinalized → one `SlotAssigned` per sample slot of every quota, each with a
  seeded, unused source item (see `source_index`);
- SlotAssigned → sample-level planning (LLM specialises the dataset plan to the
  item: its question, distractors, tool calls) → `SamplePlanned`; pure tools run
  (`ToolApplied`), media bytes are stored (`MediaStored`), and the item is emitted
  as `SampleRealized`, its target traced to the source label or the generator;
- ReplenishRequested → the slot's next attempt (`SlotAssigned`, attempt + 1), or
  `QuotaShortfall` when the slot's share of the source is used up;
- RepairRequested → the question rewritten once by the LLM (`SampleRealized`
  with `repair_of`); the target is never touched.

Source choice is order-independent: every dataset has a seeded permutation of
its items; the k-th slot drawn on it (over all quotas on that dataset, in spec
order) takes position k at attempt 1 and k + (a-1)·Q at attempt a (Q = all slots
on the dataset), so concurrent rejections can never race for an item.

Ablation `sample-planning`: the dataset plan is applied unchanged (no LLM call).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import structlog

from agents.base import Agent, AgentContext, on
from agents.keys import derive_seed, sample_id, seeded_permutation
from agents.plans import GENERATOR_TOOL, fill_placeholders
from agents.prompts import orchestrator as prompts
from agents.realize import Draft, answer_leak, item_answers, with_question
from agents.run_view import RunView, ViewCache
from agents.settings import settings_of
from agents.sources import PoolCache, get_generator
from store.events import (
    BenchmarkItem,
    Envelope,
    GeneratedBy,
    MediaStored,
    Payload,
    QuotaShortfall,
    RepairRequested,
    ReplenishRequested,
    SamplePlanned,
    SampleRealized,
    SlotAssigned,
    SourceLabel,
    SpecFinalized,
    Subtask,
    ToolApplied,
    TransformationPlan,
)
from tools.pool import Pool

log = structlog.get_logger(__name__)

Batch = list[tuple[Payload, str]]


class SourceExhausted(Exception):
    pass


class OrchestratorAgent(Agent):
    role = "orchestrator"

    def __init__(self, pools: PoolCache) -> None:
        self._pools = pools
        self._views = ViewCache()
        self._items: dict[tuple[int, str], dict[str, Any]] = {}
        self._fences: dict[Path, Path] = {}

    @on(SpecFinalized)
    async def assign_slots(self, event: Envelope[SpecFinalized], ctx: AgentContext) -> None:
        view = await self._views.current(ctx)
        if not view.finished:
            await self._assign_slots(event, event.payload, view, ctx)

    @on(SlotAssigned)
    async def realize(self, event: Envelope[SlotAssigned], ctx: AgentContext) -> None:
        view = await self._views.current(ctx)
        if not view.finished:
            await self._realize(event, event.payload, view, ctx)

    @on(ReplenishRequested)
    async def replenish(self, event: Envelope[ReplenishRequested], ctx: AgentContext) -> None:
        view = await self._views.current(ctx)
        if not view.finished:
            await self._replenish(event, event.payload, view, ctx)

    @on(RepairRequested)
    async def repair(self, event: Envelope[RepairRequested], ctx: AgentContext) -> None:
        view = await self._views.current(ctx)
        if not view.finished:
            await self._repair(event, event.payload, view, ctx)

    # ------------------------------------------------------------ slots

    def _pool(self, view: RunView) -> Pool:
        return self._pools.for_request(view.request_payload())

    def _source(self, view: RunView, dataset_id: str, plan_id: str, subtask: str, slot: int,
                attempt: int) -> tuple[str, int]:
        """(source item id, index in the dataset's seeded order) for a slot attempt."""
        spec = view.spec_payload()
        assert spec is not None
        offset, total = 0, 0
        for q in spec.quotas:
            if q.dataset_id != dataset_id:
                continue
            if (q.subtask, q.plan_id) == (subtask, plan_id):
                offset = total
            total += q.count
        position = offset + slot + (attempt - 1) * total
        pool = self._pool(view)
        card = pool.card(dataset_id)
        if card.generator:
            if position >= pool.capacity(dataset_id):
                raise SourceExhausted(f"{card.generator} gives {pool.capacity(dataset_id)} instances")
            return f"{card.generator}#{position}", position
        items = pool.items(dataset_id)
        if position >= len(items):
            raise SourceExhausted(f"{card.name} has {len(items)} usable items, "
                                  f"{total} slots draw on it")
        order = seeded_permutation(len(items), view.request_payload().seed, "source", dataset_id)
        return items[order[position]].id, position

    async def _assign_slots(self, event: Envelope, spec: SpecFinalized, view: RunView,
                            ctx: AgentContext) -> None:
        batch: Batch = []
        for q in spec.quotas:
            for slot in range(q.count):
                sid = sample_id(q.subtask, q.dataset_id, slot, 1)
                try:
                    item_id, _ = self._source(view, q.dataset_id, q.plan_id, q.subtask, slot, 1)
                except SourceExhausted as exc:  # allocation respects capacity: a changed pool
                    batch.append((QuotaShortfall(subtask=q.subtask, dataset_id=q.dataset_id,
                                                 plan_id=q.plan_id, missing=1, slot=slot,
                                                 reason=f"slot {slot}: {exc}"), sid))
                    continue
                batch.append((SlotAssigned(sample_id=sid, slot=slot, subtask=q.subtask,
                                           dataset_id=q.dataset_id, plan_id=q.plan_id,
                                           source_item_id=item_id, attempt=1), sid))
        await ctx.emit_many(batch, cause=event)

    async def _replenish(self, event: Envelope, p: ReplenishRequested, view: RunView,
                         ctx: AgentContext) -> None:
        replaced = view.slots.get(p.replaces)
        attempt = (replaced.attempt if replaced else 1) + 1
        settings = settings_of(view.request_payload())
        sid = sample_id(p.subtask, p.dataset_id, p.slot, attempt)
        if attempt > settings.max_attempts:
            reason = (f"slot {p.slot}: {settings.max_attempts} attempts rejected "
                      f"(max_attempts); last was {p.replaces}")
        else:
            try:
                item_id, _ = self._source(view, p.dataset_id, p.plan_id, p.subtask, p.slot, attempt)
            except SourceExhausted as exc:
                reason = f"slot {p.slot}: source exhausted after {attempt - 1} attempts ({exc})"
            else:
                await ctx.emit(SlotAssigned(sample_id=sid, slot=p.slot, subtask=p.subtask,
                                            dataset_id=p.dataset_id, plan_id=p.plan_id,
                                            source_item_id=item_id, attempt=attempt),
                               cause=event, key=sid)
                return
        await ctx.emit(QuotaShortfall(subtask=p.subtask, dataset_id=p.dataset_id,
                                      plan_id=p.plan_id, missing=1, slot=p.slot, reason=reason),
                       cause=event, key=f"shortfall:{p.slot}")

    # -------------------------------------------------------- realization

    def _spec_parts(self, view: RunView, p: SlotAssigned) -> tuple[TransformationPlan, Subtask]:
        spec = view.spec_payload()
        assert spec is not None
        plan = next(pl for pl in spec.plans if pl.plan_id == p.plan_id)
        subtask = next((s for s in spec.subtasks if s.name == p.subtask),
                       Subtask(name=p.subtask, description=p.subtask, capability=p.subtask,
                               answer_format=plan.answer_format))
        return plan, subtask

    async def _realize(self, event: Envelope, p: SlotAssigned, view: RunView,
                       ctx: AgentContext) -> None:
        if p.sample_id in view.realized:
            return
        plan, subtask = self._spec_parts(view, p)
        req = view.request_payload()
        pool = self._pool(view)
        card = pool.card(p.dataset_id)
        if card.generator:
            batch = self._realize_generated(p, plan, card.generator, req.seed)
        else:
            batch = await self._realize_sourced(event, p, plan, subtask, view, pool, ctx)
        # Media already in the log need not be stored twice.
        batch = [(e, k) for e, k in batch if not (isinstance(e, MediaStored) and e.name in view.media)]
        await ctx.emit_many(batch, cause=event)

    def _realize_generated(self, p: SlotAssigned, plan: TransformationPlan, generator: str,
                           run_seed: int) -> Batch:
        call = next((t for t in plan.tools if t.get("name") == GENERATOR_TOOL), {})
        params = dict(call.get("arguments", {}).get("params", {}))
        index = int(p.source_item_id.rsplit("#", 1)[1])
        seed = derive_seed(run_seed, "generator", p.dataset_id, index)
        gen = get_generator(generator)
        instance = gen.sample(seed, params)
        batch: Batch = [(SamplePlanned(
            sample_id=p.sample_id, plan_id=plan.plan_id,
            instructions=f"{generator} instance with seed {seed}",
            tool_calls=[{"name": GENERATOR_TOOL, "arguments": {"generator": generator,
                                                               "seed": seed, "params": params}}],
            specialised=False), p.sample_id)]
        with tempfile.TemporaryDirectory(prefix="benchagent-gen-") as tmp:
            rendered = gen.render(instance, Path(tmp))
            media = []
            for rel in rendered.media:
                stored = media_event(Path(tmp) / rel)
                batch.append((stored, stored.name))
                media.append(stored.name)
        metadata = {
            **rendered.metadata,
            "source_dataset": p.dataset_id,
            "source_item": p.source_item_id,
            "plan_id": plan.plan_id,
            "generator": generator,
            "generator_version": gen.version,
            "seed": seed,
            "params": instance.params,
            "complexity": instance.complexity,
        }
        item = BenchmarkItem(id=p.sample_id, subtask=p.subtask, input=rendered.input,
                             choices=rendered.choices, target=str(rendered.target),
                             media=media, metadata=metadata)
        source = GeneratedBy(name=generator, version=gen.version, seed=seed, params=instance.params)
        batch.append((SampleRealized(sample_id=p.sample_id, item=item, source=source),
                      p.sample_id))
        return batch

    async def _realize_sourced(self, event: Envelope, p: SlotAssigned, plan: TransformationPlan,
                               subtask: Subtask, view: RunView, pool: Pool,
                               ctx: AgentContext) -> Batch:
        req = view.request_payload()
        settings = settings_of(req)
        card = pool.card(p.dataset_id)
        item = self._item(pool, p.dataset_id, p.source_item_id)
        draft = Draft(plan, card, item)
        source_file = pool.source_file(p.dataset_id)
        fence = self._fence(source_file)
        # The pool resolves media paths already (absolute, inside the dataset's parent folder).
        media_paths = [Path(m) for role in card.media_roles() for m in item.media.get(role, [])]
        media_refs = [f"src:{path.relative_to(fence).as_posix()}" for path in media_paths]

        from tools.registry import default_registry

        if "sample-planning" in req.disabled:
            question, distractors = None, []
            calls = [{"name": c["name"], "arguments": fill_placeholders(c["arguments"], media_refs)}
                     for c in plan.tools]
            planned = SamplePlanned(sample_id=p.sample_id, plan_id=plan.plan_id,
                                    instructions=plan.instructions, tool_calls=calls,
                                    specialised=False)
        else:
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
            answer = await ctx.llm(self.role).complete_json(
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
                calls = [{"name": c["name"], "arguments": fill_placeholders(c["arguments"],
                                                                           media_refs)}
                         for c in plan.tools]
            planned = SamplePlanned(sample_id=p.sample_id, plan_id=plan.plan_id,
                                    instructions=question or plan.instructions, tool_calls=calls,
                                    specialised=True, notes=notes)
        batch: Batch = [(planned, p.sample_id)]
        produced, tool_events = run_tools(calls, p.sample_id, fence, req.seed)
        batch += tool_events
        media: list[str] = []
        files = produced or [(path.suffix.lower() or ".bin", path.read_bytes())
                             for path in media_paths]
        for ext, data in files:
            stored = media_event_from_bytes(data, ext)
            batch.append((stored, stored.name))
            media.append(stored.name)
        extra: dict[str, Any] = {}
        if calls:
            extra["tool_calls"] = [c["name"] for c in calls]
        built = draft.build(p.sample_id, p.subtask, question=question, distractors=distractors,
                            media=media, run_seed=req.seed, extra_metadata=extra,
                            planned=planned.specialised)
        source = SourceLabel(dataset_id=p.dataset_id, item_id=p.source_item_id,
                             field_path=draft.target_path)
        batch.append((SampleRealized(sample_id=p.sample_id, item=built, source=source),
                      p.sample_id))
        return batch

    def _fence(self, source_file: Path | None) -> Path:
        """The folder a dataset's media may come from: its file's parent's parent, resolved."""
        if source_file is None:
            return Path("/")
        fence = self._fences.get(source_file)
        if fence is None:
            fence = self._fences[source_file] = source_file.parent.parent.resolve()
        return fence

    def _item(self, pool: Pool, dataset_id: str, item_id: str) -> Any:
        key = (id(pool), dataset_id)
        index = self._items.get(key)
        if index is None:
            index = self._items[key] = {it.id: it for it in pool.items(dataset_id)}
        return index[item_id]

    # -------------------------------------------------------------- repair

    async def _repair(self, event: Envelope, p: RepairRequested, view: RunView,
                      ctx: AgentContext) -> None:
        realized = view.realized.get(p.sample_id)
        if realized is None or realized.payload.repair_of is not None:
            return
        item: BenchmarkItem = realized.payload.item
        settings = settings_of(view.request_payload())
        from agents.prompts.common import clip

        doc = {"input": clip(item.input, settings.prompt_chars * 2), "choices": item.choices,
               "question": item.metadata.get("question", ""), "answer": item.target}
        answer = await ctx.llm(self.role).complete_json(
            prompts.REPAIR, prompts.repair_messages(p.sample_id, doc, p.reason), prompts.REPAIR_SCHEMA,
            cause=event)
        question = str(answer.get("question", "")).strip()
        if question and answer_leak(question, item_answers(item), str(item.metadata.get("question", ""))):
            question = ""  # a repair may not give the answer away: the item stays as it was
        repaired = with_question(item, question) if question else item
        await ctx.emit(SampleRealized(sample_id=p.sample_id, item=repaired,
                                      source=realized.payload.source,
                                      repair_of=p.sample_id),
                       cause=event, key=p.sample_id)


# ---------------------------------------------------------------- helpers


def media_event_from_bytes(data: bytes, ext: str) -> MediaStored:
    digest = hashlib.sha256(data).hexdigest()
    return MediaStored(sha256=digest, name=f"media/{digest}{ext}", data=data)


def media_event(path: Path) -> MediaStored:
    return media_event_from_bytes(path.read_bytes(), path.suffix.lower() or ".bin")


def run_tools(calls: list[dict[str, Any]], sid: str, fence: Path,
              run_seed: int) -> tuple[list[tuple[str, bytes]], Batch]:
    """Run planned pure-tool calls in a scratch workspace (sources mounted read-only as `src`).

    Returns the files produced (extension, bytes) and one `ToolApplied` per call;
    a call that is wrong or fails is recorded with its error and skipped.
    """
    if not calls:
        return [], []
    from tools.registry import ToolArgumentError, ToolExecutionError, default_registry
    from tools.workspace import Workspace

    produced: list[tuple[str, bytes]] = []
    events: Batch = []
    with tempfile.TemporaryDirectory(prefix="benchagent-tools-") as tmp:
        ws = Workspace(tmp, sources={"src": fence})
        for n, call in enumerate(calls):
            name, args = call["name"], call["arguments"]
            seed = derive_seed(run_seed, "tool", sid, n)
            key = f"{sid}:tool:{n}"
            try:
                result = default_registry.run(name, args, ws, seed=seed)
            except (ToolArgumentError, ToolExecutionError) as exc:
                events.append((ToolApplied(sample_id=sid, tool=name, version="?", arguments=args,
                                           error=str(exc)), key))
                continue
            events.append((ToolApplied(sample_id=sid, tool=result.tool, version=result.version,
                                       arguments=result.arguments, outputs=result.outputs()), key))
            for f in result.files.values():
                produced.append((Path(f.path).suffix.lower() or ".bin", ws.read_bytes(f.path)))
    return produced, events
