"""Grounding before any item is made: relevance, measured plan signals, fitting instructions
and the spread of subtasks over datasets, on the real General-Bench cards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.grounding import spread_groundings
from agents.plan_signals import (
    build_items,
    combined_scores,
    form_instruction,
    instruction_misfit,
    measure,
    sampled_items,
)
from agents.relevance import (
    capability_cues,
    narrower_cues,
    on_target,
    relevance,
    sampled_questions,
)
from store.events import Grounding, Subtask, TransformationPlan
from tests.agents import scripted_brain
from tests.agents.build_helpers import of_type, read_events
from tests.agents.relevance_labels import (
    ALGEBRA,
    CALENDAR,
    CALENDAR_15B,
    CAUSAL,
    CAUSAL_15B,
    DATASET_LABELS,
    GENERATOR_LABELS,
    PHYSICS,
    QUESTION_LABELS,
    TEMPORAL,
    TEXT_DATASETS,
)
from tools.llm.scripted import register_responder
from tools.pool import Pool

COPA, PASSAGES, ETHICS = "7fb63e11", "2681e85c", "0d20e992"


@pytest.fixture
def pool(general_bench: Path) -> Pool:
    return Pool.load([general_bench], include_generators=False)


def plan(dataset_id: str, name: str, inputs: list[str], target: str, fmt: Any,
         template: str) -> TransformationPlan:
    return TransformationPlan(plan_id=f"p-{name}", subtask=CAUSAL.name, dataset_id=dataset_id,
                              instructions="Use each item as it is.", question_template=template,
                              input_fields=inputs, target_field=target, answer_format=fmt)


# The known good and bad plans of perf/plan_scores.py.
PLANS = [
    ("copa", True, plan(COPA, "copa", ["question", "options"], "answer", "multiple_choice", "")),
    ("copa-template", True, plan(COPA, "copa-template", ["question", "options"], "answer",
                                 "multiple_choice", "Choose the more plausible cause or effect.")),
    ("passage", False, plan(PASSAGES, "passage", ["context", "question"], "answer",
                            "short_answer", "Answer the question from the passage.")),
    ("ethics", False, plan(ETHICS, "ethics", ["context", "options"], "answer", "multiple_choice",
                           "Which trait does the person show?")),
    ("target-input", False, plan(COPA, "target-input", ["options"], "question", "short_answer",
                                 "Write the question these options answer.")),
    ("placeholder", False, plan(COPA, "placeholder", ["question", "options"], "answer",
                                "multiple_choice", "What is the cause of {event}?")),
]


def test_measured_signals_reject_the_bad_plans_and_rank_every_good_one_above(pool: Pool) -> None:
    scores, problems = {}, {}
    for name, _, p in PLANS:
        card = pool.card(p.dataset_id)
        signals = measure(p, card, sampled_items(pool, p.dataset_id),
                          relevance(CAUSAL, card, pool))
        problems[name] = signals.problems
        # What the 1.5B answers for every plan (perf/plan_scores.py): 5/4/4.
        dims = combined_scores(signals, (1.0, 0.8, 0.8))
        scores[name] = 0.0 if signals.problems else sum(dims) / 3
    assert not problems["copa"] and not problems["copa-template"]
    assert any("cannot be filled" in p and "{event}" in p for p in problems["placeholder"])
    assert any("not the dataset's label" in p for p in problems["target-input"])
    assert any("ask what the subtask tests" in p for p in problems["passage"])
    assert any("ask what the subtask tests" in p for p in problems["ethics"])
    good = [n for n, g, _ in PLANS if g]
    bad = [n for n, g, _ in PLANS if not g]
    assert all(scores[g] > scores[b] for g in good for b in bad)


def test_a_measured_weakness_lowers_a_score_the_model_gave_full_marks(pool: Pool) -> None:
    # Dialogue-Relation-Extraction: no options, open answers, no masked span to fill (a cloze
    # dataset's options come from its other answers, `tests/agents/test_cloze.py`).
    card = pool.card("cc0d075c")
    p = TransformationPlan(plan_id="p-t", subtask="t", dataset_id=card.dataset_id,
                           instructions="i", question_template="Answer the question.",
                           input_fields=["context", "question"], target_field="answer",
                           answer_format="multiple_choice")
    signals = measure(p, card, sampled_items(pool, card.dataset_id), None)
    assert signals.fields_present == 0.5  # multiple choice resting on written distractors
    alignment, robustness, preservation = combined_scores(signals, (1.0, 1.0, 1.0))
    assert robustness < 1.0 and alignment == preservation == 1.0
    # A model's veto stands: alignment 1 of 5 keeps the dimension under the 0.6 threshold.
    assert combined_scores(signals, (0.2, 1.0, 1.0))[0] < 0.6


def test_relevance_agrees_with_the_hand_labels(pool: Pool) -> None:
    agree = total = 0
    for sub, relevant in DATASET_LABELS:
        for dataset_id in TEXT_DATASETS:
            r = relevance(sub, pool.card(dataset_id), pool)
            assert r is not None
            agree += r.kept == (dataset_id in relevant)
            total += 1
    assert agree / total >= 0.9, f"{agree}/{total}"
    for dataset_id, labels in QUESTION_LABELS.items():
        questions = sampled_questions(pool, pool.card(dataset_id))
        cues = capability_cues(CAUSAL)
        assert [on_target(q, cues) for q in questions] == labels
    # The reading dataset is filtered for the causal subtask, and says why.
    r = relevance(CAUSAL, pool.card(PASSAGES), pool)
    assert r is not None and not r.kept and r.on_target < 0.5 and r.examples


def test_generator_relevance_agrees_with_the_hand_labels() -> None:
    """A generator is measured by its rendered items and its card: collision frames are
    filtered for everyday cause and effect (the demo's subtask) and kept for dynamics."""
    generators = Pool.load([], include_generators=True)
    cards = {c.generator: c for c in generators.datasets if c.generator}
    agree = total = 0
    for sub, relevant in GENERATOR_LABELS:
        for name, card in cards.items():
            r = relevance(sub, card, generators)
            assert r is not None and r.dataset_id == card.dataset_id and r.sampled >= 1
            agree += r.kept == (name in relevant)
            total += 1
    assert total == len(GENERATOR_LABELS) * 6 and agree / total >= 0.9, f"{agree}/{total}"
    physics = cards["causal_physics"]
    for sub in (CAUSAL, CAUSAL_15B):
        r = relevance(sub, physics, generators)
        assert r is not None and not r.kept and r.on_target == 0.0
        assert r.examples and r.examples[0].startswith("Examine the sequence of 4 images")
    r = relevance(PHYSICS, physics, generators)
    assert r is not None and r.kept and r.on_target == 1.0
    # Its instructions say "step by step", but its card does not ask for algebra.
    r = relevance(ALGEBRA, physics, generators)
    assert r is not None and not r.kept and r.examples[0].startswith("(its card:")


def test_a_scheduling_subtask_is_not_told_by_every_question_about_time(pool: Pool) -> None:
    """The 1.5B's calendar subtask describes availability in "dates and times": told by
    time's cues it took the everyday dialogues that mask a time span (req_calendar7, 6 of
    12 items off target). Its own words name scheduling, which narrows time."""
    dialogues = pool.card("37a67448")
    generators = Pool.load([], include_generators=True)
    calendar = next(c for c in generators.datasets if c.generator == "calendar")
    for sub in (CALENDAR, CALENDAR_15B):
        assert "schedul" in capability_cues(sub) and "durat" not in capability_cues(sub)
        r = relevance(sub, dialogues, pool)
        assert r is not None and not r.kept and r.on_target == 0.0
        r = relevance(sub, calendar, generators)
        assert r is not None and r.kept and r.on_target == 1.0
    # A time subtask keeps time's cues, and its dialogues, whatever its description adds:
    # only a subtask's own words narrow.
    lasting = Subtask(name="Temporal reasoning about events",
                      description="Infer how long a meeting or an appointment lasts.",
                      capability="temporal reasoning", answer_format="short_answer")
    for sub in (TEMPORAL, lasting):
        assert "durat" in capability_cues(sub)
        r = relevance(sub, dialogues, pool)
        assert r is not None and r.kept
    # The calendar generator's questions use time's words, but they are scheduling's: a time
    # subtask does not take them (they filled half of req_temporal10), unless it names
    # meetings too.
    assert "schedul" in narrower_cues(TEMPORAL) and not narrower_cues(lasting)
    r = relevance(TEMPORAL, calendar, generators)
    assert r is not None and not r.kept and r.on_target == 0.0
    r = relevance(lasting, calendar, generators)
    assert r is not None and r.kept


def test_the_requirement_decides_between_the_families_a_subtask_names(pool: Pool) -> None:
    """The 1.5B's "Analyze the impact of different event types on duration" names cause and
    effect ("impact") and time ("duration"): under a requirement about when everyday events
    happen and how long they last it took Causal-Reasoning ("What is the effect of: Grande
    opened the drawers?", 4 of req_temporal11's 12 items)."""
    sub = Subtask(name="Analyze the impact of different event types on duration",
                  description="Examine how different types of everyday events (e.g., work, "
                              "exercise) affect their duration and identify any patterns or "
                              "correlations.",
                  capability="analysis", answer_format="short_answer")
    timing = ("I want to evaluate whether a model can reason about when everyday events "
              "happen and how long they last")
    causes = "I want to evaluate whether a model can reason about causes and effects"
    both = capability_cues(sub)
    assert {"caus", "durat"} <= both
    assert "durat" in capability_cues(sub, timing) and "caus" not in capability_cues(sub, timing)
    assert "caus" in capability_cues(sub, causes) and "durat" not in capability_cues(sub, causes)
    # A requirement that uses neither family's words leaves both.
    assert capability_cues(sub, "I want to test a model") == both
    copa = pool.card("7fb63e11")
    for requirement, kept in (("", True), (timing, False), (causes, True)):
        r = relevance(sub, copa, pool, requirement)
        assert r is not None and r.kept == kept, requirement


def test_an_instruction_that_does_not_fit_its_items_is_replaced(pool: Pool) -> None:
    card = pool.card(COPA)
    sources = sampled_items(pool, COPA)

    def misfit(template: str) -> str | None:
        p = plan(COPA, "x", ["question", "options"], "answer", "multiple_choice", template)
        return instruction_misfit(p, build_items(p, card, sources))

    assert misfit("Evaluate whether the reasoning is valid.") is not None
    assert misfit("Read the passage and answer the question.") is not None
    assert misfit("Choose the more plausible cause or effect.") is None
    # The request's own description of the field, copied as the instruction (seen on the 1.5B).
    echoed = misfit("one plain sentence that fits the items as they are, such as the example "
                    "items; no placeholders in braces)")
    assert echoed is not None and "request's own words" in echoed
    # Cut off at the schema's 200 characters (the 1.5B, on the temporal requirement).
    cut = misfit("The task is to identify everyday events and their duration from a given "
                 "dialogue with a single <MASK> token where a temporal expression (e.g., a 30")
    assert cut == "it is cut off mid-sentence (has an unclosed bracket)"
    assert misfit("Choose the more plausible cause or effect:") is None
    p = plan(COPA, "x", ["question", "options"], "answer", "multiple_choice", "Justify it.")
    assert form_instruction(p, build_items(p, card, sources)) == (
        "Answer the question by choosing the more plausible option.")
    passages = pool.card(PASSAGES)
    p = plan(PASSAGES, "y", ["context", "question"], "answer", "short_answer", "Explain.")
    items = build_items(p, passages, sampled_items(pool, PASSAGES))
    assert instruction_misfit(p, items) is not None
    assert form_instruction(p, items) == "Read the context, then answer the question."


def g(subtask: str, dataset_id: str) -> Grounding:
    return Grounding(subtask=subtask, dataset_id=dataset_id, plan_id=f"{subtask}-{dataset_id}",
                     capacity=100)


def test_spread_gives_each_subtask_its_own_dataset_where_the_pool_allows() -> None:
    chosen = spread_groundings([("a", [g("a", "A"), g("a", "B")]), ("b", [g("b", "A")]),
                                ("c", [g("c", "A"), g("c", "B"), g("c", "C")])], 2)
    # b has only A: it chooses first; a takes B; c is left C.
    assert [x.dataset_id for x in chosen["b"][0]] == ["A"]
    assert [x.dataset_id for x in chosen["a"][0]] == ["B"]
    assert [x.dataset_id for x in chosen["c"][0]] == ["C"]
    assert "spread: A left to b" in chosen["a"][1]
    # Nothing else passed for d: it shares, and says so.
    shared = spread_groundings([("a", [g("a", "A")]), ("d", [g("d", "A")])], 2)
    assert [x.dataset_id for x in shared["d"][0]] == ["A"]
    assert "shares A with a" in shared["d"][1]


def causes_build(tmp_path: Path, pool: Path, capsys: Any, name: str,
                 brain: scripted_brain.ScriptedBrain, *extra: str) -> list[Any]:
    """A size-6 build of the causes requirement without generators, by `brain`; its events."""
    from benchagent.cli import main

    register_responder(name, brain)
    home = tmp_path / "home"
    config = tmp_path / "c.yaml"
    config.write_text("agents: {generators: false}\n")
    code = main(["build", "I want to evaluate whether a model can reason about causes and "
                 "effects in everyday events", "--size", "6", "--seed", "3", "--llm",
                 f"scripted:{name}", "--pool", str(pool), "--home", str(home),
                 "--run-id", "run-test", "--config", str(config), *extra, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return read_events(home)


class MisplanningBrain(scripted_brain.ScriptedBrain):
    """Writes the demo's bad instructions: a placeholder and a judgement above choices."""

    def grounding_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        answer = super().grounding_plan(f)
        if f["dataset"]["name"] == "Causal-Reasoning":
            answer["question_template"] = (
                "Evaluate whether the reasoning is valid." if f["subtask"]["name"].startswith(
                    "Cause") else "What is the cause of {event}?")
        return answer


def test_grounding_filters_off_target_datasets_rejects_unfillable_plans_and_spreads(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    events = causes_build(tmp_path, general_bench, capsys, "misplanning", MisplanningBrain(),
                          "--plan-only")
    searched = {e.payload.subtask: e.payload for e in of_type(events, "DatasetsSearched")}
    causal = searched["Cause and effect identification"]
    filtered = {r.dataset_id for r in causal.relevance if not r.kept}
    assert PASSAGES in filtered  # the reading dataset: no plan asked for it
    planned = [e.payload.plan for e in of_type(events, "PlanProposed")]
    assert not any(p.dataset_id in filtered and p.subtask == causal.subtask for p in planned)
    # The judgement above "What is the effect of…?" was replaced by what the items are.
    copa = next(e.payload for e in of_type(events, "PlanProposed")
                if e.payload.plan.dataset_id == COPA and e.payload.plan.subtask == causal.subtask)
    assert "valid" not in copa.plan.question_template and "replaced" in copa.reason
    # The placeholder plan was rejected at grounding, without asking the model to score it.
    scores = {e.payload.plan_id: e for e in of_type(events, "PlanScored")}
    (bad,) = [p for p in planned if "{event}" in p.question_template]
    rejected = scores[bad.plan_id]
    assert not rejected.payload.accepted and rejected.payload.signals.template_fills is False
    assert not [c for c in of_type(events, "LLMCallRecorded")
                if c.payload.purpose == "grounding.score"
                and "{event}" in str(c.payload.messages)]
    # ... and the same plan follows with an instruction that says what the items are.
    (fitted,) = [p for p in planned if p.plan_id == f"{bad.plan_id}-fitted"]
    assert fitted.question_template == "Answer the question by choosing the more plausible option."
    assert scores[fitted.plan_id].payload.accepted
    # Scores differ where the plans differ, and carry what was measured.
    accepted = [e.payload for e in scores.values() if e.payload.accepted]
    assert all(s.signals is not None and s.llm_scores for s in accepted)
    assert len({(s.alignment, s.robustness, s.signal_preservation) for s in accepted}) > 1
    # Spread: no two subtasks share a dataset while another passed for one of them.
    grounded = {e.payload.subtask: {x.dataset_id for x in e.payload.groundings}
                for e in of_type(events, "SubtaskGrounded")}
    names = list(grounded)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not grounded[a] & grounded[b] or "shares" in next(
                e.payload.reason for e in of_type(events, "SubtaskGrounded")
                if e.payload.subtask in (a, b) and "shares" in e.payload.reason)


def test_grounding_filters_an_off_target_generator_and_records_why(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    from benchagent.cli import main

    register_responder("scripted-generators", scripted_brain.ScriptedBrain())
    home = tmp_path / "home"
    code = main(["build", "I want to evaluate whether a model can reason about causes and "
                 "effects in everyday events", "--size", "6", "--seed", "3", "--llm",
                 "scripted:scripted-generators", "--pool", str(general_bench), "--home",
                 str(home), "--run-id", "run-test", "--plan-only", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    events = read_events(home)
    searched = [e.payload for e in of_type(events, "DatasetsSearched")]
    measured = {(s.subtask, r.dataset_id): r for s in searched for r in s.relevance}
    physics = [(sub, r) for (sub, d), r in measured.items() if d == "gen-causal_physics"]
    assert physics, "the search found the collision-frames generator"
    assert all(not r.kept for _, r in physics)
    planned = [e.payload.plan for e in of_type(events, "PlanProposed")]
    assert not any(p.dataset_id == "gen-causal_physics" for p in planned)


def test_one_grounding_per_dataset_keeps_the_best_ranked() -> None:
    from agents.grounding import best_per_dataset

    ranked = [g("a", "A"), g("a", "B"), Grounding(subtask="a", dataset_id="A",
                                                  plan_id="a-A-fitted", capacity=100)]
    assert [(x.dataset_id, x.plan_id) for x in best_per_dataset(ranked)] == [
        ("A", "a-A"), ("B", "a-B")]


class CutPlaceholderBrain(scripted_brain.ScriptedBrain):
    """A template that leaves a placeholder unfilled and is cut off mid-sentence: what the
    1.5B wrote for TimeBank on the temporal requirement."""

    def grounding_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        answer = super().grounding_plan(f)
        if f["dataset"]["name"] == "Causal-Reasoning":
            answer["question_template"] = "What is the cause of {event} (for example, a"
        return answer


def test_a_cut_placeholder_template_grounds_its_dataset_once_and_the_build_completes(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    events = causes_build(tmp_path, general_bench, capsys, "cut-placeholder",
                          CutPlaceholderBrain())
    planned = [e.payload.plan for e in of_type(events, "PlanProposed")]
    scores = {e.payload.plan_id: e.payload for e in of_type(events, "PlanScored")}
    bad = [p for p in planned if "{event}" in p.question_template]
    assert bad and not any(scores[p.plan_id].accepted for p in bad)
    assert any(scores[f"{p.plan_id}-fitted"].accepted for p in bad)
    quotas = of_type(events, "SpecFinalized")[0].payload.quotas
    pairs = [(q.subtask, q.dataset_id) for q in quotas]
    assert len(pairs) == len(set(pairs)), quotas
    assert of_type(events, "RunCompleted")

