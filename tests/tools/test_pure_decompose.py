"""Content decomposition: sentences, paragraphs, chunks and dialogue turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tools.registry import ToolArgumentError, ToolResult, load_builtin_tools
from tools.workspace import Workspace

REGISTRY = load_builtin_tools()

PROSE = (
    "Mr. Smith paid $3.5 million for the house. Did he overpay? Experts, e.g. Dr. Jones, "
    "say no! The U.S. market rose. \"Prices will rise,\" said J. K. Rowling.\n\n"
    "A second paragraph starts here. It has two sentences."
)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def split(ws: Workspace, **args: Any) -> ToolResult:
    return REGISTRY.run("data_decompose", args, ws, seed=0)


def texts(result: ToolResult) -> list[str]:
    return [u["text"] for u in result.values["units"]]


def test_sentences_respect_abbreviations_decimals_and_initials(ws: Workspace) -> None:
    assert texts(split(ws, text=PROSE, mode="sentences")) == [
        "Mr. Smith paid $3.5 million for the house.",
        "Did he overpay?",
        "Experts, e.g. Dr. Jones, say no!",
        "The U.S. market rose.",
        "\"Prices will rise,\" said J. K. Rowling.",
        "A second paragraph starts here.",
        "It has two sentences.",
    ]


def test_units_carry_exact_character_spans(ws: Workspace) -> None:
    for mode in ("sentences", "paragraphs", "chunks"):
        for unit in split(ws, text=PROSE, mode=mode, size=5).values["units"]:
            assert PROSE[unit["start"] : unit["end"]] == unit["text"]


def test_paragraphs_blank_lines_or_every_line(ws: Workspace) -> None:
    text = "one\ncontinued\n\n  two  \n\n\nthree"
    assert texts(split(ws, text=text, mode="paragraphs", line_break="space")) == [
        "one\ncontinued",
        "two",
        "three",
    ]
    assert texts(split(ws, text=text, mode="paragraphs")) == ["one", "continued", "two", "three"]


def test_sentences_can_span_line_breaks(ws: Workspace) -> None:
    text = "A sentence that wraps\nonto a second line. Next one."
    assert texts(split(ws, text=text, mode="sentences", line_break="space")) == [
        "A sentence that wraps\nonto a second line.",
        "Next one.",
    ]


def test_word_chunks_with_overlap(ws: Workspace) -> None:
    text = " ".join(f"w{i}" for i in range(10))
    result = split(ws, text=text, mode="chunks", chunk_unit="words", size=4, overlap=1)
    assert texts(result) == ["w0 w1 w2 w3", "w3 w4 w5 w6", "w6 w7 w8 w9"]
    assert result.values["count"] == 3
    exact = split(ws, text=text, mode="chunks", size=5)
    assert texts(exact) == ["w0 w1 w2 w3 w4", "w5 w6 w7 w8 w9"]


def test_char_and_sentence_chunks(ws: Workspace) -> None:
    assert texts(split(ws, text="abcdefghij", mode="chunks", chunk_unit="chars", size=4)) == [
        "abcd",
        "efgh",
        "ij",
    ]
    units = texts(split(ws, text=PROSE, mode="chunks", chunk_unit="sentences", size=3))
    assert len(units) == 3
    assert units[0].startswith("Mr. Smith") and units[0].endswith("say no!")


def test_dialogue_string_turns_with_continuations(ws: Workspace) -> None:
    dialogue = "Speaker 1: Hi, Mon.\nSpeaker 2: Hey!\nstill me\nSpeaker 1: Bye."
    result = split(ws, text=dialogue, mode="turns")
    assert [(u["speaker"], u["text"]) for u in result.values["units"]] == [
        ("Speaker 1", "Hi, Mon."),
        ("Speaker 2", "Hey!\nstill me"),
        ("Speaker 1", "Bye."),
    ]
    for unit in result.values["units"]:
        assert dialogue[unit["start"] : unit["end"]] == unit["text"]


def test_dialogue_lists(ws: Workspace) -> None:
    plain = split(ws, text=["Hello.", "Hi.", "Bye."], mode="turns", speakers=["Guest", "Clerk"])
    assert [u["speaker"] for u in plain.values["units"]] == ["Guest", "Clerk", "Guest"]
    prefixed = split(ws, text=["Ann: Hi.", "Bob: Yo."], mode="turns")
    assert [(u["speaker"], u["text"]) for u in prefixed.values["units"]] == [
        ("Ann", "Hi."),
        ("Bob", "Yo."),
    ]
    roles = split(ws, text=[{"role": "user", "content": "q"}, {"speaker": "S", "text": "a"}],
                  mode="turns")
    assert [(u["speaker"], u["text"]) for u in roles.values["units"]] == [("user", "q"), ("S", "a")]


def test_record_file_to_unit_file(ws: Workspace) -> None:
    records = [
        {"id": "d1", "input": {"dialog": ["Good afternoon.", "Thanks.", "Anything else?"]},
         "topic": "hotel"},
        {"id": "d2", "input": {"dialog": ["Hi.", "Hello."]}, "topic": "greeting"},
    ]
    ws.write_text("dialogs.jsonl", "\n".join(json.dumps(r) for r in records))
    result = split(ws, input="dialogs.jsonl", field="input.dialog", mode="turns",
                   output="turns.jsonl", keep=["topic"])
    assert result.values == {"records": 2, "count": 5}
    rows = [json.loads(line) for line in ws.read_text("turns.jsonl").splitlines()]
    assert [r["id"] for r in rows] == ["d1#0", "d1#1", "d1#2", "d2#0", "d2#1"]
    assert rows[1] == {"id": "d1#1", "source_id": "d1", "index": 1, "speaker": "B",
                       "text": "Thanks.", "topic": "hotel"}


def test_general_bench_dialogues_split_into_speaker_turns(
    tmp_path: Path, general_bench: Path
) -> None:
    ws = Workspace(tmp_path / "ws", sources={"gb": general_bench / "datasets"})
    (source,) = ws.list_files("gb:nlp/Dialogue-Relation-Extraction", suffixes=(".json",))
    result = split(ws, input=source, field="input.raw_text", mode="turns", output="t.jsonl")
    rows = [json.loads(line) for line in ws.read_text("t.jsonl").splitlines()]
    assert result.values["count"] == len(rows) > result.values["records"]
    assert all(r["speaker"] and r["speaker"].startswith("Speaker") for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"mode": "sentences"}, "exactly one of text"),
        ({"mode": "sentences", "text": "x", "input": "a.json"}, "exactly one of text"),
        ({"mode": "chunks", "text": "x", "size": 3, "overlap": 3}, r"overlap \(3\) must be < size"),
        ({"mode": "chunks", "text": "x", "size": 0}, "less than the minimum of 1"),
        ({"mode": "words", "text": "x"}, "'words' is not one of"),
        ({"mode": "sentences", "input": "a.json"}, "needs field"),
        ({"mode": "sentences", "text": ["a"]}, "needs a string"),
        ({"mode": "turns", "text": [1, 2]}, "turn 0 is a int"),
    ],
)
def test_decompose_argument_errors(ws: Workspace, args: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolArgumentError, match=message):
        split(ws, **args)
