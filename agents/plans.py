"""Transformation plans: what a card offers, the default plan, and checking LLM plans.

A plan says how an item of one dataset becomes a benchmark item for one
subtask. For a file dataset it names the card's roles that form the input, the
role that holds the label (the target is always the source's own label), the
answer format and optional pure-tool calls. For a generator it names the
generator and its parameters; the generator supplies the answer.

Tool-call arguments in a dataset plan may use placeholders that the
Orchestrator fills per item: "{media}" / "{media:N}" (the item's media files)
and "{out}" / "{out:N}" (fresh output paths).
"""

from __future__ import annotations

from typing import Any

from agents.keys import derive_seed, plan_id
from agents.prompts.common import clip
from agents.sources import get_generator
from store.events import ANSWER_FORMATS, Subtask, TransformationPlan, closed_value
from tools.cards import DatasetCard

GENERATOR_TOOL = "generator"
ANSWER_ROLES = ("answer", "category", "label", "target")


def card_summary(card: DatasetCard, chars: int = 400) -> dict[str, Any]:
    """What a model needs to know about a dataset to plan on it."""
    doc: dict[str, Any] = {
        "dataset_id": card.dataset_id,
        "name": card.name,
        "modalities": card.modalities,
        "description": clip(card.description, chars),
        "tasks": card.tasks,
        "domain": card.domain,
        "size": card.size_samples,
        "roles": {
            role: {"modality": f.modality, "semantics": clip(f.semantics, 200)}
            for role, f in card.meta.fields.items()
        },
    }
    if card.generator:
        doc["generator"] = card.generator
        doc["params"] = generator_params(card.generator)
    return doc


def generator_params(name: str) -> list[dict[str, Any]]:
    try:
        gen = get_generator(name)
    except Exception:  # a generator that cannot load offers no parameters
        return []
    return [
        {k: v for k, v in (("name", p.name), ("kind", p.kind), ("low", p.low), ("high", p.high),
                           ("choices", p.choices), ("default", p.default),
                           ("description", p.description)) if v is not None}
        for p in gen.params
    ]


def text_roles(card: DatasetCard) -> list[str]:
    """Roles holding text, except bare record ids (they would leak bookkeeping into items)."""
    media = set(card.media_roles())
    return [r for r, f in card.meta.fields.items()
            if r not in media and not all(p == "id" for p in f.paths)]


def is_label(card: DatasetCard, role: str) -> bool:
    """Whether a role holds the record's label (General-Bench keeps labels under `output`)."""
    spec = card.meta.fields.get(role)
    return spec is not None and any(p.startswith("output") for p in spec.paths)


def default_target(card: DatasetCard) -> str:
    roles = text_roles(card)
    for name in ANSWER_ROLES:
        if name in roles:
            return name
    outputs = [r for r in roles if any(p.startswith("output") for p in card.meta.fields[r].paths)]
    return outputs[0] if outputs else (roles[-1] if roles else "")


def same_paths(card: DatasetCard, a: str, b: str) -> bool:
    fields = card.meta.fields
    return a in fields and b in fields and fields[a].paths == fields[b].paths


def default_input_fields(card: DatasetCard, target: str) -> list[str]:
    return [r for r in text_roles(card) if r != target and not same_paths(card, r, target)]


def default_plan(subtask: Subtask, card: DatasetCard, round_: int) -> TransformationPlan:
    """The plan used without plan scoring: the dataset's items as they are."""
    pid = plan_id(subtask.name, card.dataset_id, round_)
    if card.generator:
        return TransformationPlan(
            plan_id=pid, subtask=subtask.name, dataset_id=card.dataset_id,
            instructions=f"Generate problems with {card.generator} at its default parameters.",
            target_field="answer", answer_format="generator",
            tools=[{"name": GENERATOR_TOOL, "arguments": {"generator": card.generator, "params": {}}}],
            target_source="generator",
        )
    target = default_target(card)
    inputs = default_input_fields(card, target)
    return TransformationPlan(
        plan_id=pid, subtask=subtask.name, dataset_id=card.dataset_id,
        instructions=f"Use each item of {card.name} unchanged: input {', '.join(inputs) or 'none'}, "
                     f"answer from {target}.",
        input_fields=inputs, target_field=target,
        answer_format="multiple_choice" if "options" in inputs else "short_answer",
    )


