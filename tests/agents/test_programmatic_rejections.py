"""Items that trip a programmatic check are rejected before any model call, and replaced.

A user's dataset (`benchagent pool add`) mixes sound cause-and-effect items with items that
trip each check of `agents.item_checks`; a scripted build must reject every drawn bad item
with that check's verdict and reason, without a model call on its behalf (no sample plan,
no blind solve, no judgement), replace it through the normal replenish path, and fill its
quota with sound items only.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
import pytest

from agents.item_checks import check_offensive
from agents.verifier import reversed_options
from benchagent.cli import main
from store.events import BenchmarkItem
from tests.agents.build_helpers import benchmark_lines, of_type, read_events
from tests.agents.scripted_brain import TOPICS, ScriptedBrain, shown_options
from tools.llm.scripted import ScriptedAnswer, register_responder

# Told in common words: the register check (agents/register.py) takes a rare word such as
# "overslept" (Zipf 2.4) for technical vocabulary.
EVENTS = ["the glass fell off the table", "the power went out during the storm",
          "she forgot to water the plants for a month", "the river flooded after heavy rain",
          "he left the ice cream in the sun", "the car ran out of petrol on the motorway",
          "the baker slept late on Monday", "the dog barked at midnight",
          "the road froze overnight", "the kettle was left on the stove",
          "the team trained every day for a year", "the phone fell into the bath",
          "the bridge was closed for repairs", "the printer ran out of paper",
          "the farmer planted seeds in spring", "the child ate too many sweets"]
# Builds whose draws together meet every kind of bad item, and in which no slot meets more bad
# items in a row than its attempts allow (the test says so if source choice changes that).
SEEDS = ("1", "3", "4", "5", "6")
SEED = SEEDS[0]
WRONG = ["The cat grew taller.", "The sun rose in the west.", "The moon turned green.",
         "A song played on the radio.", "The clock ran backwards."]


CAUSES = "I want to evaluate whether a model can reason about causes and effects in everyday events"


def build_causes(tmp_path: Path, pool_dir: Path, brain: ScriptedBrain, name: str, run_id: str,
                 agents: str, size: int = 4) -> list[Any]:
    """A scripted build of CAUSES on `pool_dir` with `brain` (registered as `name`) and the
    given agent settings; its events."""
    register_responder(name, brain)
    config = tmp_path / "config.yaml"
    config.write_text(f"agents: {{{agents}}}\n")
    home = tmp_path / "home"
    assert main(["build", CAUSES, "--size", str(size), "--seed", SEED, "--llm",
                 f"scripted:{name}", "--pool", str(pool_dir), "--config", str(config),
                 "--home", str(home), "--run-id", run_id, "--json"]) == 0
    return read_events(home, run_id)


def a_slur() -> str:
    """A slur from the word list the check uses (not typed here)."""
    data = json.loads((resources.files("profy") / "data/languages/english.json").read_text())
    for word in sorted(data["severity"]["extreme"]):
        probe = BenchmarkItem(id="x", subtask="x", input="Question: pick one",
                              choices=[word, "a tree"], target="B")
        if word.isalpha() and not check_offensive(probe).passed:
            return word
    raise AssertionError("the word list has no single-word slur")


def good(i: int, event: str) -> dict[str, Any]:
    choices = [WRONG[i % 5], WRONG[(i + 1) % 5]]
    choices.insert(i % 3, f"Something changed because {event}.")  # the answer: A, B or C
    return {"id": f"ok{i:02d}", "context": f"On an ordinary day, {event}.",
            "question": "What is the most likely effect of the event in the context?",
            "choices": choices, "answer": "ABC"[i % 3]}


def bad_records() -> dict[str, dict[str, Any]]:
    """One record per programmatic check, named by the check it trips."""
    base = good(99, "the glass fell off the table")
    return {
        "placeholder": {**base, "question": "What is the cause of {outcome}?"},
        "truncated_option": {**base, "choices": [
            "The glass broke into pieces on the floor.", WRONG[0],
            "Scientists on the Intergovernmental Panel on Climate Change (IPCC), which,"]},
        "duplicate_option": {**base, "choices": [
            "The glass broke.", "the glass broke", WRONG[1]]},
        "answer_in_question": {**base, "question": "What happened once the glass broke into "
                                                   "many pieces?",
                               "choices": ["The glass broke into many pieces.", WRONG[0],
                                           WRONG[1]]},
        # (an answer of one content word: with more, the question states it too)
        "answer_is_premise": {**base, "question": "What is the effect of: the rain?",
                              "choices": ["The rain.", "Wet streets.", WRONG[1]]},
        "dangling_premise": {**base, "question": "What is the effect of: But the glass was "
                                                 "already cracked?"},
        "empty_context": {**base, "context": ""},
        "boilerplate": {**base, "context": "The glass fell off the table. Click here to "
                                           "subscribe to our newsletter. All rights reserved."},
        "offensive": {**base, "choices": ["The glass broke.", f"The {a_slur()} laughed.",
                                          WRONG[2]]},
        # Laboratory matter under an everyday subtask (both of CausesBrain's name it).
        "register": {**base, "choices": ["The enantiomers reacted with the reagents.",
                                         WRONG[0], WRONG[1]]},
    }


class CausesBrain(ScriptedBrain):
    """Two cause-and-effect subtasks; the verifier's own judgement rejects nothing and its
    blind solve finds every answer ("Something changed because…"), so every rejection in the
    run is a programmatic one."""

    def __init__(self) -> None:
        super().__init__(reject_percent=0, repair_percent=0, miss_percent=0)

    def answer_option(self, options: list[str]) -> int | None:
        return next((i for i, o in enumerate(options)
                     if o.startswith("Something changed because")), None)

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        effects = {"name": "Effect prediction",
                   "description": "Predict the most likely effect of an everyday event.",
                   "capability": "causal reasoning about the effects of everyday events",
                   "answer_format": "multiple_choice",
                   "distinct_focus": "what follows from an event, not what brought it about"}
        return {"subtasks": [dict(TOPICS[0][1]), effects], "reason": "causes and effects"}


@pytest.fixture
def pool(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """The pool, and the source record id of each bad record by the check it trips."""
    events = [f"{e}{when}" for when in ("", " again", " once more") for e in EVENTS]
    records = [good(i, e) for i, e in enumerate(events)]
    bad = bad_records()
    for n, (check, record) in enumerate(bad.items()):
        for copy in range(3):
            records.append({**record, "id": f"bad-{check}-{copy}",
                            "question": record["question"].replace("?", "?" + " " * copy)})
            records[-1]["question"] = records[-1]["question"].rstrip()
            records[-1]["context"] = (record["context"] + f" (case {n}.{copy})"
                                      if record["context"] else "")
    data = tmp_path / "user" / "mixed_causes.jsonl"
    data.parent.mkdir()
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    pool_dir = tmp_path / "pool"
    assert main(["pool", "add", str(data), "--pool", str(pool_dir)]) == 0
    return pool_dir, {f"bad-{c}-{k}": c for c in bad for k in range(3)}


def test_bad_items_are_rejected_without_a_model_call_and_replaced(
        tmp_path: Path, pool: tuple[Path, dict[str, str]], capsys) -> None:
    pool_dir, bad = pool
    register_responder("causes-clean", CausesBrain())
    config = tmp_path / "config.yaml"
    config.write_text("agents: {generators: false, max_attempts: 6}\n")
    size, kinds_drawn = 16, set()
    for seed in SEEDS:  # each build draws some bad items; together, every kind
        home = tmp_path / f"home-{seed}"
        code = main(["build", "I want to evaluate whether a model can reason about causes and "
                     "effects in everyday events", "--size", str(size), "--seed", seed,
                     "--llm", "scripted:causes-clean", "--pool", str(pool_dir), "--config",
                     str(config), "--home", str(home), "--run-id", "mixed", "--json"])
        out = capsys.readouterr()
        assert code == 0, out.err[-2000:]
        kinds_drawn |= check_build(home, bad, size)
    assert kinds_drawn == set(bad.values()), "every kind of bad item was drawn"


def check_build(home: Path, bad: dict[str, str], size: int) -> set[str]:
    """The kinds of bad item the build drew, each rejected for free and replaced."""
    events = read_events(home, "mixed")
    # The quota is filled, with sound items only.
    published = benchmark_lines(home, "mixed")
    assert len(published) == size
    assert not [i for i in published if i["metadata"]["source_item"] in bad]

    slots = {e.payload.sample_id: e.payload.source_item_id for e in of_type(events, "SlotAssigned")}
    drawn = {sid: bad[item] for sid, item in slots.items() if item in bad}
    rejected = {e.payload.sample_id: e.payload for e in of_type(events, "SampleRejected")}
    checked = {e.payload.sample_id: e.payload for e in of_type(events, "SampleChecked")}
    replenished = {e.payload.replaces for e in of_type(events, "ReplenishRequested")}
    planned = {e.payload.sample_id: e.payload for e in of_type(events, "SamplePlanned")}
    for sid, check in drawn.items():
        # Rejected for the check it trips, the verdict and its reason recorded...
        assert rejected[sid].check == check, (sid, rejected[sid])
        verdict = next(v for v in checked[sid].verdicts if v.check == check)
        assert not verdict.passed and verdict.reason
        assert rejected[sid].reason == verdict.reason
        assert not any(v.check in ("answerable", "answer_matches", "depends_on_signal")
                       for v in checked[sid].verdicts)
        # ... replaced through the replenish path ...
        assert sid in replenished
        # ... and no model asked on its behalf: neither a sample plan nor the verifier.
        assert not planned[sid].specialised
        causes = {e.event_id for e in events if getattr(e.payload, "sample_id", None) == sid}
        asked = [e for e in of_type(events, "LLMCallRecorded") if e.causation_id in causes]
        assert asked == [], (sid, [e.payload.purpose for e in asked])
    # Every rejection in the run is one of these (the scripted judge rejects nothing).
    assert set(rejected) == set(drawn)
    return set(drawn.values())


def test_a_clean_item_costs_two_blind_solves_and_no_judgement(
        tmp_path: Path, pool: tuple[Path, dict[str, str]], capsys) -> None:
    """The sound items are solved blind (a multiple-choice source item always is), again
    with their options reversed, and, both answers reaching the label and the question
    asking for an effect, not judged: two one-letter calls each, and no sample plan (they
    have their question and options: nothing to specialise)."""
    pool_dir, _ = pool
    events = build_causes(tmp_path, pool_dir, CausesBrain(), "causes-clean", "mixed",
                          "generators: false, max_attempts: 6")
    capsys.readouterr()
    purposes = [e.payload.purpose for e in of_type(events, "LLMCallRecorded")]
    accepted = len(of_type(events, "SampleAccepted"))
    assert accepted == 4
    assert purposes.count("orchestrator.sample_plan") == 0
    assert purposes.count("verifier.check") == 0
    assert purposes.count("verifier.solve") == 2 * accepted
    accepted_ids = {e.payload.sample_id for e in of_type(events, "SampleAccepted")}
    for env in of_type(events, "SampleChecked"):
        if env.payload.sample_id in accepted_ids:
            verdicts = {v.check: v.reason for v in env.payload.verdicts}
            assert verdicts["answer_matches"].startswith("a blind solve reached the label")
            assert "effect" in verdicts["depends_on_signal"]
            assert verdicts["depends_on_signal"].endswith("not judged")
            assert "reversed" in verdicts["option_order"]


ANSWERED = "Something changed because "
# The events whose effect KnowsHalf's blind solve finds (of odd and even ones alike: every
# other record of half_off_cue_pool asks without a cue).
KNOWN = {e for i, e in enumerate(EVENTS) if i % 4 < 2}


def known(item: BenchmarkItem) -> bool:
    """Whether RewritingBrain's blind solve reaches this item's label."""
    answer = (item.choices or [])[ord(item.target) - ord("A")]
    return answer.removeprefix(ANSWERED).rstrip(".") in KNOWN


def known_option(options: list[str]) -> int | None:
    """The index of the answer among `options` when its event is in KNOWN."""
    right = [i for i, o in enumerate(options) if o.startswith(ANSWERED)]
    if right and options[right[0]].removeprefix(ANSWERED).rstrip(".") in KNOWN:
        return right[0]
    return None


class KnowsHalf(CausesBrain):
    """Its blind solve picks the answer for the events in KNOWN and a distractor for the
    others, by content (whatever the options' order)."""

    def answer_option(self, options: list[str]) -> int | None:
        found = known_option(options)
        if found is not None:
            return found
        return next(i for i, o in enumerate(options) if not o.startswith(ANSWERED))


class RewritingBrain(KnowsHalf):
    """Rewrites every question in its sample plan (keeping its key terms)."""

    def orchestrator_sample_plan(self, f: dict[str, Any]) -> dict[str, Any]:
        answer = super().orchestrator_sample_plan(f)
        return {**answer, "question": "In other words: " + f["item"]["question"],
                "distractors": ["The cat grew taller.", "The moon turned green."]}


def test_a_rewrite_whose_blind_answer_misses_the_label_falls_back_to_the_source(
        tmp_path: Path, capsys) -> None:
    # Items with a question and an answer but no options: the plan asks for multiple choice,
    # so sample-level planning writes distractors (and here rewrites the question).
    records = [{"id": f"q{i:02d}", "question": f"What happened after {e}?",
                "answer": f"Something changed because {e}."} for i, e in enumerate(EVENTS)]
    data = tmp_path / "user" / "open_causes.jsonl"
    data.parent.mkdir()
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["pool", "add", str(data), "--pool", str(tmp_path / "pool"), "--name",
                 "Everyday cause and effect events"]) == 0
    events = build_causes(tmp_path, tmp_path / "pool", RewritingBrain(), "rewriting",
                          "rewrites", "generators: false", size=6)
    capsys.readouterr()
    realized = of_type(events, "SampleRealized")
    firsts = {e.payload.sample_id: e.payload for e in realized if e.payload.repair_of is None}
    restored = [e for e in realized if e.payload.fallback]
    missed = [p for p in firsts.values() if not known(p.item)]
    assert missed and len(restored) == len(missed)  # every rewrite the blind answer missed
    requests = {e.payload.sample_id: e.payload for e in of_type(events, "RepairRequested")}
    rejections = {e.payload.sample_id: e.payload for e in of_type(events, "SampleRejected")}
    for env in restored:
        sid = env.payload.sample_id
        first = firsts[sid].item
        assert first.metadata["question"].startswith("In other words: ")
        # The event says so and why; the source's question is back; the label unchanged.
        assert requests[sid].restore_source_question
        assert "blind answer" in env.payload.fallback and env.payload.repair_of == sid
        assert env.payload.item.metadata["question"] == first.metadata["source_question"]
        assert "In other words" not in env.payload.item.input
        assert env.payload.item.target == first.target
        assert env.payload.item.choices == first.choices
        # Restoring asked no model: no repair call, and no judgement of the rewrite. The
        # restored item is solved blind afresh; it misses its label again, so it is rejected
        # without a judgement either.
        causes = {e.event_id for e in events if getattr(e.payload, "sample_id", None) == sid}
        purposes = [e.payload.purpose for e in of_type(events, "LLMCallRecorded")
                    if e.causation_id in causes]
        assert "orchestrator.repair" not in purposes
        assert purposes.count("verifier.solve") == 2 and "verifier.check" not in purposes
        assert rejections[sid].check == "answer_matches"
    # The planned rewrites the blind solve reached were kept.
    kept = [p for p in firsts.values() if known(p.item)]
    assert all(p.item.metadata["question"].startswith("In other words: ") for p in kept)


