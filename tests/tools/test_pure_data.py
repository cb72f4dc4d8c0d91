"""Data tools: conversion round trips, metadata editing, field patching, safe expressions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tools.pure.expression import ExpressionError, compile_expression
from tools.registry import ToolArgumentError, ToolResult, load_builtin_tools
from tools.workspace import Workspace

REGISTRY = load_builtin_tools()

RECORDS = [
    {"id": "q1", "input": {"question": "Colour of the sky?", "options": ["blue", "red"]},
     "output": {"answer": "A"}, "score": 1.5, "ok": True},
    {"id": "q2", "input": {"question": "Colour of grass?", "options": ["pink", "green"]},
     "output": {"answer": "B"}, "score": 2.0, "ok": False},
    {"id": "q3", "input": {"question": "Ünïcode, \"quotes\", commas\nand newline?",
                           "options": ["x", "y"]},
     "output": {"answer": "A"}, "score": -3.25, "ok": True},
]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.write_text("records.json", json.dumps(RECORDS))
    wrapped = {"task": "demo", "type": "MultipleChoiceQA", "data": RECORDS}
    workspace.write_text("wrapped.json", json.dumps(wrapped))
    return workspace


def run(ws: Workspace, name: str, **args: Any) -> ToolResult:
    return REGISTRY.run(name, args, ws, seed=0)


def read_json(ws: Workspace, ref: str) -> Any:
    return json.loads(ws.read_text(ref))


# --------------------------------------------------------------------- convert


@pytest.mark.parametrize("middle", ["jsonl", "parquet", "csv"])
def test_round_trip_through_each_format(ws: Workspace, middle: str) -> None:
    extra: dict[str, Any] = {"csv_infer": True} if middle == "csv" else {}
    first = run(ws, "data_convert", input="records.json", output=f"mid.{middle}")
    assert first.values == {"records": 3}
    run(ws, "data_convert", input=f"mid.{middle}", output="back.json", **extra)
    assert read_json(ws, "back.json") == RECORDS


def test_jsonl_has_one_record_per_line(ws: Workspace) -> None:
    run(ws, "data_convert", input="records.json", output="r.jsonl")
    lines = ws.read_text("r.jsonl").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["q1", "q2", "q3"]


def test_csv_layout_and_plain_string_reading(ws: Workspace) -> None:
    run(ws, "data_convert", input="records.json", output="r.csv")
    text = ws.read_text("r.csv")
    assert text.splitlines()[0] == "id,input,output,score,ok"
    run(ws, "data_convert", input="r.csv", output="strings.json")
    first = read_json(ws, "strings.json")[0]
    assert first["score"] == "1.5" and first["ok"] == "true"  # no inference by default
    assert json.loads(first["input"]) == RECORDS[0]["input"]


def test_parquet_is_real_parquet_with_nested_columns(ws: Workspace) -> None:
    run(ws, "data_convert", input="records.json", output="r.parquet")
    table = pq.read_table(ws.resolve("r.parquet"))
    assert table.num_rows == 3
    assert table.column_names == ["id", "input", "output", "score", "ok"]
    assert table.column("input").type.num_fields == 2


def test_parquet_bytes_are_deterministic(ws: Workspace) -> None:
    a = run(ws, "data_convert", input="records.json", output="a.parquet")
    b = run(ws, "data_convert", input="records.json", output="b.parquet")
    assert a.files["data"].sha256 == b.files["data"].sha256
    assert ws.read_bytes("a.parquet") == ws.read_bytes("b.parquet")


def test_general_bench_wrapper_is_kept_for_json_output(ws: Workspace) -> None:
    run(ws, "data_convert", input="wrapped.json", output="copy.json", json_indent=0)
    top = read_json(ws, "copy.json")
    assert top["task"] == "demo" and top["data"] == RECORDS
    run(ws, "data_convert", input="wrapped.json", output="flat.jsonl")
    assert len(ws.read_text("flat.jsonl").splitlines()) == 3


def test_explicit_formats_override_suffixes(ws: Workspace) -> None:
    run(ws, "data_convert", input="records.json", output="table.dat", output_format="parquet")
    run(ws, "data_convert", input="table.dat", input_format="parquet", output="x.json")
    assert read_json(ws, "x.json") == RECORDS


def test_real_general_bench_file_converts(tmp_path: Path, general_bench: Path) -> None:
    ws = Workspace(tmp_path / "ws", sources={"gb": general_bench / "datasets"})
    result = run(ws, "data_convert", input="gb:nlp/Ethical-Reasoning/annotation.json",
                 output="er.parquet")
    source = json.loads((general_bench / "datasets/nlp/Ethical-Reasoning/annotation.json")
                        .read_text())
    assert result.values["records"] == len(source["data"])
    run(ws, "data_convert", input="er.parquet", output="er.json")
    assert read_json(ws, "er.json") == source["data"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"output": "x.xml"}, "unknown format '.xml'"),
        ({"output": "x.json", "output_format": "yaml"}, "'yaml' is not one of"),
        ({"input": "records.json", "records_key": "rows", "output": "x.json"},
         "is an array; records_key 'rows' not usable"),
        ({"input": "wrapped.json", "records_key": "rows", "output": "x.json"}, "no key 'rows'"),
        ({"json_indent": 9, "output": "x.json"}, "greater than the maximum of 8"),
    ],
)
def test_convert_argument_errors(ws: Workspace, args: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolArgumentError, match=message):
        REGISTRY.run("data_convert", {"input": "records.json", **args}, ws)


def test_bad_content_is_named(ws: Workspace) -> None:
    ws.write_text("bad.jsonl", '{"id": 1}\n[1, 2]\n')
    with pytest.raises(ToolArgumentError, match=r"bad.jsonl\[1\] is a list, not an object"):
        run(ws, "data_convert", input="bad.jsonl", output="x.json")
    ws.write_text("broken.json", "{nope")
    with pytest.raises(ToolArgumentError, match="broken.json is not valid JSON"):
        run(ws, "data_convert", input="broken.json", output="x.jsonl")
    ws.write_text("mixed.json", json.dumps([{"a": 1}, {"a": "text"}]))
    with pytest.raises(ToolArgumentError, match="one Parquet schema"):
        run(ws, "data_convert", input="mixed.json", output="x.parquet")


# -------------------------------------------------------------------- metadata


def test_metadata_set_delete_append(ws: Workspace) -> None:
    run(ws, "data_metadata", input="records.json", output="m1.json",
        set={"source.dataset": "demo", "modality": ["text"], "stale": 1})
    result = run(ws, "data_metadata", input="m1.json", output="m2.json", delete=["stale"],
                 append={"transformations": {"tool": "data_patch"}})
    assert result.values == {"records": 3, "changed": 3}
    for record in read_json(ws, "m2.json"):
        assert record["metadata"] == {
            "source": {"dataset": "demo"},
            "modality": ["text"],
            "transformations": [{"tool": "data_patch"}],
        }


def test_metadata_only_selected_ids_and_custom_field(ws: Workspace) -> None:
    result = run(ws, "data_metadata", input="records.json", output="m.jsonl", ids=["q2"],
                 metadata_field="output.meta", set={"checked": True})
    assert result.values["changed"] == 1
    rows = [json.loads(line) for line in ws.read_text("m.jsonl").splitlines()]
    assert rows[1]["output"] == {"answer": "B", "meta": {"checked": True}}
    assert "meta" not in rows[0]["output"] and "metadata" not in rows[0]


def test_metadata_needs_an_edit(ws: Workspace) -> None:
    with pytest.raises(ToolArgumentError, match="at least one of set, delete, append"):
        run(ws, "data_metadata", input="records.json", output="m.json")
    with pytest.raises(ToolArgumentError, match="not a list; cannot append"):
        run(ws, "data_metadata", input="records.json", output="m.json",
            set={"x": 1}, append={"x": 2})


# ----------------------------------------------------------------------- patch


def test_patch_operations_in_order(ws: Workspace) -> None:
    result = run(
        ws,
        "data_patch",
        input="wrapped.json",
        output="p.json",
        operations=[
            {"op": "derive", "path": "target_text",
             "expr": "input.options[letter_index(output.answer)]"},
            {"op": "rename", "path": "input.question", "to": "context"},
            {"op": "move", "from": "output.answer", "to": "target"},
            {"op": "copy", "from": "input.options", "to": "metadata.original_options"},
            {"op": "set", "path": "metadata.split", "value": "test"},
            {"op": "delete", "path": "ok"},
            {"op": "delete", "path": "not.there", "missing_ok": True},
            {"op": "replace", "path": "input.context", "old": "Colour", "new": "Color",
             "must_match": False},
            {"op": "derive", "path": "metadata.n_options", "expr": "len(input.options)"},
        ],
    )
    assert result.values == {"records": 3, "changed": 3}
    top = read_json(ws, "p.json")
    assert top["task"] == "demo"
    first = top["data"][0]
    assert list(first["input"]) == ["context", "options"]  # renamed in place
    assert first["input"]["context"] == "Color of the sky?"
    assert first["target"] == "A" and first["output"] == {}
    assert first["target_text"] == "blue"
    assert top["data"][1]["target_text"] == "green"
    assert first["metadata"] == {"original_options": ["blue", "red"], "split": "test",
                                 "n_options": 2}
    assert "ok" not in first


def test_patch_splice_and_where(ws: Workspace) -> None:
    result = run(ws, "data_patch", input="records.json", output="s.json",
                 where="output.answer == 'A' and score > 0",
                 operations=[{"op": "splice", "path": "input.question", "start": 0, "end": 6,
                              "new": "Hue"}])
    assert result.values["changed"] == 1
    rows = read_json(ws, "s.json")
    assert rows[0]["input"]["question"] == "Hue of the sky?"
    assert rows[1]["input"]["question"] == RECORDS[1]["input"]["question"]
    assert rows[2]["input"]["question"] == RECORDS[2]["input"]["question"]


def test_patch_f_string_and_conditional(ws: Workspace) -> None:
    run(ws, "data_patch", input="records.json", output="f.jsonl", operations=[
        {"op": "derive", "path": "prompt",
         "expr": "f\"{input.question} Options: {join(input.options, ', ')}\""},
        {"op": "derive", "path": "grade", "expr": "'high' if score >= 2 else 'low'"},
    ])
    rows = [json.loads(line) for line in ws.read_text("f.jsonl").splitlines()]
    assert rows[0]["prompt"] == "Colour of the sky? Options: blue, red"
    assert [r["grade"] for r in rows] == ["low", "high", "low"]


@pytest.mark.parametrize(
    ("operations", "message"),
    [
        ([{"op": "derive", "path": "x", "expr": "__import__('os')"}],
         "unknown function '__import__'"),
        ([{"op": "derive", "path": "x", "expr": "__import__('os').system('true')"}],
         "only named functions"),
        ([{"op": "derive", "path": "x", "expr": "input.__class__"}], "starts with '_'"),
        ([{"op": "derive", "path": "x", "expr": "lambda: 1"}], "Lambda is not allowed"),
        ([{"op": "derive", "path": "x", "expr": "[c for c in id]"}], "ListComp is not allowed"),
        ([{"op": "derive", "path": "x", "expr": "2 ** 100"}], "Pow is not allowed"),
        ([{"op": "derive", "path": "x", "expr": "len(id"}], "does not parse"),
        ([{"op": "explode", "path": "x"}], "is not valid under any of the given schemas"),
        ([{"op": "splice", "path": "id", "start": 5, "end": 2, "new": ""}], "end < start"),
        ([], "should be non-empty"),
    ],
)
def test_patch_refuses_bad_operations_at_validation(
    operations: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ToolArgumentError, match=message):
        REGISTRY.validate("data_patch", {"input": "r.json", "output": "o.json",
                                         "operations": operations})


def test_patch_data_errors_name_the_record(ws: Workspace) -> None:
    with pytest.raises(ToolArgumentError, match="record 'q1' has no field 'input.missing'"):
        run(ws, "data_patch", input="records.json", output="x.json",
            operations=[{"op": "move", "from": "input.missing", "to": "y"}])
    with pytest.raises(ToolArgumentError, match="does not contain 'zebra'"):
        run(ws, "data_patch", input="records.json", output="x.json",
            operations=[{"op": "replace", "path": "id", "old": "zebra", "new": "z"}])
    with pytest.raises(ToolArgumentError, match="past the end"):
        run(ws, "data_patch", input="records.json", output="x.json",
            operations=[{"op": "splice", "path": "id", "start": 0, "end": 50, "new": ""}])
    with pytest.raises(ToolArgumentError, match="already has a field 'options'"):
        run(ws, "data_patch", input="records.json", output="x.json",
            operations=[{"op": "rename", "path": "input.question", "to": "options"}])
    assert not ws.exists("x.json")


# ------------------------------------------------------------------ expressions


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("id", "q1"),
        ("input.options[1]", "red"),
        ("input['options'][-1]", "red"),
        ("output.answer in ['A', 'B']", True),
        ("letter(index_of(input.options, 'red'))", "B"),
        ("upper(substr(input.question, 0, 6))", "COLOUR"),
        ("words(input.question)", 4),
        ("coalesce(get(output, 'missing'), null, 'fallback')", "fallback"),
        ("has('output.answer') and not has('output.nope')", True),
        ("field('input.options[0]')", "blue"),
        ("round(score * 3 / 2, 2)", 2.25),
        ("1 < score <= 1.5", True),
        ("split('a b c')[1:]", ["b", "c"]),
        ("concat(id, '-', len(input.options))", "q1-2"),
        ("'ab' * 3", "ababab"),
    ],
)
def test_expression_language(source: str, expected: Any) -> None:
    assert compile_expression(source).evaluate(RECORDS[0]) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("'x' * 10**7", "Pow is not allowed"),
        ("'x' * 2000000", "longer than"),
        ("'%999999999d' % 1", "'%' formatting"),
        ("replace('aaaa', 'a', 'bbbbbbbbbb') * 1", None),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("id.upper()", "only named functions"),
        ("letter(30)", "index 0-25"),
        ("1 / 0", "ZeroDivisionError"),
        ("input.nothing", "no field 'input.nothing'"),
        ("f'{score:>10}'", "format specs"),
    ],
)
def test_expression_refusals(source: str, message: str | None) -> None:
    if message is None:  # allowed, bounded
        assert compile_expression(source).evaluate(RECORDS[0]) == "b" * 40
        return
    with pytest.raises(ExpressionError, match=message):
        compile_expression(source).evaluate(RECORDS[0])
