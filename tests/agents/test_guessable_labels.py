"""A blind solve that reaches a label of a closed label set does not overrule the judge.

TimeBank (Temporal-Event-Reasoning) asks for one of 13 relations with no options. In a
temporal build on the 1.5B, the blind solver answered BEFORE to 21 of 41 items, and the
four TimeBank items the build accepted were all BEFORE items that the judge had called
unanswerable, overruled by that guess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.verifier import check_verdict
from benchagent.cli import main
from tests.agents.build_helpers import of_type, read_events
from tests.agents.scripted_brain import ScriptedBrain
from tools.llm.scripted import register_responder

TIMEBANK = "ca4f9ec3"
REQUIREMENT = ("I want to evaluate whether a model can tell the temporal relation between two "
               "events in a news text")


def test_a_guess_from_a_closed_label_set_does_not_overrule_the_judge() -> None:
    passed, reason = check_verdict("answerable", True, True, "BEFORE", "no times given", 13)
    assert not passed
    assert reason.startswith("no times given") and "closed set of 13 labels" in reason
    # A long judgement is cut so that the note survives the verdict's 300 characters.
    passed, reason = check_verdict("answerable", True, True, "BEFORE", "x" * 400, 13)
    assert len(reason) <= 300 and reason.endswith("a guess reaches: not overruled)")
    # Without a label set the blind solve still overrules, and an unnamed check passes.
    assert check_verdict("answerable", True, True, "two days", "no times given")[0]
    assert check_verdict("answer_matches", False, True, "BEFORE", "fine", 13)[0]


class GuessingBrain(ScriptedBrain):
    """An open-answer subtask on temporal relations (and one on durations); a solver that always says BEFORE and a
    judge that calls every TimeBank item unanswerable (what the 1.5B did)."""

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"subtasks": [{
            "name": "Temporal relations between events",
            "capability": "temporal relation between two events in news text",
            "description": "Tell whether one event in a news text happened before, after or "
                           "during another (TimeBank relations).",
            "answer_format": "short_answer", "distinct_focus": "event order"}, {
            # Not "everyday": TimeBank's news passages stay in its pool, so its failing
            # slots have the dialogues to move to.
            "name": "Durations of events",
            "capability": "how long events last",
            "description": "Fill in how long an event in a dialogue lasts.",
            "answer_format": "multiple_choice", "distinct_focus": "durations"}],
            "reason": "order and duration"}

    def answer(self, messages: list[dict[str, Any]]) -> str:
        return "BEFORE" if "\nOptions:\n" not in str(messages[-1]["content"]) else \
            super().answer(messages)

    def verifier_check(self, f: dict[str, Any]) -> dict[str, Any]:
        answer = str(f["item"]["answer"])
        if len(answer) > 1 and answer.isupper():  # a TimeBank relation (options are letters)
            return {"reason": "the text does not say when either event happened",
                    "failed_check": "answerable", "repairable": False, "repair_hint": ""}
        return super().verifier_check(f)


def guessing_build(tmp_path: Path, pool: Path, capsys: Any, run_id: str,
                   agents: str = "") -> list[Any]:
    register_responder("guessing-brain", GuessingBrain())
    home = tmp_path / run_id
    argv = ["build", REQUIREMENT, "--size", "4", "--seed", "2", "--llm",
            "scripted:guessing-brain", "--pool", str(pool), "--home", str(home),
            "--run-id", run_id, "--json"]
    if agents:
        config = tmp_path / f"{run_id}.yaml"
        config.write_text(f"agents: {{{agents}}}\n")
        argv += ["--config", str(config)]
    code = main(argv)
    out = capsys.readouterr()
    assert code in (0, 1), out.err
    return read_events(home, run_id)


def timebank_open_items(events: list[Any]) -> set[str]:
    """The sample ids drawn on TimeBank for the open-answer subtask (the other's have
    options)."""
    realized = {e.payload.sample_id: e.payload.item for e in of_type(events, "SampleRealized")}
    return {e.payload.sample_id for e in of_type(events, "SlotAssigned")
            if e.payload.dataset_id == TIMEBANK and realized[e.payload.sample_id].choices is None}


def test_timebank_items_guessed_right_are_not_accepted(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    # Slots stay on their grounding (no moves), so TimeBank's BEFORE items are drawn.
    events = guessing_build(tmp_path, general_bench, capsys, "run-guess", "move_after: 0")
    quotas = of_type(events, "SpecFinalized")[0].payload.quotas
    assert TIMEBANK in {q.dataset_id for q in quotas}, quotas
    realized = {e.payload.sample_id: e.payload.item for e in of_type(events, "SampleRealized")}
    timebank = timebank_open_items(events)
    guessed = {sid for sid in timebank if realized[sid].target == "BEFORE"}
    assert guessed, "no TimeBank item labelled BEFORE was drawn"
    accepted = {e.payload.sample_id for e in of_type(events, "SampleAccepted")}
    assert not accepted & timebank
    rejected = {e.payload.sample_id: e.payload for e in of_type(events, "SampleRejected")}
    for sid in guessed:
        assert rejected[sid].check == "answerable", rejected[sid]
        assert "closed set of 13 labels that a guess reaches" in rejected[sid].reason


def test_timebank_slots_move_to_the_dialogues_and_the_quota_is_met(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    events = guessing_build(tmp_path, general_bench, capsys, "run-moves")
    moved = [e.payload for e in of_type(events, "SlotAssigned") if e.payload.moved_from]
    assert moved and {(m.moved_from.dataset_id, m.dataset_id) for m in moved if m.moved_from} \
        == {(TIMEBANK, "37a67448")}
    assert not {e.payload.sample_id for e in of_type(events, "SampleAccepted")} \
        & timebank_open_items(events)
    done = of_type(events, "RunCompleted")[-1].payload
    assert done.accepted == 4 and not of_type(events, "QuotaShortfall")
    drawn = [(m.dataset_id, m.source_item_id) for m in
             (e.payload for e in of_type(events, "SlotAssigned"))]
    assert len(drawn) == len(set(drawn)), "two slots drew one item"