class DoubtingBrain(KnowsHalf):
    """A judge that calls every item unanswerable (a small model's habit)."""

    def verifier_check(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"reason": "cannot tell", "failed_check": "answerable", "repairable": False,
                "repair_hint": ""}


# A question that uses none of the cause-and-effect cues: the blind solve cannot settle
# whether the item tests the subtask's capability, so the judge is asked.
OFF_CUE = "Which sentence best continues the context?"


@pytest.fixture
def half_off_cue_pool(tmp_path: Path) -> Path:
    """Sound items, every other one asking its question without a capability cue (two in
    three of grounding's sampled questions keep their cue: the dataset stays on-target)."""
    records = [good(i, e) for i, e in enumerate(EVENTS)]
    for r in records[1::2]:
        r["question"] = OFF_CUE
    data = tmp_path / "user" / "half_off_cue.jsonl"
    data.parent.mkdir()
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert main(["pool", "add", str(data), "--pool", str(tmp_path / "pool")]) == 0
    return tmp_path / "pool"


def test_a_doubting_judge_gets_a_blind_solve_that_may_overrule_it(
        tmp_path: Path, half_off_cue_pool: Path, capsys) -> None:
    events = build_causes(tmp_path, half_off_cue_pool, DoubtingBrain(), "doubting", "doubt",
                          "generators: false, max_attempts: 6")
    capsys.readouterr()
    calls = of_type(events, "LLMCallRecorded")
    judged_off_cue, settled_on_cue = [], []
    for env in of_type(events, "SampleChecked"):
        verdicts = {v.check: v for v in env.payload.verdicts}
        if "answerable" not in verdicts:
            continue  # a programmatic rejection
        purposes = [c.payload.purpose for c in calls if c.causation_id == env.causation_id]
        realized = next(e.payload for e in of_type(events, "SampleRealized")
                        if e.event_id == env.causation_id)
        answerable = verdicts["answerable"]
        if realized.item.metadata["question"] != OFF_CUE:
            # Its blind answers (options as given, then reversed) reached the label and it
            # asks for an effect: not judged.
            assert purposes == ["verifier.solve"] * 2 and answerable.passed
            settled_on_cue.append(env)
            continue
        # A multiple-choice source item is solved blind first (and with its options
        # reversed); only one whose blind answers reached the label is judged.
        assert purposes == ["verifier.solve", "verifier.solve", "verifier.check"]
        # The blind solve reached the label: the doubting judge is overruled.
        assert known(realized.item) and answerable.passed
        assert "the judge said otherwise" in answerable.reason
        judged_off_cue.append(env)
    assert judged_off_cue and settled_on_cue
    assert 1 <= len(of_type(events, "SampleAccepted")) <= 4
    rejected = [e for e in of_type(events, "SampleRejected")]
    missed = [e for e in rejected if e.payload.check == "answer_matches"]
    assert missed and all("a blind solve answered" in e.payload.reason for e in missed)
    for env in missed:  # rejected on the blind answer alone: the judge was not asked
        checked = next(e for e in of_type(events, "SampleChecked")
                       if e.payload.sample_id == env.payload.sample_id)
        purposes = [c.payload.purpose for c in calls if c.causation_id == checked.causation_id]
        assert purposes == ["verifier.solve"]


