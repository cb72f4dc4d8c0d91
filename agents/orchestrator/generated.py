"""A slot on a generator becomes a generator instance: seeded, rendered, correct by
construction; the item records its `GeneratedBy` (name, version, seed, parameters), from
which the Verifier and the scorer re-create it. A synthesized generator's version is its
source's sha256 prefix."""

from __future__ import annotations

import tempfile
from pathlib import Path

from agents.keys import derive_seed
from agents.orchestrator.tool_runs import Realization
from agents.plans import GENERATOR_TOOL
from store.events import (
    BenchmarkItem,
    GeneratedBy,
    SamplePlanned,
    SampleRealized,
    SlotAssigned,
    TransformationPlan,
)
from tools.generators.base import Generator


def realize_generated(p: SlotAssigned, plan: TransformationPlan, gen: Generator,
                      run_seed: int) -> Realization:
    """`SamplePlanned`, the instance's media (`MediaStored`, bytes beside) and its
    `SampleRealized`."""
    call = next((t for t in plan.tools if t.get("name") == GENERATOR_TOOL), {})
    params = dict(call.get("arguments", {}).get("params", {}))
    index = int(p.source_item_id.rsplit("#", 1)[1])
    seed = derive_seed(run_seed, "generator", p.dataset_id, index)
    generator = gen.name
    instance = gen.sample(seed, params)
    out = Realization(batch=[(SamplePlanned(
        sample_id=p.sample_id, plan_id=plan.plan_id,
        instructions=f"{generator} instance with seed {seed}",
        tool_calls=[{"name": GENERATOR_TOOL, "arguments": {"generator": generator,
                                                           "seed": seed, "params": params}}],
        specialised=False), p.sample_id)])
    with tempfile.TemporaryDirectory(prefix="benchagent-gen-") as tmp:
        rendered = gen.render(instance, Path(tmp))
        media = []
        for rel in rendered.media:
            path = Path(tmp) / rel
            media.append(out.add_media(path.read_bytes(), path.suffix.lower() or ".bin").name)
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
    out.batch.append((SampleRealized(sample_id=p.sample_id, item=item, source=source),
                      p.sample_id))
    return out
