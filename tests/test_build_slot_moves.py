"""A subtask grounded on a dataset whose every item the blind solve rejects and on a
generator that works: its dataset slots move to the generator and the quota is met; replay
and audit follow the moves from the log alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchagent.cli import main
from replay.benchmark_files import directory_hash
from tests.agents.build_helpers import of_type, read_events
from tests.agents.scripted_brain import TOPICS, ScriptedBrain
from tools.llm.scripted import register_responder

# A subtask relevant to both a dataset and a generator: its name says time, its description
# says meetings too, and the requirement asks for neither family over the other (a subtask
# named for scheduling, or a requirement about meeting slots, leaves the dialogues out).
REQUIREMENT = "I want to evaluate whether a model can keep track of plans in daily life"
MEETINGS = {"name": "Time spans and plans",
            "description": "Infer meeting times and time spans from everyday dialogues and "
                           "calendar constraints.",
            "capability": "temporal reasoning about plans in dialogue",
            "answer_format": "multiple_choice", "distinct_focus": "meeting times"}


class CalendarBrain(ScriptedBrain):
    """Proposes a meeting subtask (grounded on Temporal-Reasoning and the calendar generator)
    and misses every Temporal-Reasoning item (a dialogue with a masked time span)."""

    def design_propose(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"subtasks": [dict(MEETINGS), dict(TOPICS[1][1])],
                "reason": "meetings, and a social subtask beside them"}

    def answer(self, messages: list[dict[str, Any]]) -> str:
        right = super().answer(messages)
        content = str(messages[-1].get("content", ""))
        if "<MASK>" in content:
            return "B" if right == "A" else "A"
        return right


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_dataset_slots_that_fill_nothing_move_to_the_generator(
        tmp_path: Path, general_bench: Path, capsys: Any) -> None:
    register_responder("calendar-brain", CalendarBrain())
    home = tmp_path / "home"
    code, out, err = run_cli(capsys, "build", REQUIREMENT, "--size", "12", "--seed", "3",
                             "--llm", "scripted:calendar-brain", "--pool", str(general_bench),
                             "--home", str(home), "--run-id", "run-test", "--json")
    assert code == 0, err
    doc = json.loads(out.splitlines()[-1])
    events = read_events(home)
    quotas = of_type(events, "SpecFinalized")[0].payload.quotas
    meeting = {q.dataset_id: q for q in quotas if q.subtask == MEETINGS["name"]}
    assert set(meeting) == {"37a67448", "gen-calendar"}
    moved = [e.payload for e in of_type(events, "SlotAssigned") if e.payload.moved_from]
    assert moved and all(m.dataset_id == "gen-calendar" for m in moved)
    assert {m.moved_from.dataset_id for m in moved} == {"37a67448"}
    # Every slot of the dataset quota is filled, by the generator.
    accepted = {e.payload.sample_id for e in of_type(events, "SampleAccepted")}
    filled = {m.slot for m in moved if m.sample_id in accepted}
    assert filled == set(range(meeting["37a67448"].count))
    assert doc["accepted"] == 12 and doc["shortfall"] == 0
    lines = [json.loads(line) for line in
             (Path(doc["out_dir"]) / "benchmark.jsonl").read_text().splitlines()]
    from_generator = [item for item in lines if item["subtask"] == MEETINGS["name"]
                      and "37a67448" in item["id"]]
    assert len(from_generator) == meeting["37a67448"].count
    assert all(item["metadata"]["generator"] == "calendar" for item in from_generator)

    code, _, err = run_cli(capsys, "replay", "run-test", "--out", str(tmp_path / "replayed"),
                           "--home", str(home))
    assert code == 0, err
    assert directory_hash(tmp_path / "replayed") == directory_hash(Path(doc["out_dir"]))
    code, out, err = run_cli(capsys, "audit", "run-test", "--sample", moved[0].sample_id,
                             "--home", str(home), "--json")
    assert code == 0, err
    steps = json.loads(out)["chain"]
    move = next(s for s in steps if s["type"] == "SlotAssigned"
                and moved[0].sample_id in s["summary"])
    assert "moved from 37a67448" in move["summary"] and "37a67448" in move["reason"]