class PositionalBrain(KnowsHalf):
    """Finds the answer for the events in KNOWN; for the others it answers letter A, as a
    small model that cannot tell the options apart answers by position."""

    def answer_option(self, options: list[str]) -> int | None:
        found = known_option(options)
        return 0 if found is None else found


def test_an_item_answered_by_position_is_rejected_when_its_options_are_reversed(
        tmp_path: Path, pool: tuple[Path, dict[str, str]], capsys) -> None:
    pool_dir, bad = pool
    events = build_causes(tmp_path, pool_dir, PositionalBrain(), "positional", "order",
                          "generators: false, max_attempts: 8")
    capsys.readouterr()
    calls = of_type(events, "LLMCallRecorded")
    realized = {e.payload.sample_id: e for e in of_type(events, "SampleRealized")}
    checked = {e.payload.sample_id: e.payload for e in of_type(events, "SampleChecked")}
    slots = {e.payload.sample_id: e.payload.source_item_id for e in of_type(events, "SlotAssigned")}
    by_order = [e.payload for e in of_type(events, "SampleRejected")
                if e.payload.check == "option_order"]
    assert by_order
    for rejection in by_order:
        env = realized[rejection.sample_id]
        item = env.payload.item
        # Letter A was its label and reached it; reversed, letter A was the other end.
        assert item.target == "A" and not known(item) and slots[rejection.sample_id] not in bad
        assert "answered 'A' with them reversed" in rejection.reason
        verdict = next(v for v in checked[rejection.sample_id].verdicts
                       if v.check == "option_order")
        assert not verdict.passed and verdict.reason == rejection.reason
        purposes = [c.payload.purpose for c in calls if c.causation_id == env.event_id]
        assert purposes == ["verifier.solve", "verifier.solve"]  # and no judgement
    # What was published is what the solve knows, whatever the options' order.
    accepted = {e.payload.sample_id for e in of_type(events, "SampleAccepted")}
    assert accepted and all(known(realized[s].payload.item) for s in accepted)
    assert len(accepted) + len(of_type(events, "QuotaShortfall")) == 4


