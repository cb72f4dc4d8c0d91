"""A slot on a real dataset becomes an item: sample-level planning, tools, then the item.

Sample-level planning shows the LLM the dataset plan, the subtask and the item (its
fields, question, answer, media references and the pure tools that can act on its
media) and asks for the item's question, distractors and tool calls. With no tool call
named, the dataset plan's own calls apply. The target is always the source's own label
(`agents.realize.Draft`).

No model is asked when there is nothing to specialise (the item has its own question,
its options or no need for them, and no media a tool could act on), nor for a source
item a programmatic check (`agents.item_checks`) condemns whatever its question says:
the Verifier rejects it for free. A planned question falls back to the source's own
(`SamplePlanned.fallback` says why) when it gives the answer away — its text, or most of
its content words that the source question did not say ("What is the effect of Mary
reading some papers on her knowledge of details?" for "She knew lots of details") — drops
the source's key entities, or makes the item fail a programmatic check the source question
passes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec
import simplemma
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from agents.base import LLM
from agents.cloze import cloze_question, mask_of, masked_sentence, pool_distractors
from agents.item_checks import answer_texts, content_stems, failed_checks, premise_of
from agents.label_set import closed_labels, label_distractors
from agents.orchestrator.tool_runs import Realization, media_fence, run_tools
from agents.plans import fill_placeholders
from agents.prompts import orchestrator as prompts
from agents.realize import DistractorSource, Draft
from agents.register import names_everyday
from agents.settings import RunSettings
from store.events import (
    BenchmarkItem,
    Envelope,
    ItemCheckName,
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
from tools.stemming import stem


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


def offered_tools(card: DatasetCard, item: SourceItem) -> list[dict[str, Any]]:
    """The pure tools that can act on this item's media (none for a text item): a short
    prompt for small models, and no pointless calls."""
    from tools.registry import default_registry

    families = {f.modality for role, f in card.meta.fields.items()
                if role in card.media_roles() and item.media.get(role)}
    return [t for t in default_registry.describe() if t["family"] in families]


# What a programmatic check finds in the source material itself: no question fixes it.
SOURCE_CHECKS: frozenset[ItemCheckName] = frozenset(
    {"truncated_option", "duplicate_option", "too_few_options", "empty_context", "boilerplate",
     "offensive", "register"})


def planning_need(draft: Draft, plan: TransformationPlan, tools: list[dict[str, Any]]) -> str:
    """What sample-level planning would specialise for this item ("" for nothing)."""
    if tools:
        return "tool calls on its media"
    if not draft.source_question:
        return "its question"
    if plan.answer_format == "multiple_choice" and draft.choices is None:
        return "distractors"
    return ""


# Words a sentence may start with that name nothing.
_COMMON_CAPITALISED = frozenset(
    "a an the he she it i we you they my our your his her their this that these those there "
    "what which who when where why how after before then so".split())
_ENTITY = re.compile(r"\b(?:[A-Z][\w'-]*|\d[\d.,:/]*)")


def dropped_key_terms(source_question: str, question: str) -> str:
    """What of the source question's key content a rewritten question leaves out ("" for
    nothing): the names and numbers of the event it asks about (its premise, else the whole
    question), or most of that event's content words."""
    key = premise_of(source_question) or source_question
    said = {w.lower() for w in re.findall(r"[\w'-]+", question)}
    names = [m.group(0) for m in _ENTITY.finditer(key)
             if (m.start() > 0 or m.group(0).lower() not in _COMMON_CAPITALISED)
             and m.group(0).lower().rstrip(".,:") not in said]
    if names:
        return f"it drops {', '.join(repr(n) for n in names[:4])} of the source question"
    stems, kept = content_stems(key), content_stems(question)
    if len(stems) >= 3 and len(stems & kept) / len(stems) < 0.5:
        return (f"it keeps {len(stems & kept)} of the {len(stems)} content words of "
                f"{key[:80]!r}")
    return ""


# A rewrite that says this share of the answer's content words the source did not say has
# turned the question into its answer (the Mary example says 2 of 3: "knowledge", "details").
SHORTCUT_SHARE = 2 / 3


@lru_cache(maxsize=16384)
def _lemma_stem(word: str) -> str:
    return stem(simplemma.lemmatize(word, lang="en"))


def said_stems(text: str) -> frozenset[str]:
    """The stems of the lemmas of a text's content words ("knew" → "know")."""
    return frozenset(_lemma_stem(w) for w in re.findall(r"[a-z]+", text.lower())
                     if len(w) >= 3 and w not in ENGLISH_STOP_WORDS)


def _says(word: str, stems: frozenset[str]) -> bool:
    """`stems` say `word`: the same stem, or one it begins ("know" in "knowledg")."""
    return word in stems or (len(word) >= 4 and any(s.startswith(word) for s in stems))


def answer_shortcut(source_question: str, question: str, answers: list[str]) -> str:
    """What of the answer a rewritten question says that the source question did not ("" for
    too little): at least `SHORTCUT_SHARE` of the answer's new content words."""
    before, after = said_stems(source_question), said_stems(question)
    for answer in answers:
        new = sorted(w for w in said_stems(answer) if not _says(w, before))
        if len(new) < 2:
            continue
        said = [w for w in new if _says(w, after)]
        if len(said) / len(new) >= SHORTCUT_SHARE:
            return (f"it says {len(said)} of the {len(new)} content words of the answer "
                    f"{answer[:80]!r} that the source question did not ({', '.join(said)})")
    return ""