def plan_from_answer(
    answer: dict[str, Any], subtask: Subtask, card: DatasetCard, round_: int
) -> tuple[TransformationPlan, list[str]]:
    """A plan from an LLM answer, repaired where it names what the card lacks; notes say how."""
    notes: list[str] = []
    roles = text_roles(card)
    target = str(answer.get("target_field", ""))
    if target not in roles:
        fallback = default_target(card)
        notes.append(f"target_field {target!r} is not a text role; using {fallback!r}")
        target = fallback
    elif not is_label(card, target) and is_label(card, default_target(card)):
        # The target must be the source's own label (an output field), never an input.
        fallback = default_target(card)
        notes.append(f"target_field {target!r} is an input, not the label; using {fallback!r}")
        target = fallback
    inputs: list[str] = []
    for role in answer.get("input_fields", []):
        if role in roles and role != target and role not in inputs and not same_paths(card, role, target):
            inputs.append(role)
    if not inputs:
        inputs = default_input_fields(card, target)
        notes.append(f"no usable input fields named; using {', '.join(inputs) or 'none'}")
    if "options" in roles and "options" not in inputs and target != "options":
        inputs.append("options")  # a label often names an option ("B"): keep what it refers to
        notes.append("options added to the input: the label may refer to them")
    tools = []
    for t in answer.get("tools", []):
        if not isinstance(t, dict) or t.get("name") in (None, "", "none"):
            continue
        call = {"name": str(t["name"]), "arguments": dict(t.get("arguments") or {})}
        problem = tool_call_problem(call, card)
        if problem:
            notes.append(f"tool call dropped: {problem}")
        else:
            tools.append(call)
    plan = TransformationPlan(
        plan_id=plan_id(subtask.name, card.dataset_id, round_),
        subtask=subtask.name,
        dataset_id=card.dataset_id,
        instructions=str(answer.get("instructions", "")).strip(),
        question_template=str(answer.get("question_template", "")).strip(),
        input_fields=inputs,
        target_field=target,
        answer_format=closed_value(answer.get("answer_format", "short_answer"), ANSWER_FORMATS),
        tools=tools,
    )
    return plan, notes


def generator_plan_from_answer(
    answer: dict[str, Any], subtask: Subtask, card: DatasetCard, round_: int, run_seed: int
) -> tuple[TransformationPlan, list[str]]:
    """A generator plan; parameters the generator refuses are dropped (defaults used)."""
    assert card.generator is not None
    notes: list[str] = []
    params = dict(answer.get("params") or {})
    gen = get_generator(card.generator)
    try:
        gen.sample(derive_seed(run_seed, "plan-check", card.dataset_id), params)
    except Exception as exc:  # ParamError names the parameter and its range
        notes.append(f"parameters refused ({exc}); using the generator's defaults")
        params = {}
    plan = TransformationPlan(
        plan_id=plan_id(subtask.name, card.dataset_id, round_),
        subtask=subtask.name,
        dataset_id=card.dataset_id,
        instructions=str(answer.get("instructions", "")).strip(),
        target_field="answer",
        answer_format="generator",
        tools=[{"name": GENERATOR_TOOL, "arguments": {"generator": card.generator, "params": params}}],
        target_source="generator",
    )
    return plan, notes


def tools_for(card: DatasetCard) -> list[dict[str, Any]]:
    """The registered pure tools that can act on this dataset's media (none for text)."""
    from tools.registry import default_registry

    families = {card.meta.fields[r].modality for r in card.media_roles()}
    return [t for t in default_registry.describe() if t["family"] in families]


def tool_call_problem(call: dict[str, Any], card: DatasetCard) -> str | None:
    """Why a planned tool call cannot run on this dataset's items (None if it can)."""
    from tools.registry import ToolArgumentError, default_registry

    if call["name"] not in {t["name"] for t in tools_for(card)}:
        return f"{call['name']} does not apply to {'+'.join(card.modalities)} items"
    try:
        default_registry.validate(call["name"], fill_placeholders(call["arguments"], ["src:x.png"]))
    except ToolArgumentError as exc:
        return str(exc)
    return None


def executability_problems(plan: TransformationPlan, card: DatasetCard, capacity: int) -> list[str]:
    """Non-LLM transformability checks: can this plan run at all on this dataset?"""
    problems = []
    if capacity <= 0:
        problems.append("the dataset has no usable items")
    if plan.target_source == "generator":
        return problems
    if not plan.target_field:
        problems.append("no role holds a label to use as the target")
    if not plan.input_fields and not card.media_roles():
        problems.append("no input field")
    for call in plan.tools:
        problem = tool_call_problem(call, card)
        if problem:
            problems.append(f"tool call not executable: {problem}")
    return problems


def fill_placeholders(arguments: Any, media: list[str], outputs: list[str] | None = None) -> Any:
    """Replace "{media}", "{media:N}", "{out}", "{out:N}" in tool-call arguments."""
    outputs = outputs if outputs is not None else [f"out/{i}.png" for i in range(8)]

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            for name, refs in (("media", media), ("out", outputs)):
                if value == "{" + name + "}" and refs:
                    return refs[0]
                if value.startswith("{" + name + ":") and value.endswith("}"):
                    idx = value[len(name) + 2 : -1]
                    if idx.isdigit() and int(idx) < len(refs):
                        return refs[int(idx)]
            return value
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    return fill(arguments)
