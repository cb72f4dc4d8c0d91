"""A classification dataset's closed label set gives a multiple-choice item its options, with
no model call; open answers, letters and scattered answers are not label sets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from agents.label_set import closed_labels, label_distractors
from agents.orchestrator.sourced import realize_sourced
from agents.plans import default_plan
from agents.settings import RunSettings
from store import events as ev
from store.events import new_event
from tests.agents.build_helpers import NoModel
from tests.agents.conftest import loaded_pool
from tools.pool import Pool

SUB = ev.Subtask(name="s", description="d", capability="c", answer_format="multiple_choice")


@pytest.fixture
def pool(general_bench: Path) -> Pool:
    return loaded_pool(general_bench, include_generators=False)


def card_named(pool: Pool, name: str) -> Any:
    return next(c for c in pool.datasets if c.name == name)


def test_closed_label_sets_of_the_pool(pool: Pool) -> None:
    relations = closed_labels(pool, card_named(pool, "Temporal-Event-Reasoning").dataset_id,
                              "answer")
    assert len(relations) == 13 and relations[:3] == ["IDENTITY", "BEFORE", "AFTER"]
    inference = closed_labels(pool, card_named(pool, "Natural-Language-Inference").dataset_id,
                              "answer")
    assert sorted(inference) == ["contradiction", "entailment", "neutral"]
    # Open answers (178 different time spans), option letters, and a VQA set whose 44
    # answers name 12 different things are not label sets.
    for name in ("Temporal-Reasoning", "Causal-Reasoning", "Chemistry Vqa"):
        assert closed_labels(pool, card_named(pool, name).dataset_id, "answer") == [], name
    assert label_distractors(relations, ["before"]) == ["IDENTITY", "AFTER", "SIMULTANEOUS"]


def test_an_item_without_options_takes_them_from_the_label_set(pool: Pool) -> None:
    card = card_named(pool, "Temporal-Event-Reasoning")
    item = pool.items(card.dataset_id)[0]
    plan = msgspec.structs.replace(default_plan(SUB, card, 1), answer_format="multiple_choice")
    request = ev.RunRequested(requirement="x", size=1, seed=1, pools=[], config={})
    slot = new_event("r", "orchestrator", ev.SlotAssigned(
        sample_id="s-1", slot=0, subtask="s", dataset_id=card.dataset_id,
        plan_id=plan.plan_id, source_item_id=item.id), None)
    done = asyncio.run(realize_sourced(slot, plan, SUB, request, RunSettings(), pool,
                                       NoModel()))  # type: ignore[arg-type]
    planned = next(p for p, _ in done.batch if isinstance(p, ev.SamplePlanned))
    realized = next(p for p, _ in done.batch if isinstance(p, ev.SampleRealized))
    assert not planned.specialised and "label set (13 labels" in planned.notes[0]
    built = realized.item
    assert built.choices is not None and len(built.choices) == 4
    label = str(item.fields["answer"])
    assert built.choices[ord(built.target) - ord("A")] == label
    assert set(built.choices) - {label} <= {"IDENTITY", "BEFORE", "AFTER", "SIMULTANEOUS"}
    assert built.metadata["distractors_from"] == "label_set"
    assert built.metadata["answer_format"] == "multiple_choice"
