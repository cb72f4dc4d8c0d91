"""A synthesized generator as a subtask's grounding, used like a built-in generator: a plan
(`TransformationPlan` on dataset `gen-<name>`), quotas, and its own capacity.

`when_to_synthesize` reads the run's wish: always (`--synthesize`: an extra candidate),
as a fallback when no pool plan grounds the subtask (the default), or never (the
`synthesis` ablation).
"""

from __future__ import annotations

import re
from typing import Literal

from agents.base import LLM, AgentContext, Batch
from agents.keys import plan_id
from agents.plans import GENERATOR_TOOL
from agents.settings import RunSettings
from agents.synthesis.flow import Synthesizer
from agents.synthesis.plan import generator_name
from replay.projections.synthesis import generator_dataset_id
from store.events import (
    Envelope,
    GeneratorSynthesized,
    Grounding,
    Payload,
    PlanProposed,
    RunRequested,
    Subtask,
    TransformationPlan,
)
from tools.generators.card_format import DEFAULT_SIZE_SAMPLES

SYNTHESIZED_CAPACITY = DEFAULT_SIZE_SAMPLES  # distinct instances a generator may be asked for

When = Literal["always", "fallback", "never"]


def when_to_synthesize(request: RunRequested, settings: RunSettings) -> When:
    if "synthesis" in request.disabled:
        return "never"
    return "always" if settings.synthesize else "fallback"


def generator_plan_for(record: GeneratorSynthesized) -> TransformationPlan:
    """The transformation plan of a synthesized generator: its instances as they render."""
    return TransformationPlan(
        plan_id=record.plan_id, subtask=record.subtask,
        dataset_id=generator_dataset_id(record.name),
        instructions=f"Generate problems with the synthesized generator {record.name} "
                     f"(sha256 {record.sha256[:12]}): {record.description}",
        target_field="answer", answer_format="generator",
        tools=[{"name": GENERATOR_TOOL, "arguments": {"generator": record.name, "params": {}}}],
        target_source="generator")


# Words that say a subtask's inputs are media; synthesized generators make text problems.
# Read from the subtask's own words, not from the model's modality preference: the 1.5B
# asked for image and audio to "schedule a call across time zones".
MEDIA_WORDS = {
    "image": ("image", "images", "picture", "pictures", "photo", "photos", "visual", "diagram",
              "chart", "charts"),
    "audio": ("audio", "speech", "spoken", "sound", "sounds", "voice", "listen"),
    "video": ("video", "videos"),
}
_WORD = re.compile(r"[a-z]+")


def media_needed(sub: Subtask) -> list[str]:
    """The media a subtask's words say its inputs need (none: text)."""
    words = set(_WORD.findall(f"{sub.name} {sub.description} {sub.capability}".lower()))
    return [media for media, keys in MEDIA_WORDS.items() if words & set(keys)]


async def synthesized_grounding(
    cause: Envelope[Payload], sub: Subtask, round_: int, settings: RunSettings,
    llm: LLM, ctx: AgentContext,
) -> tuple[Batch, Grounding | None, str]:
    """Plan, write and check a generator for the subtask: (decision events, its grounding or
    None, how it went in one line). The attempts are recorded as they happen."""
    media = media_needed(sub)
    if media:
        return [], None, (f"not attempted: the subtask needs {'+'.join(media)} inputs and "
                          "synthesized generators make text problems")
    pid = plan_id(sub.name, generator_dataset_id(generator_name(sub.name)), round_)
    synthesizer = Synthesizer(ctx, llm, cause, settings)
    plan = await synthesizer.plan(sub, pid)
    if isinstance(plan, str):
        return [], None, plan
    result = await synthesizer.write(plan, round_=round_,
                                     reason=f"planned for subtask {sub.name!r}")
    if result.record is None and result.plan_problem:
        # The code checked out but where the plan's ranges decide as much as the code (the
        # spread of complexity; a failure only at the ranges' corners): the P-Agent revises
        # its plan once, and the last code is checked first over the new ranges.
        revised = await synthesizer.plan(sub, pid, revising=plan, because=result.plan_problem)
        if not isinstance(revised, str):
            result = await synthesizer.write(
                revised, round_=round_, revision=2, reason=result.plan_problem,
                first_parts=result.last_parts)
    record = result.record
    if record is None:
        return [], None, result.reason
    batch: Batch = [
        (record, f"{record.name}:r{record.revision}"),
        (PlanProposed(plan=generator_plan_for(record), reason=result.reason), record.plan_id),
    ]
    grounding = Grounding(subtask=sub.name, dataset_id=generator_dataset_id(record.name),
                          plan_id=record.plan_id, capacity=SYNTHESIZED_CAPACITY)
    return batch, grounding, result.reason