def question_fallback(draft: Draft, plan: TransformationPlan, planned: BenchmarkItem,
                      source: BenchmarkItem, question: str, everyday: bool = False) -> str:
    """Why the planned `question` must give way to the source's own ("" to keep it;
    `everyday`: the subtask names everyday life, so the item's register is checked)."""
    leaked = draft.leak_in(question)
    if leaked is not None:
        return f"it gives the answer away ({leaked[:80]!r})"
    if draft.source_question and (
            shortcut := answer_shortcut(draft.source_question, question, answer_texts(source))):
        return f"it gives the answer away: {shortcut}"
    if draft.source_question and (dropped := dropped_key_terms(draft.source_question, question)):
        return dropped
    media = draft.card.media_roles()
    before = {c.check for c in failed_checks(source, plan, media, everyday)}
    new = [c for c in failed_checks(planned, plan, media, everyday) if c.check not in before]
    if new:
        return f"it fails the {new[0].check} check the source question passes: {new[0].reason}"
    return ""


async def plan_sample(event: Envelope[SlotAssigned], plan: TransformationPlan, subtask: Subtask,
                      draft: Draft, media_refs: list[str], offered: list[dict[str, Any]],
                      settings: RunSettings, llm: LLM) -> SamplePlan:
    """Sample-level planning by the LLM: the dataset plan specialised to this item."""
    p = event.payload
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
    question = draft.filled(str(answer.get("question", "")).strip()) or None
    notes: list[str] = []
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

    offered = offered_tools(card, item)
    # The source item in its own format: what planning cannot change is judged on it.
    unplanned = draft.build(p.sample_id, p.subtask, question=None, distractors=[], media=[],
                            run_seed=request.seed, extra_metadata={}, planned=False)
    everyday = names_everyday(subtask)
    condemned = [c for c in failed_checks(unplanned, plan, card.media_roles(), everyday)
                 if c.check in SOURCE_CHECKS]
    need = planning_need(draft, plan, offered)
    disabled = "sample-planning" in request.disabled
    skipped = ("sample-planning disabled" if disabled
               else f"not planned: the source item fails {condemned[0].check} "
                    f"({condemned[0].reason[:160]})" if condemned
               else "not planned: nothing to specialise (the item has its question and "
                    "options)" if not need else "")
    mask = (mask_of([body for _, body in draft.sections])
            if need == "its question" and not skipped else None)
    wants_options = plan.answer_format == "multiple_choice" and draft.choices is None
    labels = (closed_labels(pool, p.dataset_id, plan.target_field)
              if (need == "distractors" or (mask and wants_options)) and not skipped else [])
    distractors_from: DistractorSource = "label_set" if labels else "llm"
    if skipped or labels or mask:
        calls = dataset_plan_calls(plan, media_refs)
        distractors = label_distractors(labels, draft.acceptable)
        question = None
        if labels:
            skipped = (f"not planned: the options are the dataset's label set ({len(labels)} "
                       f"labels; the {len(distractors)} most frequent others)")
        if mask:
            question = cloze_question(mask, wants_options)
            if wants_options and not labels:
                distractors = pool_distractors(pool, p.dataset_id, plan.target_field,
                                               draft.acceptable, request.seed, p.sample_id)
                distractors_from = "answer_pool"
            skipped = (f"not planned: a cloze item (its text masks one span, {mask}), so its "
                       "question asks what fills it" + (
                           f"; its options are {len(distractors)} other answers of the dataset"
                           " that share no content word with its answer"
                           if distractors_from == "answer_pool" else
                           f"; {skipped.removeprefix('not planned: ')}" if labels else ""))
        decided = SamplePlan(
            planned=SamplePlanned(sample_id=p.sample_id, plan_id=plan.plan_id,
                                  instructions=question or plan.instructions, tool_calls=calls,
                                  specialised=False,
                                  notes=[] if disabled else [skipped]),
            question=question, distractors=distractors, calls=calls)
    else:
        decided = await plan_sample(event, plan, subtask, draft, media_refs, offered,
                                    settings, llm)
        if decided.question:
            planned_item = draft.build(p.sample_id, p.subtask, question=decided.question,
                                       distractors=decided.distractors, media=[],
                                       run_seed=request.seed, extra_metadata={})
            source_item = draft.build(p.sample_id, p.subtask, question=None,
                                      distractors=decided.distractors, media=[],
                                      run_seed=request.seed, extra_metadata={})
            why = question_fallback(draft, plan, planned_item, source_item, decided.question,
                                    everyday)
            if why:
                planned = msgspec.structs.replace(
                    decided.planned, instructions=plan.instructions, fallback=why,
                    notes=[*decided.planned.notes,
                           f"question not used: {why}; the source's question stands"])
                decided = msgspec.structs.replace(decided, planned=planned, question=None)
    out = Realization(batch=[(decided.planned, p.sample_id)])
    produced, tool_events = run_tools(decided.calls, p.sample_id, fence, request.seed)
    out.batch += tool_events
    files = produced or [(path.suffix.lower() or ".bin", path.read_bytes())
                         for path in media_paths]
    media = [out.add_media(data, ext).name for ext, data in files]
    extra: dict[str, Any] = {}
    if mask:  # the sentence it asks about, for the Verifier's cue check
        extra["cloze_sentence"] = masked_sentence(
            "\n".join(body for _, body in draft.sections), mask)
    if decided.calls:
        extra["tool_calls"] = [c["name"] for c in decided.calls]
    built = draft.build(p.sample_id, p.subtask, question=decided.question,
                        distractors=decided.distractors, media=media, run_seed=request.seed,
                        extra_metadata=extra,
                        planned=decided.planned.specialised or not (condemned or disabled),
                        distractors_from=distractors_from)
    source = SourceLabel(dataset_id=p.dataset_id, item_id=p.source_item_id,
                         field_path=draft.target_path)
    out.batch.append((SampleRealized(sample_id=p.sample_id, item=built, source=source),
                      p.sample_id))
    return out
