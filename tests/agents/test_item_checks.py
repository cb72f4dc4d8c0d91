"""Programmatic item checks on real General-Bench items: items that trip each check, items
that must pass."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from agents.item_checks import (
    check_answer_in_question,
    check_answer_is_premise,
    check_boilerplate,
    check_context,
    check_dangling_premise,
    check_duplicate_options,
    check_item,
    check_offensive,
    check_option_count,
    check_placeholders,
    check_truncated_options,
    cut_from,
    failed_checks,
    placeholders,
    truncation,
    unfillable_placeholders,
)
from agents.plans import default_plan
from agents.realize import Draft, with_question
from store.events import BenchmarkItem, Subtask, TransformationPlan
from tests.agents.conftest import loaded_pool
from tools.pool import Pool

COPA = "7fb63e11"  # Causal-Reasoning
PASSAGES = "2681e85c"  # Document-Level-Causal-Reasoning
TEMPORAL = "37a67448"  # Temporal-Reasoning: dialogues with a <MASK>ed time span
NEWS = "0fa3ee6d"  # Event-Coreference-Resolution (scraped news pages)
TIMEBANK = "ca4f9ec3"  # Temporal-Event-Reasoning: "<<<raw_text>>>. Given two events…"
NLI = "c78e5c5c"  # Natural-Language-Inference: "<<<raw_text>>>. What is the relationship…"
SUBTASK = Subtask(name="Everyday cause and effect", description="Pick the cause or effect.",
                  capability="causal reasoning", answer_format="multiple_choice")


@pytest.fixture
def pool(general_bench: Path) -> Pool:
    return loaded_pool(general_bench, include_generators=False)


def plan_for(pool: Pool, dataset_id: str, **changes: object) -> TransformationPlan:
    plan = default_plan(SUBTASK, pool.card(dataset_id), 1)
    return msgspec.structs.replace(plan, **changes) if changes else plan


def realize(pool: Pool, dataset_id: str, item_id: str, plan: TransformationPlan | None = None,
            question: str | None = None, distractors: list[str] | None = None,
            **field_changes: object) -> tuple[BenchmarkItem, TransformationPlan]:
    plan = plan or plan_for(pool, dataset_id)
    item = next(i for i in pool.items(dataset_id) if i.id == item_id)
    if field_changes:
        item = msgspec.structs.replace(item, fields={**item.fields, **field_changes})
    built = Draft(plan, pool.card(dataset_id), item).build(
        "s-1", SUBTASK.name, question=question, distractors=distractors or [], media=[],
        run_seed=1, extra_metadata={}, planned=question is not None or bool(distractors))
    return built, plan


def test_real_copa_and_passage_items_pass_every_check(pool: Pool) -> None:
    # The first 40 items of two real datasets, as the default plan realizes them: the
    # checks must not reject sound items (the known offenders are listed in other tests).
    for dataset_id in (COPA, PASSAGES):
        plan = plan_for(pool, dataset_id)
        for source in pool.items(dataset_id)[:40]:
            # cr151 offers a slur; dcr084/099/105 carry a copyright footer; the word list
            # counts the "rat urine" of cr371 as offensive (a replacement, not a harm).
            if source.id in ("cr151", "cr371", "dcr084", "dcr099", "dcr105"):
                continue
            built, _ = realize(pool, dataset_id, source.id, plan)
            failed = failed_checks(built, plan)
            assert not failed, (source.id, failed)
            assert len(check_item(built, plan)) == 10


def test_unfilled_template_placeholder_in_the_question(pool: Pool) -> None:
    # The demo's six rejected items read literally "What is the cause of {event}?" (realization
    # now fills it from the item: see test_realization_fills_placeholders_from_the_item).
    built, plan = realize(pool, COPA, "cr022")
    built = with_question(built, "What is the cause of {event}?")
    verdict = check_placeholders(built, plan)
    assert not verdict.passed and "'{event}'" in verdict.reason and "question" in verdict.reason
    templated = plan_for(pool, COPA, question_template="Explain {{ mood }} [INSERT CAUSE]")
    built, _ = realize(pool, COPA, "cr022", templated)
    verdict = check_placeholders(built, templated)
    assert not verdict.passed and "{{ mood }}" in verdict.reason and "[INSERT CAUSE]" in verdict.reason
    assert check_placeholders(*realize(pool, COPA, "cr022")).passed


def test_placeholder_patterns_spare_latex_json_names_and_cloze_blanks() -> None:
    assert placeholders("Solve $\\frac{a}{b} = x^{2}$ and return {\"a\": 1}.") == []
    assert placeholders("Ask [Name] about the [citation needed] at <MASK> or [MASK].") == []
    assert placeholders("What is the cause of {event}? Use {{x}} and [PLACEHOLDER].") == [
        "{event}", "{{x}}", "[PLACEHOLDER]"]
    assert placeholders("Write <your answer here>. Lorem ipsum.") == [
        "<your answer here>", "Lorem ipsum"]


def test_template_placeholders_the_card_cannot_fill(pool: Pool) -> None:
    roles = list(pool.card(COPA).meta.fields)  # question, options, answer
    assert unfillable_placeholders("What is the cause of {event}?", roles) == ["{event}"]
    assert unfillable_placeholders("Read {question} and pick from {{ options }}.", roles) == []
    assert unfillable_placeholders("Context: [CONTEXT]. {question}", roles) == ["[CONTEXT]"]
    passage_roles = list(pool.card(PASSAGES).meta.fields)
    assert unfillable_placeholders("Context: [CONTEXT]. {question}", passage_roles) == []


def test_options_cut_off_mid_sentence(pool: Pool) -> None:
    # The demo's distractors were cut at the grammar's 120-character bound.
    cut = ("The Intergovernmental Panel on Climate Change (IPCC), which,",
           "The consumption of fossil fuels and the",
           "Scientists agree that the main driver is (mostly human",
           "Global temperatures rose because of the emissions of",
           "Changes in our energy behaviour […]")
    built, plan = realize(pool, PASSAGES, "dcr022",
                          plan_for(pool, PASSAGES, answer_format="multiple_choice"),
                          distractors=list(cut[:3]))
    assert built.choices is not None and len(built.choices) == 4
    verdict = check_truncated_options(built)
    assert not verdict.passed
    assert verdict.reason.count("option") == 3 and "ends with ','" in verdict.reason
    for text in cut:
        assert truncation(text) is not None, text
    for whole in ("Find someone else to go with", "Ask the girl on a date", "composed",
                  "She knew lots of details.", "in order to prevent the spread of HIV"):
        assert truncation(whole) is None, whole
    assert truncation("The passage says the effect is a long drawn out process of erosion",
                      siblings_terminated=True) is not None


def test_an_option_copied_from_the_context_that_stops_mid_word(pool: Pool) -> None:
    # Sample planning on the 1.5B (calendar requirement) wrote distractors as 120 characters
    # of the dialogue; the item was accepted.
    cut = ("The notice you received is a <MASK> notice to vacate . A: Are you kidding me ? B: I "
           "mentioned to you before that you nee")
    built, _ = realize(pool, TEMPORAL, "tr014",
                       plan_for(pool, TEMPORAL, answer_format="multiple_choice"),
                       distractors=[cut, "two weeks"])
    assert cut in built.input
    verdict = check_truncated_options(built)
    assert not verdict.passed and "inside the word 'need' of the context" in verdict.reason
    assert cut_from("you need to keep up", built.input) is None  # whole words: a fair span
    assert cut_from(cut, "the dialogue is not quoted here") is None


def test_duplicate_and_too_few_options(pool: Pool) -> None:
    built, _ = realize(pool, COPA, "cr022")
    assert check_duplicate_options(built).passed and check_option_count(built).passed
    twin = msgspec.structs.replace(built, choices=["She knew lots of details.",
                                                   "she knew lots of details"])
    verdict = check_duplicate_options(twin)
    assert not verdict.passed and "options A and B say the same" in verdict.reason
    single = msgspec.structs.replace(built, choices=["She knew lots of details."], target="A")
    assert not check_option_count(single).passed
    unmarked = msgspec.structs.replace(built, choices=None,
                                       metadata={**built.metadata,
                                                 "answer_format": "multiple_choice"})
    assert "no options" in check_option_count(unmarked).reason


def test_answer_stated_by_the_question_or_equal_to_the_premise(pool: Pool) -> None:
    # The demo's rewrite: "What is the effect of Tom setting out to go to the dense regions
    # on production?" whose target was "Tom set out to go to the dense regions."
    built, _ = realize(pool, COPA, "cr022")
    rewritten = msgspec.structs.replace(
        built, choices=["He bought a soda.", "Tom set out to go to the dense regions."],
        target="B",
        metadata={**built.metadata, "answer_text": "Tom set out to go to the dense regions.",
                  "question": "What is the effect of Tom setting out to go to the dense "
                              "regions on production?"})
    assert not check_answer_in_question(rewritten).passed
    premise = check_answer_is_premise(rewritten)
    assert not premise.passed and "restates the premise" in premise.reason
    # The real item: "What is the effect of: Mary read some papers.?" -> "She knew lots of details."
    assert check_answer_in_question(built).passed and check_answer_is_premise(built).passed


def test_a_sources_pointer_at_its_own_passage_is_resolved_or_rejected(pool: Pool) -> None:
    # TimeBank and SNLI questions open with "<<<raw_text>>>." — their passage, which the item
    # shows above the question. The temporal run accepted an item that still said so.
    for dataset_id in (TIMEBANK, NLI):
        source = pool.items(dataset_id)[0]
        assert str(source.fields["question"]).startswith("<<<raw_text>>>. ")
        built, plan = realize(pool, dataset_id, source.id)
        assert "<<<" not in built.input and check_placeholders(built, plan).passed
        rest = str(source.fields["question"]).removeprefix("<<<raw_text>>>. ")
        assert built.input.endswith(f"Question: {rest}")
        assert str(source.fields["context"])[:60] in built.input  # the passage, above
    # Inside a sentence it names the passage; a marker no field feeds is rejected.
    built, plan = realize(pool, NLI, pool.items(NLI)[0].id,
                          question="Given <<<raw_text>>>, is the hypothesis true?")
    assert "Given the text above, is the hypothesis true?" in built.input
    built, plan = realize(pool, NLI, pool.items(NLI)[0].id, question="<<<gold_label>>>: true?")
    verdict = check_placeholders(built, plan)
    assert not verdict.passed and "<<<gold_label>>>" in verdict.reason


def test_a_premise_that_continues_a_missing_sentence(pool: Pool) -> None:
    # The demo accepted cr074: "What is the cause of: But the students can't understand the
    # example.?" — the sentence "But" answers is not in the item, and neither is a cause.
    built, plan = realize(pool, COPA, "cr074")
    verdict = check_dangling_premise(built)
    assert not verdict.passed and "opens with 'But'" in verdict.reason
    assert [c.check for c in failed_checks(built, plan)] == ["dangling_premise"]
    # A word that only starts like a connective, and a question without a premise, pass.
    butter = msgspec.structs.replace(built, metadata={
        **built.metadata, "question": "What is the effect of: Butter was left in the sun.?"})
    assert check_dangling_premise(butter).passed
    # Over every cause/effect premise of the dataset, cr074 is the only one.
    tripped = [s.id for s in pool.items(COPA)
               if not check_dangling_premise(realize(pool, COPA, s.id, plan)[0]).passed]
    assert tripped == ["cr074"]


def test_empty_context_where_the_plan_needs_one(pool: Pool) -> None:
    plan = plan_for(pool, PASSAGES)
    assert "context" in plan.input_fields
    built, _ = realize(pool, PASSAGES, "dcr022", plan)
    assert check_context(built, plan).passed
    empty, _ = realize(pool, PASSAGES, "dcr022", plan, context="  ")
    verdict = check_context(empty, plan)
    assert not verdict.passed and "feeds context into the item" in verdict.reason
    copa, copa_plan = realize(pool, COPA, "cr022")
    assert check_context(copa, copa_plan).passed  # its plan needs no context
    assert check_context(empty, None).passed  # no plan: nothing says a context is needed


def test_boilerplate_scraped_into_real_passages(pool: Pool) -> None:
    found = {}
    for dataset_id, item_id in ((PASSAGES, "dcr084"), (PASSAGES, "dcr469"), (NEWS, "test_0424")):
        built, _ = realize(pool, dataset_id, item_id)
        verdict = check_boilerplate(built)
        assert not verdict.passed, item_id
        found[item_id] = verdict.reason
    assert "copyright notice" in found["dcr084"] and "Q&A-site prompt" in found["dcr084"]
    assert "sharing prompt" in found["dcr469"]
    assert "HTML markup" in found["test_0424"] and "copyright notice" in found["test_0424"]
    clean, _ = realize(pool, PASSAGES, "dcr022")
    assert check_boilerplate(clean).passed


def test_offensive_option_from_the_source_data(pool: Pool) -> None:
    # cr151 offers "Tom is a homo." as the wrong cause of "Tom is American."
    built, _ = realize(pool, COPA, "cr151")
    verdict = check_offensive(built)
    assert not verdict.passed and "'homo'" in verdict.reason and "option A" in verdict.reason
    profane, _ = realize(pool, COPA, "cr240")  # "...her colon expels shit swiftly..."
    assert "'shit' (high) in the question" in check_offensive(profane).reason
    slur = msgspec.structs.replace(built, input=built.input + "\n\nHe called him a faggot.",
                                   choices=["Tom was born in Indiana.", "Tom is tall."])
    assert "slur 'faggot' in the input" in check_offensive(slur).reason
    # Passages may quote mild or sexual words: only slurs count there.
    hiv, _ = realize(pool, PASSAGES, "dcr470")  # a talk on HIV: sex, drugs, needles
    assert check_offensive(hiv).passed
    clean, _ = realize(pool, COPA, "cr022")
    assert check_offensive(clean).passed


def test_a_media_role_is_no_missing_context(pool: Pool) -> None:
    # Lung-nodule VQA: the plan feeds the image (an attachment, not a text section) and the
    # question; the image is no context the item lacks once the card says it is media.
    lungs = "a538c57a"
    card = pool.card(lungs)
    plan = plan_for(pool, lungs, input_fields=["image", "question"])
    item = pool.items(lungs)[0]
    built = Draft(plan, card, item).build("s-1", SUBTASK.name, question=None, distractors=[],
                                          media=["media/x.png"], run_seed=1, extra_metadata={},
                                          planned=False)
    assert card.media_roles() == ["image"]
    assert check_context(built, plan, media_roles=card.media_roles()).passed
    assert "empty_context" not in {c.check for c in failed_checks(built, plan, card.media_roles())}
    # Without the card's word, "Image" reads as a text section the item lacks (here the
    # image file name was realized as text: an item without media would be refused).
    text_only = msgspec.structs.replace(built, media=[], input="Question: Is it malignant?")
    assert not check_context(text_only, plan).passed
    assert check_context(text_only, plan, media_roles=card.media_roles()).passed


def test_an_item_with_media_has_its_context(pool: Pool) -> None:
    # Bird detection: its context field repeats the question (realization drops the copy), the
    # image is what the question is about: no missing context.
    birds = "6f1bd1c5"
    plan = plan_for(pool, birds, input_fields=["context", "question"])
    item = pool.items(birds)[0]
    draft = Draft(plan, pool.card(birds), item)
    with_image = draft.build("s-1", SUBTASK.name, question=None, distractors=[],
                             media=["media/x.png"], run_seed=1, extra_metadata={}, planned=False)
    assert check_context(with_image, plan).passed
    text_only = msgspec.structs.replace(with_image, media=[])
    assert not check_context(text_only, plan).passed