def test_options_reverse_with_their_label_and_only_a_letter_label_does() -> None:
    item = BenchmarkItem(id="x", subtask="x", input="Q", choices=["a", "b", "c"], target="A")
    flipped = reversed_options(item)
    assert flipped is not None and (flipped.choices, flipped.target) == (["c", "b", "a"], "C")
    for target in ("the answer", "D", ""):  # not one of the options' letters
        assert reversed_options(msgspec.structs.replace(item, target=target)) is None
    assert reversed_options(msgspec.structs.replace(item, choices=["a"])) is None


def shares_answer(letter: str, n: int, share: float) -> ScriptedAnswer:
    """A one-letter answer that gives its letter `share` of the probability, the rest spread."""
    others = [chr(ord("A") + i) for i in range(n) if chr(ord("A") + i) != letter]
    rest = (1 - share) / len(others)
    return ScriptedAnswer(letter, {letter: math.log(share),
                                   **{o: math.log(rest) for o in others}})


class HesitantBrain(CausesBrain):
    """Finds every answer, but sure of it only sometimes: events told "again" it reaches with
    0.40 of the three letters' probability (under the bar of 0.47) in any order; events told
    "once more" it doubts only when their answer is letter C (reversed, an A becomes a C)."""

    def answer(self, messages: list[dict[str, Any]]) -> Any:
        said = super().answer(messages)
        options = shown_options(str(messages[-1]["content"]))
        if said not in ("A", "B", "C") or len(options) != 3:
            return said
        text = options[ord(said) - ord("A")]
        doubt = " again" in text or (" once more" in text and said == "C")
        return shares_answer(said, 3, 0.40 if doubt else 0.90)


