"""Design drops near-duplicate subtasks, measured (character n-gram cosine), not asked."""

from __future__ import annotations

from pathlib import Path

from agents.design import distinct_reviews
from agents.subtask_overlap import DUPLICATE_THRESHOLD, drop_near_duplicates, subtask_similarity
from tests.agents.build_helpers import build, of_type, read_events
from tests.agents.scripted_brain import DUPLICATE_SUBTASKS
from tests.agents.subtask_pairs import PAIRS, S


def test_the_threshold_tells_labelled_duplicates_from_distinct_pairs() -> None:
    right = sum((subtask_similarity(a, b) >= DUPLICATE_THRESHOLD) == dup for a, b, dup in PAIRS)
    assert right / len(PAIRS) >= 0.95, f"{right} of {len(PAIRS)}"
    # Other input modalities make other items, however alike the words.
    photo = S("Photo recognition", "Say what a photo shows.", "recognition")
    sound = S("Sound recognition", "Say what a sound recording shows.", "recognition")
    assert subtask_similarity(photo, sound) == 0.0


def test_the_demo_proposals_collapse_to_one_and_the_drop_names_what_it_repeats() -> None:
    issue = [S(d["name"], d["description"], d["capability"]) for d in DUPLICATE_SUBTASKS]
    social = S("Social consequence reasoning", "Infer how people feel or react after an "
               "everyday social event.", "social and emotional reasoning")
    kept, dropped = drop_near_duplicates([*issue, social])
    assert [s.name for s in kept] == [issue[0].name, social.name]
    assert [(d.name, d.duplicate_of) for d in dropped] == [
        (issue[1].name, issue[0].name), (issue[2].name, issue[0].name)]
    assert all(d.similarity >= DUPLICATE_THRESHOLD for d in dropped)


def test_a_revision_into_a_duplicate_is_discarded_with_its_reason() -> None:
    a, b = PAIRS[2][0], PAIRS[14][1]  # cause identification; temporal span inference
    copy_of_a = PAIRS[2][1]  # cause and effect identification
    reviews = distinct_reviews([a, b], [("keep", "fine", None), ("revise", "closer", copy_of_a)])
    assert reviews[0] == ("keep", "fine", None)
    decision, reason, _ = reviews[1]
    assert decision == "discard" and reason.startswith(f"near-duplicate of {a.name!r}")


def test_design_drops_duplicates_in_a_build_and_the_card_says_what_each_tests(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    code, doc, err = build(capsys, tmp_path, general_bench, size=6,
                           llm="scripted:duplicate-brain")
    assert code == 0, err
    events = read_events(tmp_path)
    (proposed,) = of_type(events, "SubtasksProposed")
    names = [d["name"] for d in DUPLICATE_SUBTASKS]
    assert [c.name for c in proposed.payload.candidates] == [
        names[0], "Social consequence reasoning"]
    assert {d.name for d in proposed.payload.near_duplicates} == set(names[1:])
    (accepted,) = of_type(events, "DesignAccepted")
    subs = accepted.payload.subtasks
    assert all(s.distinct_focus for s in subs)
    assert all(subtask_similarity(x, y) < DUPLICATE_THRESHOLD
               for i, x in enumerate(subs) for y in subs[i + 1:])
    card = (tmp_path / "runs" / "run-test" / "README.md").read_text()
    for s in subs:
        assert f"Unlike the others, it tests: {s.distinct_focus}" in card
