"""Realizing items from real General-Bench records, checking their format, scoring answers."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from agents.answers import chosen_letter, letter_of, letter_shares, normalize_answer
from agents.checks import format_problems
from agents.plans import default_plan
from agents.realize import Draft, source_target, target_as_letter, with_question
from agents.scoring import score_answer
from agents.verifier import required_share
from store.events import BenchmarkItem, SourceLabel, Subtask
from tools.pool import Pool

SUB = Subtask(name="s", description="d", capability="c", answer_format="multiple_choice")


_POOLS: dict[Path, Pool] = {}


@pytest.fixture
def pool(general_bench: Path) -> Pool:
    if general_bench not in _POOLS:
        _POOLS[general_bench] = Pool.load([general_bench], include_generators=False)
    return _POOLS[general_bench]


def by_name(pool: Pool, name: str):
    return next(c for c in pool.datasets if c.name == name)


def test_letter_labels_with_options_become_choices(pool: Pool) -> None:
    card = by_name(pool, "Ethical-Reasoning")
    plan = default_plan(SUB, card, 1)
    item = pool.items(card.dataset_id)[0]
    built = Draft(plan, card, item).build("x-1", "s", question=None, distractors=[], media=[],
                                          run_seed=1, extra_metadata={})
    assert built.choices == item.fields["options"]
    assert built.target == item.fields["answer"]
    assert built.metadata["answer_text"] == item.fields["options"][ord(built.target) - 65]
    assert format_problems(built, "x-1", set()) == []


def test_list_answers_keep_every_acceptable_form(pool: Pool) -> None:
    card = by_name(pool, "Temporal-Reasoning")
    item = pool.items(card.dataset_id)[3]
    plan = default_plan(SUB, card, 1)
    built = Draft(plan, card, item).build("t-1", "s", question="What fills <MASK>?",
                                          distractors=[], media=[], run_seed=1, extra_metadata={})
    answers = item.fields["answer"]
    assert built.target == answers[0] and built.choices is None
    if len(answers) > 1:
        assert built.metadata["acceptable_answers"] == answers
    assert "<MASK>" in built.input and built.input.endswith("Question: What fills <MASK>?")


def test_distractors_make_multiple_choice_with_a_seeded_order(pool: Pool) -> None:
    card = by_name(pool, "Temporal-Reasoning")
    item = pool.items(card.dataset_id)[0]
    plan = default_plan(SUB, card, 1)
    plan = type(plan)(**{**{f: getattr(plan, f) for f in plan.__struct_fields__},
                         "answer_format": "multiple_choice"})
    draft = Draft(plan, card, item)
    wrong = ["ten minutes", "a decade", "three weeks"]
    one = draft.build("t-1", "s", question="q?", distractors=wrong, media=[], run_seed=1,
                      extra_metadata={})
    again = draft.build("t-1", "s", question="q?", distractors=wrong, media=[], run_seed=1,
                        extra_metadata={})
    assert one == again and len(one.choices) == 4
    assert one.choices[ord(one.target) - 65] == item.fields["answer"][0]
    # Without enough distractors the item cannot be multiple choice: the format check says so.
    lacking = draft.build("t-2", "s", question="q?", distractors=[], media=[], run_seed=1,
                          extra_metadata={})
    assert lacking.choices is None
    assert any("multiple choice" in p for p in format_problems(lacking, "t-2", set()))


def test_media_must_be_stored_and_targets_must_be_choice_letters() -> None:
    item = BenchmarkItem(id="m", subtask="s", input="Look at the picture closely.", choices=["x", "y"],
                         target="C", media=["media/abc.png", "elsewhere.png"])
    problems = format_problems(item, "m", {"media/other.png"})
    assert any("not the letter of a choice" in p for p in problems)
    assert any("never stored" in p for p in problems)
    assert any("not under media/" in p for p in problems)


def test_repair_rewrites_the_question_only() -> None:
    item = BenchmarkItem(id="r", subtask="s", input="Context:\nabc\n\nQuestion: old?", target="B",
                         choices=["a", "b"], metadata={"question": "old?"})
    fixed = with_question(item, "new?")
    assert fixed.input == "Context:\nabc\n\nQuestion: new?"
    assert (fixed.target, fixed.choices) == (item.target, item.choices)


def test_label_normalisation() -> None:
    assert source_target(["two days", "48 hours"]) == ("two days", ["two days", "48 hours"])
    assert source_target({"bird": [[1, 2, 3, 4]]})[0] == '{"bird": [[1, 2, 3, 4]]}'
    assert target_as_letter("b", ["x", "y"]) == "B"
    assert target_as_letter("Solution B", ["Solution A", "Solution B"]) == "B"
    assert target_as_letter("1", ["x", "y"]) == "B"
    assert target_as_letter("Z", ["x", "y"]) is None


@pytest.mark.parametrize(("answer", "letter"), [
    ("B", "B"), ("(b)", "B"), ("B. Happy", "B"), ("The answer is C.", "C"), ("happy", "B"),
    ("I am not sure", None), ("E", None)])
def test_choice_match_reads_letters_and_option_text(answer: str, letter: str | None) -> None:
    assert chosen_letter(answer, ["Lonely", "Happy", "Upset"]) == letter


@pytest.mark.parametrize(("label", "letter"), [
    ("B", "B"), ("b", "B"), ("(c)", "C"), ("D.", "D"), ("a)", "A"), (" B ", "B"),
    ("AB", None), ("B. Happy", None), ("1", None), ("", None)])
def test_a_label_names_a_letter_only_when_it_is_one(label: str, letter: str | None) -> None:
    assert letter_of(label) == letter


LABEL = SourceLabel(dataset_id="d", item_id="1", field_path="output.answer")


def test_scores() -> None:
    mc = BenchmarkItem(id="a", subtask="s", input="q", choices=["x", "y"], target="B")
    assert score_answer(mc, "B", LABEL)[:2] == (1.0, "choice_match")
    assert score_answer(mc, "A", LABEL)[0] == 0.0
    short = BenchmarkItem(id="b", subtask="s", input="q", target="two days",
                          metadata={"acceptable_answers": ["two days", "48 hours"]})
    assert score_answer(short, "48 Hours.", LABEL)[:2] == (1.0, "exact_match")
    assert score_answer(short, "three days", LABEL)[0] == 0.0
    assert normalize_answer("The  Cat!") == "cat"


def test_a_plan_cannot_take_its_target_from_an_input(pool: Pool) -> None:
    from agents.plans import plan_from_answer

    card = by_name(pool, "Causal-Reasoning")
    plan, notes = plan_from_answer({"target_field": "options", "input_fields": ["question"],
                                    "instructions": "i", "answer_format": "multiple_choice"},
                                   SUB, card, 1)
    assert plan.target_field == "answer" and "not the label" in notes[0]
    assert plan.input_fields == ["question", "options"]


def test_a_rewritten_question_that_gives_the_answer_away_is_caught(pool: Pool) -> None:
    from agents.realize import answer_leak

    card = by_name(pool, "Causal-Reasoning")
    plan = default_plan(SUB, card, 1)
    item = next(it for it in pool.items(card.dataset_id) if it.id == "cr151")
    draft = Draft(plan, card, item)
    right = item.fields["options"][ord(item.fields["answer"]) - ord("A")]
    # What the 0.5B model once wrote: the correct option moved into the question.
    assert draft.leak_in(f"What is the cause of: {right}") == right
    assert draft.leak_in(draft.source_question) is None
    assert draft.leak_in("Which option explains why Tom is American?") is None
    # One-word answers turn up by chance; text already in the old question is not a new leak.
    assert answer_leak("Is the answer yes or no?", ["yes"]) is None
    assert answer_leak("Why did the dog bark loudly?", ["dog bark"], "the dog bark") is None


def test_a_blind_solve_settles_answerability_and_the_label_else_the_judge_decides() -> None:
    from agents.verifier import check_verdict

    passed, reason = check_verdict("answerable", True, True, "B", "too little context")
    assert passed and "reached the label" in reason and "too little context" in reason
    assert check_verdict("answer_matches", False, True, "B", "fine")[0]
    passed, reason = check_verdict("answer_matches", True, False, "A", "contradicts the text")
    assert not passed and "'A'" in reason and "contradicts" in reason
    assert check_verdict("answer_matches", False, False, "two days", "48 hours is right")[0]
    # The blind solve says nothing about shortcuts: the judge decides that one alone.
    assert not check_verdict("depends_on_signal", True, True, "B", "the question names it")[0]


def test_item_answers_name_every_text_that_states_the_answer() -> None:
    from agents.realize import item_answers

    short = BenchmarkItem(id="x", subtask="s", input="q", choices=None, target="two days",
                          media=[], metadata={"acceptable_answers": ["48 hours"]})
    assert item_answers(short) == ["two days", "48 hours"]
    mc = BenchmarkItem(id="y", subtask="s", input="q", choices=["a b", "c d"], target="B",
                       media=[], metadata={"answer_text": "c d"})
    assert item_answers(mc) == ["B", "c d"]


def test_letter_shares_count_every_spelling_of_an_options_letter() -> None:
    logprobs = {"B": math.log(0.5), " b": math.log(0.1), "(A": math.log(0.2),
                "C": math.log(0.1), "Hmm": math.log(0.05)}
    # C is not an option of a two-option item; "Hmm" is no letter.
    assert letter_shares(logprobs, 2) == pytest.approx({"A": 0.2 / 0.8, "B": 0.6 / 0.8})
    assert letter_shares(logprobs, 3) == pytest.approx({"A": 2 / 9, "B": 6 / 9, "C": 1 / 9})
    assert letter_shares({"Hmm": 0.0}, 2) == {}
    assert required_share(2, 0.2) == pytest.approx(0.6)
    assert required_share(4, 0.2) == pytest.approx(0.4)
    assert required_share(2, 0.0) == pytest.approx(0.5)  # chance: the check keeps any greedy hit
