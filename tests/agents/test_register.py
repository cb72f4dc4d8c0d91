"""The everyday register: rare, technical words make an item off-target for a subtask about
everyday life — per item (a programmatic check) and per sampled item at grounding."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.item_checks import check_item, check_register, failed_checks
from agents.plans import default_plan
from agents.realize import Draft
from agents.register import EVERYDAY_ZIPF, names_everyday, off_register, rare_words
from agents.relevance import relevance
from store.events import BenchmarkItem, Subtask
from tests.agents.conftest import loaded_pool
from tests.agents.register_labels import CAUSAL_REASONING, EVERYDAY_LABELS
from tests.agents.relevance_labels import ALGEBRA, CAUSAL, CAUSAL_15B, TEMPORAL
from tools.pool import Pool

EVERYDAY_ALGEBRA = Subtask(name="Everyday algebra slips",
                           description="Name the wrong step of a derivation, as in daily "
                                       "bookkeeping.",
                           capability="checking algebraic derivations",
                           answer_format="short_answer")


@pytest.fixture
def pool(general_bench: Path) -> Pool:
    return loaded_pool(general_bench, include_generators=True)


def realized(pool: Pool, item_id: str) -> BenchmarkItem:
    card = pool.card(CAUSAL_REASONING)
    plan = default_plan(CAUSAL, card, 1)
    return Draft(plan, card, pool.item(CAUSAL_REASONING, item_id)).build(
        "s-1", CAUSAL.name, question=None, distractors=[], media=[], run_seed=1,
        extra_metadata={}, planned=False)


def test_register_agrees_with_the_hand_labels_better_than_either_constant(pool: Pool) -> None:
    agree = 0
    for item_id, everyday in EVERYDAY_LABELS:
        agree += check_register(realized(pool, item_id)).passed == everyday
    n = len(EVERYDAY_LABELS)
    everyday_items = sum(label for _, label in EVERYDAY_LABELS)
    # 35/40 at Zipf 3.3 (perf/everyday_register.py); "all off" agrees on 27, "all on" on 13.
    assert agree / n >= 0.75 and agree > max(everyday_items, n - everyday_items), f"{agree}/{n}"


def test_the_issues_laboratory_items_fail_and_everyday_ones_pass(pool: Pool) -> None:
    # Acids and alkalis, enantiomers and reagents, a radiolarian, dendrites (issue 14).
    for item_id, word in (("cr380", "alkalis"), ("cr405", "enantiomers"),
                          ("cr401", "radiolarian"), ("cr344", "dendrites")):
        verdict = check_register(realized(pool, item_id))
        assert not verdict.passed and repr(word) in verdict.reason, (item_id, verdict)
        assert f"Zipf < {EVERYDAY_ZIPF:g}" in verdict.reason
    # Shoes, a lawsuit, cleaning, a smoking father: common words only.
    for item_id in ("cr348", "cr306", "cr064", "cr237"):
        assert check_register(realized(pool, item_id)).passed, item_id
    # Unknown words (misspellings, invented names) say nothing; common ones are not rare.
    assert rare_words("The docterr gave Tom a sandwich at home, cannogt he?") == []
    assert off_register("She bought bread and milk.") == ""


def test_the_check_runs_only_for_subtasks_that_name_everyday_life(pool: Pool) -> None:
    assert names_everyday(CAUSAL) and names_everyday(CAUSAL_15B)  # capability / description
    assert not names_everyday(TEMPORAL) and not names_everyday(ALGEBRA)
    item = realized(pool, "cr401")
    assert "register" not in {c.check for c in check_item(item)}
    failed = failed_checks(item, everyday=True)
    assert [c.check for c in failed] == ["register"] and "radiolarian" in failed[0].reason


def test_grounding_keeps_a_dataset_with_enough_everyday_questions_and_records_the_share(
        pool: Pool) -> None:
    copa = relevance(CAUSAL, pool.card(CAUSAL_REASONING), pool)
    assert copa is not None and copa.kept and copa.register == 0.2  # 8 of 40 sampled
    # Not an everyday subtask: no register measured.
    temporal = relevance(TEMPORAL, pool.card(CAUSAL_REASONING), pool)
    assert temporal is not None and temporal.register is None
    # A dataset without questions is held to it too, on the dialogues its items present.
    dialogues = relevance(CAUSAL, pool.card("37a67448"), pool)
    assert dialogues is not None and dialogues.register == 0.4  # 16 of 40 sampled


def test_grounding_reads_the_passages_an_everyday_subtask_would_present(pool: Pool) -> None:
    """TimeBank asks in everyday words ("Is the first event before the second?", 0.9 of its
    questions and options) about news passages (none of 40 in the register): its items were
    rejected one by one for "outstripped", "reimbursed", or as unanswerable, each after a
    repair (req_temporal9, 6 of 6 slots)."""
    everyday = Subtask(name="Understand everyday events and their duration",
                       description="Identify the types of everyday events and determine how "
                                   "long they last.",
                       capability="reasoning about time", answer_format="short_answer")
    news = relevance(everyday, pool.card("ca4f9ec3"), pool)
    assert news is not None and news.on_target == 1.0 and news.register == 0.0
    assert not news.kept and "[rare words for everyday events:" in news.examples[0]
    dialogues = relevance(everyday, pool.card("37a67448"), pool)
    assert dialogues is not None and dialogues.kept and dialogues.register == 0.4
    # A time subtask that does not name everyday life keeps the news.
    plain = relevance(TEMPORAL, pool.card("ca4f9ec3"), pool)
    assert plain is not None and plain.kept and plain.register is None


def test_grounding_filters_a_source_whose_questions_are_technical_for_an_everyday_subtask(
        pool: Pool) -> None:
    proofs = pool.card("gen-proofs")
    plain = relevance(ALGEBRA, proofs, pool)
    assert plain is not None and plain.kept and plain.register is None
    everyday = relevance(EVERYDAY_ALGEBRA, proofs, pool)
    assert everyday is not None and everyday.on_target == 1.0 and everyday.register == 0.0
    assert not everyday.kept and "'derivation'" in everyday.examples[0]


def test_free_register_rejections_do_not_use_up_a_slots_attempts(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    """A quarter of Causal-Reasoning's items are in the everyday register: slots walk past
    the others (rejected for free) beyond `max_attempts`, which bounds model-checked ones."""
    from benchagent.cli import main
    from tests.agents.build_helpers import of_type, read_events, register_brains

    register_brains()
    config = tmp_path / "config.yaml"
    config.write_text("agents: {generators: false, max_attempts: 2}\n")
    code = main(["build", "I want to evaluate whether a model can reason about causes and "
                 "effects in everyday events", "--size", "6", "--seed", "3", "--llm",
                 "scripted:brain", "--pool", str(general_bench), "--home", str(tmp_path / "h"),
                 "--run-id", "run-test", "--config", str(config), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    events = read_events(tmp_path / "h")
    rejected = [e.payload for e in of_type(events, "SampleRejected")]
    assert [r for r in rejected if r.check == "register"]
    attempts = [e.payload.attempt for e in of_type(events, "SlotAssigned")]
    assert max(attempts) > 2  # past max_attempts on free rejections alone
    assert not of_type(events, "QuotaShortfall")
    assert len(of_type(events, "SampleAccepted")) == 6
