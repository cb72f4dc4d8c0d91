"""A cloze item's options are fitted into its blank by the Verifier's language model, not
solved by letter, when the model can score text.

The real case: of the 47 distinct cloze items two temporal builds verified, the 1.5B's
letter solve kept 7, and most of the rest were sound; its likelihood of the text with each
option filled in picked the label on 46 (`perf/cloze_fit.py`). Here a scripted model scores
each filled text: the label likeliest on most items, a distractor on every item whose
dialogue has an odd length (standing for an item where another option fills the blank as
well). The build asks no letter solve of any
cloze item, accepts the first kind and rejects the second, each with its reason; a model
that cannot score text keeps the letter solve.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from agents.cloze import MASK
from agents.cloze_fit import fill_texts, option_shares
from benchagent.cli import main
from tests.agents.build_helpers import of_type, read_events
from tests.agents.scripted_brain import ScriptedBrain
from tests.agents.test_cloze import realize
from tests.agents.test_guessable_labels import GuessingBrain
from tools.llm.scripted import register_responder
from tools.pool import Pool

DIALOGUES = "37a67448"
REQUIREMENT = "I want to evaluate whether a model knows how long everyday events last"


def test_each_option_is_filled_into_the_blank_with_the_rest_of_its_sentence(
        general_bench: Path) -> None:
    from tests.agents.conftest import loaded_pool

    pool = loaded_pool(general_bench, include_generators=False)
    _, item, source = realize(pool, "Temporal-Reasoning", "multiple_choice", index=2)
    texts = fill_texts(item)
    assert texts is not None
    before, filled = texts
    context = str(source.fields["context"])
    head = context[:context.index("<MASK>")].rstrip()
    assert before.rstrip().endswith(head[-80:]) and "<MASK>" not in before
    sentence = item.metadata["cloze_sentence"]
    rest = sentence[sentence.index("<MASK>") + len("<MASK>"):]
    assert [f.strip() for f in filled] == [f"{c}{rest}".strip() for c in item.choices or []]
    assert all(not MASK.search(f) for f in filled)
    # Not a cloze item, or one without options: nothing to fit.
    assert fill_texts(item.__class__(**{**_fields(item), "choices": None})) is None
    _, causal, _ = realize(pool, "Causal-Reasoning", "multiple_choice")
    assert fill_texts(causal) is None
    shares = option_shares([-9.5, -27.6, -27.5, -40.5])
    assert math.isclose(sum(shares), 1.0) and shares[0] > 0.99


def _fields(item: Any) -> dict[str, Any]:
    return {f: getattr(item, f) for f in item.__struct_fields__}


def dialogue_subtasks() -> dict[str, Any]:
    return {"subtasks": [{
        "name": "Durations of everyday events",
        "capability": "how long everyday events last",
        "description": "Fill in how long an everyday event in a dialogue lasts.",
        "answer_format": "multiple_choice", "distinct_focus": "durations"}, {
        # Not everyday life: the news passages of TimeBank, solved by letter, stay in its pool.
        "name": "Temporal relations between events",
        "capability": "when events happen relative to each other",
        "description": "Tell whether one event happens before, after or during another.",
        "answer_format": "multiple_choice", "distinct_focus": "order of events"}],
        "reason": "how long and when"}


class FittingBrain(GuessingBrain):
    """One subtask on durations in dialogues; scores a filled text by whether its option is
    the dialogue's own answer (from the pool's data), except on dialogues of odd length,
    where a distractor fills the blank likeliest."""

    def __init__(self, pool: Pool) -> None:
        super().__init__()
        self.answers = {}
        for item in pool.items(DIALOGUES):
            context = str(item.fields["context"])
            answer = item.fields["answer"]
            self.answers[context[:context.index("<MASK>")].rstrip()] = (
                [answer] if isinstance(answer, str) else list(answer), len(context) % 2)
        self.fitted: list[str] = []

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return dialogue_subtasks()

    def score_continuations(self, text: str, continuations: list[str]) -> list[float]:
        self.fitted.append(text)
        head = max((h for h in self.answers if text.rstrip().endswith(h)), key=len)
        answers, odd = self.answers[head]
        right = [any(c.strip().startswith(a) for a in answers) for c in continuations]
        label = right.index(True)
        best = (label + 1) % len(continuations) if odd else label
        return [-2.0 if i == best else -20.0 for i in range(len(continuations))]


def fitting_build(tmp_path: Path, general_bench: Path, capsys: Any, brain: ScriptedBrain,
                  run_id: str) -> list[Any]:
    register_responder(run_id, brain)
    home = tmp_path / run_id
    code = main(["build", REQUIREMENT, "--size", "8", "--seed", "2", "--llm",
                 f"scripted:{run_id}", "--pool", str(general_bench), "--home", str(home),
                 "--run-id", run_id, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out.splitlines()[-1])["status"] == "completed"
    return read_events(home, run_id)


def test_cloze_items_are_fitted_accepted_when_the_label_fits_best_rejected_else(
        tmp_path: Path, general_bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.agents.conftest import loaded_pool

    brain = FittingBrain(loaded_pool(general_bench, include_generators=False))
    events = fitting_build(tmp_path, general_bench, capsys, brain, "fitting")
    realized = {e.payload.sample_id: e.payload.item for e in of_type(events, "SampleRealized")}
    cloze = {sid for sid, item in realized.items() if fill_texts(item) is not None}
    assert len(cloze) >= 4 and brain.fitted
    of_sample = {e.event_id: e.payload.sample_id for e in of_type(events, "SampleRealized")}
    calls = of_type(events, "LLMCallRecorded")
    fitted = {of_sample[c.causation_id] for c in calls if c.payload.purpose == "verifier.fit"}
    assert fitted == cloze
    solved = {of_sample[c.causation_id] for c in calls if c.payload.purpose == "verifier.solve"}
    assert solved and not solved & cloze  # the other dataset's items are solved by letter
    verdicts = {e.payload.sample_id: e.payload.verdicts for e in of_type(events, "SampleChecked")}
    accepted = {e.payload.sample_id for e in of_type(events, "SampleAccepted")}
    rejected = {e.payload.sample_id: e.payload for e in of_type(events, "SampleRejected")}
    assert len(accepted) == 8 and set(rejected) & cloze and accepted & cloze
    for sid in accepted & cloze:
        (fit,) = [v for v in verdicts[sid] if v.check == "unambiguous"]
        assert fit.passed and "filled into the blank, the label takes 1.00" in fit.reason
    for sid, why in rejected.items():
        if sid not in cloze:
            continue
        assert why.check == "answer_matches", why
        assert "filled into the blank" in why.reason and "reads likelier than the label" \
            in why.reason


def test_a_model_that_cannot_score_text_keeps_the_letter_solve(
        tmp_path: Path, general_bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class LetterBrain(GuessingBrain):
        def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
            return dialogue_subtasks()

    events = fitting_build(tmp_path, general_bench, capsys, LetterBrain(), "letters")
    purposes = {c.payload.purpose for c in of_type(events, "LLMCallRecorded")}
    assert "verifier.solve" in purposes and "verifier.fit" not in purposes
