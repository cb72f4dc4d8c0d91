"""Dataset cards of procedural generators, in the General-Bench card format.

A generator's records are its `RenderedItem`s as plain data (`input`,
`target`, `choices`, `media`, `metadata`), so the field paths of its card
point there. `generator` tells the pool the dataset is procedural;
`raw_meta.parameters` lists the parameters with their ranges so a planner can
choose values.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tools.generators.base import Generator
from tools.generators.param_sampling import describe_range

# How many distinct instances the pool may ask of one generator.
DEFAULT_SIZE_SAMPLES = 100_000


def field(
    path: str, modality: str, semantics: str, *, style: str = "other",
    extent: str = "short", path_type: str = "str",
) -> dict[str, Any]:
    """One role of a card's `meta.fields`."""
    return {
        "paths": [path],
        "modality": modality,
        "content_extent": extent,
        "style": style,
        "semantics": semantics,
        "path_types": [path_type],
    }


def generator_card(
    generator: Generator,
    *,
    title: str,
    modalities: list[str],
    inputs: list[str],
    description: str,
    card_text: str,
    tasks: list[str],
    domain: str,
    fields: dict[str, dict[str, Any]],
    structure: str,
    size_samples: int = DEFAULT_SIZE_SAMPLES,
) -> dict[str, Any]:
    """The generator's card (its name, version and parameters, and the texts given):
    a dict that `tools.cards.parse_card` accepts, with `generator` set."""
    name, version = generator.name, generator.version
    return {
        "dataset_id": f"gen-{name}",
        "name": title,
        "modalities": modalities,
        "io_schemas": [{"in_": inputs, "out": ["text"]}],
        "size_samples": size_samples,
        "description": description,
        "card_text": card_text,
        "tasks": tasks,
        "domain": domain,
        "meta": {"fields": fields, "meta_structure_description": structure},
        "raw_meta": {
            "source_json": None,
            "existing_tags": {"type": "procedural", "generator_version": version},
            "original_raw_domain": None,
            "parameters": [
                {**msgspec.to_builtins(p), "range": describe_range(p)} for p in generator.params
            ],
        },
        "generator": name,
    }
