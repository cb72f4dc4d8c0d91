"""A cloze item (one masked span, no question) is asked what fills its mask, with no model call;
under a multiple-choice plan its options are other answers of the dataset that share no
content word with its answer; an open-answer plan on such a dataset becomes multiple choice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from agents.cloze import (
    cloze_question,
    mask_of,
    masked_sentence,
    needs_options,
    pool_distractors,
)
from agents.item_checks import content_stems, failed_checks
from agents.orchestrator.sourced import realize_sourced
from agents.plan_signals import item_has_what_plan_needs, sampled_items
from agents.plans import default_plan
from agents.realize import source_target
from agents.settings import RunSettings
from agents.verifier import BlindAnswer, settled_by_blind_solve
from store import events as ev
from store.events import new_event
from tests.agents.build_helpers import NoModel
from tests.agents.conftest import loaded_pool
from tools.pool import Pool

SUB = ev.Subtask(name="s", description="d", capability="c", answer_format="multiple_choice")


@pytest.fixture
def pool(general_bench: Path) -> Pool:
    return loaded_pool(general_bench, include_generators=False)


def dataset_id(pool: Pool, name: str) -> str:
    return next(c.dataset_id for c in pool.datasets if c.name == name)


def realize(pool: Pool, name: str, answer_format: str, index: int = 0,
            seed: int = 1) -> tuple[ev.SamplePlanned, ev.BenchmarkItem, Any]:
    ds = dataset_id(pool, name)
    item = pool.items(ds)[index]
    plan = msgspec.structs.replace(default_plan(SUB, pool.card(ds), 1),
                                   answer_format=answer_format)
    request = ev.RunRequested(requirement="x", size=1, seed=seed, pools=[], config={})
    slot = new_event("r", "orchestrator", ev.SlotAssigned(
        sample_id=f"s-{index}", slot=0, subtask="s", dataset_id=ds, plan_id=plan.plan_id,
        source_item_id=item.id), None)
    done = asyncio.run(realize_sourced(slot, plan, SUB, request, RunSettings(), pool,
                                       NoModel()))  # type: ignore[arg-type]
    planned = next(p for p, _ in done.batch if isinstance(p, ev.SamplePlanned))
    realized = next(p for p, _ in done.batch if isinstance(p, ev.SampleRealized))
    return planned, realized.item, item


def test_masks() -> None:
    assert mask_of(["lose 15 pounds in <MASK> ."]) == "<MASK>"
    assert mask_of(["It's just [MASK].", "no mask here"]) == "[MASK]"
    assert mask_of(["Fill the blank: ____ ."]) == "____"
    assert mask_of(["<MASK> and <MASK>"]) is None  # two spans: which one is asked?
    assert mask_of(["a plain sentence", "What is the cause?"]) is None


def test_a_multiple_choice_cloze_item_takes_other_answers_as_options(pool: Pool) -> None:
    for index in range(8):
        planned, built, source = realize(pool, "Temporal-Reasoning", "multiple_choice", index)
        assert not planned.specialised and "cloze item" in planned.notes[0]
        assert built.metadata["question"] == cloze_question("<MASK>", True)
        assert built.choices is not None and len(built.choices) == 4
        target, acceptable = source_target(source.fields["answer"])
        assert built.choices[ord(built.target) - ord("A")] == target
        assert built.metadata["distractors_from"] == "answer_pool"
        # No option says what the answer or another option says.
        keys = [content_stems(c) for c in built.choices]
        answer_key = frozenset().union(*(content_stems(a) for a in acceptable))
        for i, key in enumerate(keys):
            if built.choices[i] != target:
                assert not key & answer_key, (built.choices, acceptable)
        assert not [c for c in failed_checks(built, None)], built


def test_distractors_depend_on_the_item_and_the_seed(pool: Pool) -> None:
    ds = dataset_id(pool, "Temporal-Reasoning")
    acceptable = ["2 months", "two months", "60 days", "eight weeks"]
    first = pool_distractors(pool, ds, "answer", acceptable, 1, "s-0")
    assert first == pool_distractors(pool, ds, "answer", acceptable, 1, "s-0")
    assert len(first) == 3 and all(
        not {"month", "day", "week", "60", "eight", "2", "two"} & content_stems(d)
        for d in first)
    others = {tuple(pool_distractors(pool, ds, "answer", acceptable, seed, "s-0"))
              for seed in range(2, 8)}
    assert len(others) > 1


def test_a_short_answer_cloze_item_is_asked_what_fills_the_mask(pool: Pool) -> None:
    planned, built, source = realize(pool, "Temporal-Reasoning", "short_answer")
    assert built.choices is None
    assert built.metadata["question"] == cloze_question("<MASK>", False)
    assert "<MASK>" in built.input and built.input.endswith(cloze_question("<MASK>", False))
    assert built.metadata["acceptable_answers"] == source_target(source.fields["answer"])[1]
    assert "cloze item" in planned.notes[0] and "options" not in planned.notes[0]


def test_an_open_answer_plan_on_cloze_items_becomes_multiple_choice(pool: Pool) -> None:
    ds = dataset_id(pool, "Temporal-Reasoning")
    card = pool.card(ds)
    plan = msgspec.structs.replace(default_plan(SUB, card, 1), answer_format="short_answer")
    sources = sampled_items(pool, ds)
    assert "multiple choice" in needs_options(plan, sources)
    assert needs_options(msgspec.structs.replace(plan, answer_format="multiple_choice"),
                         sources) == ""
    mc = msgspec.structs.replace(plan, answer_format="multiple_choice")
    # Its options come from the data, not from a model: the item has what the plan needs.
    assert all(item_has_what_plan_needs(mc, s) == 1.0 for s in sources)
    # A dataset without masks (or with one answer per item) keeps its open answers.
    for name in ("Temporal-Event-Reasoning", "Causal-Reasoning"):
        other = pool.card(dataset_id(pool, name))
        open_plan = msgspec.structs.replace(default_plan(SUB, other, 1),
                                            answer_format="short_answer")
        assert needs_options(open_plan, sampled_items(pool, other.dataset_id)) == "", name


def test_a_cloze_item_whose_blind_solve_reaches_the_label_is_not_judged(pool: Pool) -> None:
    """Its question names no time cue ("Which option best fills <MASK>…?"), but the sentence
    holding the mask and the options that may fill it do: the cue check reads those."""
    _, built, source = realize(pool, "Temporal-Reasoning", "multiple_choice", index=2)
    sentence = built.metadata["cloze_sentence"]
    assert "<MASK>" in sentence and sentence in str(source.fields["context"])
    assert len(sentence) < len(built.input) / 2
    # An instruction that names the mask too is not what the item asks about.
    assert masked_sentence("Fill the <MASK> token.\n\nContext:\nA: It is <MASK> now.",
                           "<MASK>") == "Fill the <MASK> token."
    sub = ev.Subtask(name="Event duration", description="How long everyday events last",
                     capability="temporal reasoning about durations",
                     answer_format="multiple_choice")
    realized = ev.SampleRealized(sample_id=built.id, item=built, source=ev.SourceLabel(
        dataset_id=source.dataset_id, item_id=source.id, field_path="output.answer"))
    settled = settled_by_blind_solve(realized, BlindAnswer(built.target, True), sub)
    assert settled is not None and all(v.passed for v in settled)
    assert "not judged" in settled[-1].reason
    # Without the mask's sentence and options, the question alone names no cue: judged.
    bare = msgspec.structs.replace(built, metadata={
        k: v for k, v in built.metadata.items() if k != "cloze_sentence"})
    assert settled_by_blind_solve(msgspec.structs.replace(realized, item=bare),
                                  BlindAnswer(built.target, True), sub) is None
    # A blind solve that misses the label is judged whatever the item asks.
    assert settled_by_blind_solve(realized, BlindAnswer("A", False), sub) is None
