"""Template placeholders filled from the item's own fields, and planned questions that fall
back to the source's (real General-Bench items)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from agents.item_checks import answer_texts, check_placeholders
from agents.orchestrator.sourced import answer_shortcut, dropped_key_terms, question_fallback
from agents.plans import default_plan
from agents.realize import Draft
from store.events import BenchmarkItem, Subtask, TransformationPlan
from tests.agents.conftest import loaded_pool
from tools.pool import Pool

COPA = "7fb63e11"  # Causal-Reasoning: "What is the effect of: <premise>?" with two options
SUBTASK = Subtask(name="Everyday cause and effect", description="Pick the cause or effect.",
                  capability="causal reasoning", answer_format="multiple_choice")
@pytest.fixture
def pool(general_bench: Path) -> Pool:
    return loaded_pool(general_bench, include_generators=False)


def draft_of(pool: Pool, item_id: str, **plan_changes: object) -> tuple[Draft, TransformationPlan]:
    plan = default_plan(SUBTASK, pool.card(COPA), 1)
    plan = msgspec.structs.replace(plan, **plan_changes) if plan_changes else plan
    item = next(i for i in pool.items(COPA) if i.id == item_id)
    return Draft(plan, pool.card(COPA), item), plan


def build(draft: Draft, question: str | None = None) -> BenchmarkItem:
    return draft.build("s-1", SUBTASK.name, question=question, distractors=[], media=[],
                       run_seed=1, extra_metadata={})


def test_a_template_placeholder_is_filled_from_the_item(pool: Pool) -> None:
    draft, plan = draft_of(pool, "cr022", question_template="What is the cause of {event}?")
    premise = draft.premise
    assert premise and premise in draft.source_question
    item = build(draft)
    # The demo's "What is the cause of {event}?" now names the item's own event.
    assert f"What is the cause of {premise.rstrip(' ?.!')}?" in item.input
    assert "{event}" not in item.input and check_placeholders(item, plan).passed
    # A role the card has is filled with that field; a name nothing fills stays (and the
    # Verifier's check rejects the item).
    draft, plan = draft_of(pool, "cr022", question_template="Read: {question} [OUTCOME]")
    item = build(draft)
    assert draft.source_question in item.input.split("\n\n")[0]
    assert "[OUTCOME]" in item.input and not check_placeholders(item, plan).passed
    # A planned question's placeholders are filled the same way.
    draft, _ = draft_of(pool, "cr022")
    assert draft.filled("Why did {premise} happen?") == f"Why did {premise.rstrip(' ?.!')} happen?"


def test_a_rewrite_that_drops_the_source_entities_falls_back(pool: Pool) -> None:
    source = "What is the effect of: Tom set out to go to the dense regions in 1866?"
    assert "'Tom'" in dropped_key_terms(source, "What is the effect of going somewhere?")
    assert "'1866'" in dropped_key_terms(source, "What did Tom do in the dense regions?")
    assert dropped_key_terms(source, "What happened after Tom went to the dense regions "
                                     "in 1866?") == ""
    assert "content words" in dropped_key_terms("What is the effect of: the river flooded "
                                                "after heavy rain?", "What is the effect?")


def test_question_fallback_names_why(pool: Pool) -> None:
    draft, plan = draft_of(pool, "cr022")
    source = build(draft)
    answer = str(source.metadata["answer_text"])

    def why(question: str) -> str:
        return question_fallback(draft, plan, build(draft, question), source, question)

    # A faithful rewrite is kept.
    assert why(f"{draft.source_question} Choose the more likely option.") == ""
    # One that states the answer, or loses the event, is not.
    assert "gives the answer away" in why(f"Given that {answer.rstrip('.')}, what happened?")
    assert why("Which option is the most likely?") != ""
    # One that makes the item fail a check the source passes.
    assert "placeholder" in why(f"{draft.source_question} Consider [OUTCOME_TYPE].")


def test_a_rewrite_that_says_most_of_the_answers_words_falls_back(pool: Pool) -> None:
    # The demo's rewrite of "What is the effect of: Mary read some papers.?" (target "She
    # knew lots of details."): not the answer's text, but "knowledge" and "details".
    draft, plan = draft_of(pool, "cr022")
    source = build(draft)
    assert source.metadata["answer_text"] == "She knew lots of details."
    mary = "What is the effect of Mary reading some papers on her knowledge of details?"
    planned = build(draft, mary)
    why = question_fallback(draft, plan, planned, source, mary)
    assert why.startswith("it gives the answer away: it says 2 of the 3 content words")
    assert "know" in why and "detail" in why
    # Rewrites that name the event, or one of the answer's words, are kept.
    for kept in ("What happened because Mary read some papers?",
                 "Mary read some papers. What was the most likely effect?",
                 "What is the effect of Mary reading some papers on the details she saw?"):
        assert question_fallback(draft, plan, build(draft, kept), source, kept) == "", kept
    # Words the source question already said are no shortcut: an answer that repeats the
    # premise is the answer_is_premise check's.
    assert answer_shortcut("What is the effect of: Mary read some papers?",
                           "What did Mary do after reading papers?",
                           ["Mary read the papers."]) == ""


def test_no_faithful_rewrite_of_a_real_item_is_taken_for_a_shortcut(pool: Pool) -> None:
    """Every Causal-Reasoning item, rewritten as the planner rewrites faithfully (the
    premise in other words, no option's words), keeps its question."""
    for item in pool.items(COPA):
        draft, plan = draft_of(pool, item.id)
        premise = (draft.premise or "").rstrip(" ?.!")
        for question in (f"Given that {premise}, what most likely followed?",
                         f"{premise}. Which option is the more plausible one?"):
            assert answer_shortcut(draft.source_question, question,
                                   answer_texts(build(draft))) == "", (item.id, question)
