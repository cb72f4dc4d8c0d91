"""Design's handling of what a model answers: numbering, repeats, reviews matched by name."""

from __future__ import annotations

from agents.design import distinct_subtasks, match_reviews, to_subtask, unique_subtasks
from agents.keys import sample_id, seeded_permutation, slug


def sub(name: str) -> dict:
    return {"name": name, "description": "d", "capability": "c", "answer_format": "short_answer"}


def test_enumerations_are_not_part_of_names_and_repeats_are_dropped() -> None:
    proposed = [to_subtask(sub(n)) for n in ("1. Cause finding", "2) Effect finding",
                                             "3. Cause  finding", "b: Timing")]
    assert [s.name for s in proposed] == ["Cause finding", "Effect finding", "Cause finding",
                                          "Timing"]
    assert [s.name for s in distinct_subtasks(proposed)] == ["Cause finding", "Effect finding",
                                                             "Timing"]
    assert [s.name for s in unique_subtasks(proposed)][2] == "Cause finding 2"


def test_reviews_match_by_name_then_spare_reviews_in_order_else_keep() -> None:
    subs = [to_subtask(sub(n)) for n in ("Alpha", "Beta", "Gamma")]
    reviews = [{"name": "beta", "decision": "discard", "reason": "marginal", "revised": sub("Beta")},
               {"name": "???", "decision": "revise", "reason": "narrow it",
                "revised": sub("Alpha narrowed")}]
    matched = match_reviews(subs, reviews)
    assert matched[1][:2] == ("discard", "marginal")
    assert matched[0][0] == "revise" and matched[0][2].name == "Alpha narrowed"  # the spare one
    assert matched[2] == ("keep", "not reviewed; kept as proposed", None)


def test_ids_and_permutations_are_stable() -> None:
    assert slug("Cause & Effect: 2 ways!") == "cause-effect-2-ways"
    assert sample_id("Cause & Effect", "7fb63e11", 3, 2) == "cause-effect-7fb63e11-0003-a2"
    a = seeded_permutation(50, 7, "source", "d1")
    assert a == seeded_permutation(50, 7, "source", "d1") and sorted(a) == list(range(50))
    assert a != seeded_permutation(50, 8, "source", "d1")
    assert a != seeded_permutation(50, 7, "source", "d2")