def test_an_item_whose_blind_solve_barely_prefers_the_label_is_rejected(
        tmp_path: Path, pool: tuple[Path, dict[str, str]], capsys) -> None:
    pool_dir, _ = pool
    events = build_causes(tmp_path, pool_dir, HesitantBrain(), "hesitant", "hesitant",
                          "generators: false, max_attempts: 12", size=6)
    capsys.readouterr()
    calls = of_type(events, "LLMCallRecorded")
    solves = [c for c in calls if c.payload.purpose == "verifier.solve"]
    # The probabilities are asked for, and recorded with the answer (a resume re-pays nothing).
    assert solves and all(c.payload.params.get("logprobs") and c.payload.first_token_logprobs
                          for c in solves)
    realized = {e.payload.sample_id: e.payload for e in of_type(events, "SampleRealized")}
    checked = {e.payload.sample_id: e.payload for e in of_type(events, "SampleChecked")}
    unsure = [e.payload for e in of_type(events, "SampleRejected")
              if e.payload.check == "unambiguous"]
    kinds = {(" again" in (r.item.choices or [""])[ord(r.item.target) - ord("A")], r.item.target)
             for r in (realized[u.sample_id] for u in unsure)}
    assert {again for again, _ in kinds} == {True, False} and (False, "A") in kinds
    for rejection in unsure:
        p = realized[rejection.sample_id]
        label = (p.item.choices or [])[ord(p.item.target) - ord("A")]
        asked = [c for c in solves if c.causation_id == next(
            e.event_id for e in of_type(events, "SampleRealized")
            if e.payload.sample_id == rejection.sample_id)]
        assert "0.40" in rejection.reason and "under the bar of 0.47" in rejection.reason
        assert " again" in label or " once more" in label
        if " again" in label or p.item.target == "C":  # doubted as given: not asked reversed
            assert len(asked) == 1 and "0.40 (as given) of" in rejection.reason
        else:  # a "once more" item whose label was A: sure as given, doubted reversed (C)
            assert p.item.target == "A" and len(asked) == 2
            assert "0.90 (as given), 0.40 (reversed)" in rejection.reason
    accepted = [e.payload.sample_id for e in of_type(events, "SampleAccepted")]
    assert len(accepted) == 6
    for sid in accepted:
        item = realized[sid].item
        assert " again" not in (item.choices or [])[ord(item.target) - ord("A")]
        verdict = next(v for v in checked[sid].verdicts if v.check == "unambiguous")
        assert verdict.passed and "0.90 (as given), 0.90 (reversed)" in verdict.reason


def test_a_zero_solve_margin_keeps_a_hesitant_blind_solve(
        tmp_path: Path, pool: tuple[Path, dict[str, str]], capsys) -> None:
    pool_dir, _ = pool
    events = build_causes(tmp_path, pool_dir, HesitantBrain(), "hesitant0", "hesitant0",
                          "generators: false, max_attempts: 12, solve_margin: 0", size=6)
    capsys.readouterr()
    assert not [e for e in of_type(events, "SampleRejected") if e.payload.check == "unambiguous"]
    realized = {e.payload.sample_id: e.payload.item for e in of_type(events, "SampleRealized")}
    kept = [realized[e.payload.sample_id] for e in of_type(events, "SampleAccepted")]
    assert any(" again" in (i.choices or [])[ord(i.target) - ord("A")] for i in kept)
