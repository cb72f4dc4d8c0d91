"""Data tools: file conversion, metadata editing and structured field patching.

All three read a record file (JSON, JSONL, CSV, Parquet; see `tools.pure.records`)
and write one, so they chain: convert a dataset to JSONL, patch its fields,
stamp its metadata. Records keep their order; keys keep their order except
where an operation says otherwise. The file written is the output "data";
values returned: `records` (count read) and, for edits, `changed` (records
modified).

`data_patch` operations, applied in order to every record (or to those where
the optional `where` expression is true):

    {"op": "rename",  "path": "input.raw_text", "to": "context"}   # key renamed in place
    {"op": "move",    "from": "output.answer", "to": "target"}    # remove + set
    {"op": "copy",    "from": "input.question", "to": "metadata.question"}
    {"op": "set",     "path": "metadata.split", "value": "test"}
    {"op": "delete",  "path": "input.prompt", "missing_ok": true}
    {"op": "derive",  "path": "target_text", "expr": "input.options[letter_index(output.answer)]"}
    {"op": "replace", "path": "input.question", "old": "colour", "new": "color", "count": -1}
    {"op": "splice",  "path": "input.context", "start": 10, "end": 42, "new": "[REDACTED]"}

`derive` and `where` use the safe expression language of `tools.pure.expression`.
"""

from __future__ import annotations

import copy
from typing import Any

from tools.pure.expression import compile_expression
from tools.pure.records import (
    FORMATS,
    PATH_PATTERN,
    RecordSet,
    decode_records,
    delete_field,
    encode_records,
    file_format,
    get_field,
    rename_key,
    set_field,
)
from tools.registry import ToolArgumentError, ToolContext, tool

VERSION = "1"

_PATH = {"type": "string", "pattern": PATH_PATTERN, "description": "field path, e.g. a.b[0]"}
RECORD_IO: dict[str, Any] = {
    "input": {"type": "string", "format": "ws-path", "description": "record file to read"},
    "output": {"type": "string", "format": "ws-output-path", "description": "file to write"},
    "input_format": {"enum": list(FORMATS), "description": "default: from the input suffix"},
    "output_format": {"enum": list(FORMATS), "description": "default: from the output suffix"},
    "records_key": {
        "type": "string",
        "minLength": 1,
        "description": "JSON input: key of the record array (default 'data' if present)",
    },
    "csv_infer": {
        "type": "boolean",
        "default": False,
        "description": "CSV input: parse cells that are valid JSON (numbers, booleans...)",
    },
    "json_indent": {"type": "integer", "minimum": 0, "maximum": 8, "default": 2},
}


def record_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**RECORD_IO, **properties},
        "required": ["input", "output", *required],
        "additionalProperties": False,
    }


def check_formats(args: dict[str, Any]) -> None:
    file_format(args["input"], args.get("input_format"))
    file_format(args["output"], args.get("output_format"))


def read_records(ctx: ToolContext, args: dict[str, Any]) -> RecordSet:
    fmt = file_format(args["input"], args.get("input_format"))
    return decode_records(
        ctx.read_bytes(args["input"]),
        fmt,
        records_key=args.get("records_key"),
        infer=args.get("csv_infer", False),
        name=args["input"],
    )


def write_records(ctx: ToolContext, args: dict[str, Any], records: RecordSet) -> None:
    fmt = file_format(args["output"], args.get("output_format"))
    ctx.write_file("data", args["output"], encode_records(records, fmt, indent=args["json_indent"]))


# -------------------------------------------------------------------- convert


@tool(
    name="data_convert",
    version=VERSION,
    family="data",
    description=(
        "Convert a record file between JSON, JSONL, CSV and Parquet, keeping record order "
        "and content (CSV cells hold non-strings as JSON)."
    ),
    parameters=record_schema({}, []),
    check=check_formats,
)
def data_convert(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    records = read_records(ctx, args)
    write_records(ctx, args, records)
    return {"records": len(records.records)}


# ------------------------------------------------------------------- metadata


def _check_metadata(args: dict[str, Any]) -> None:
    check_formats(args)
    if not (args.get("set") or args.get("delete") or args.get("append")):
        raise ToolArgumentError("give at least one of set, delete, append")


def _selected(record: dict[str, Any], args: dict[str, Any]) -> bool:
    ids = args.get("ids")
    if ids is None:
        return True
    return get_field(record, args["id_field"], None) in ids


@tool(
    name="data_metadata",
    version=VERSION,
    family="data",
    description=(
        "Edit each record's metadata object (at `metadata_field`, created if missing): set "
        "keys, delete keys, append values to list keys (e.g. a transformation log). Keys are "
        "paths inside the metadata object. `ids` restricts the edit to those record ids."
    ),
    parameters=record_schema(
        {
            "metadata_field": {**_PATH, "default": "metadata"},
            "set": {"type": "object", "propertyNames": {"pattern": PATH_PATTERN}},
            "delete": {"type": "array", "items": _PATH},
            "append": {"type": "object", "propertyNames": {"pattern": PATH_PATTERN}},
            "ids": {"type": "array", "items": {"type": ["string", "integer"]}},
            "id_field": {**_PATH, "default": "id"},
        },
        [],
    ),
    check=_check_metadata,
)
def data_metadata(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    records = read_records(ctx, args)
    changed = 0
    for record in records.records:
        if not _selected(record, args):
            continue
        meta = get_field(record, args["metadata_field"], None)
        if meta is None:
            meta = {}
            set_field(record, args["metadata_field"], meta)
        if not isinstance(meta, dict):
            raise ToolArgumentError(
                f"field {args['metadata_field']!r} is a {type(meta).__name__}, not an object"
            )
        for key, value in (args.get("set") or {}).items():
            set_field(meta, key, copy.deepcopy(value))
        for key in args.get("delete") or []:
            delete_field(meta, key, missing_ok=True)
        for key, value in (args.get("append") or {}).items():
            current = get_field(meta, key, None)
            if current is None:
                current = []
                set_field(meta, key, current)
            if not isinstance(current, list):
                raise ToolArgumentError(f"metadata {key!r} is not a list; cannot append")
            current.append(copy.deepcopy(value))
        changed += 1
    write_records(ctx, args, records)
    return {"records": len(records.records), "changed": changed}


# ---------------------------------------------------------------------- patch


def _op(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {"op": {"const": name}, **properties},
        "required": ["op", *required],
        "additionalProperties": False,
    }


_OPERATION = {
    "oneOf": [
        _op("rename", {"path": _PATH, "to": {"type": "string", "pattern": r"^[^.\[\]]+$"}},
            ["path", "to"]),
        _op("move", {"from": _PATH, "to": _PATH}, ["from", "to"]),
        _op("copy", {"from": _PATH, "to": _PATH}, ["from", "to"]),
        _op("set", {"path": _PATH, "value": {}}, ["path", "value"]),
        _op("delete", {"path": _PATH, "missing_ok": {"type": "boolean"}}, ["path"]),
        _op("derive", {"path": _PATH, "expr": {"type": "string", "minLength": 1}},
            ["path", "expr"]),
        _op(
            "replace",
            {
                "path": _PATH,
                "old": {"type": "string", "minLength": 1},
                "new": {"type": "string"},
                "count": {"type": "integer", "minimum": -1},
                "must_match": {"type": "boolean"},
            },
            ["path", "old", "new"],
        ),
        _op(
            "splice",
            {
                "path": _PATH,
                "start": {"type": "integer", "minimum": 0},
                "end": {"type": "integer", "minimum": 0},
                "new": {"type": "string"},
            },
            ["path", "start", "end", "new"],
        ),
    ]
}


def _check_patch(args: dict[str, Any]) -> None:
    check_formats(args)
    if args.get("where"):
        compile_expression(args["where"])
    for index, operation in enumerate(args["operations"]):
        if operation["op"] == "derive":
            compile_expression(operation["expr"])
        if operation["op"] == "splice" and operation["end"] < operation["start"]:
            raise ToolArgumentError(f"operations[{index}]: splice end < start")


def apply_operation(record: dict[str, Any], operation: dict[str, Any]) -> None:
    """Apply one patch operation to `record` in place."""
    op = operation["op"]
    if op == "rename":
        rename_key(record, operation["path"], operation["to"])
    elif op == "move":
        value = delete_field(record, operation["from"])
        set_field(record, operation["to"], value)
    elif op == "copy":
        set_field(record, operation["to"], copy.deepcopy(get_field(record, operation["from"])))
    elif op == "set":
        set_field(record, operation["path"], copy.deepcopy(operation["value"]))
    elif op == "delete":
        delete_field(record, operation["path"], missing_ok=operation.get("missing_ok", False))
    elif op == "derive":
        value = compile_expression(operation["expr"]).evaluate(record)
        set_field(record, operation["path"], value)
    elif op == "replace":
        text = _string_field(record, operation["path"])
        if operation["old"] not in text and operation.get("must_match", True):
            raise ToolArgumentError(
                f"{operation['path']!r} of record {record.get('id')!r} does not contain "
                f"{operation['old']!r}"
            )
        set_field(
            record,
            operation["path"],
            text.replace(operation["old"], operation["new"], operation.get("count", -1)),
        )
    elif op == "splice":
        text = _string_field(record, operation["path"])
        start, end = operation["start"], operation["end"]
        if end > len(text):
            raise ToolArgumentError(
                f"splice [{start}, {end}) is past the end of {operation['path']!r} "
                f"({len(text)} characters) in record {record.get('id')!r}"
            )
        set_field(record, operation["path"], text[:start] + operation["new"] + text[end:])


def _string_field(record: dict[str, Any], path: str) -> str:
    value = get_field(record, path)
    if not isinstance(value, str):
        raise ToolArgumentError(f"field {path!r} is a {type(value).__name__}, not a string")
    return value


@tool(
    name="data_patch",
    version=VERSION,
    family="data",
    description=(
        "Patch record fields with a list of operations applied in order: rename (key in "
        "place), move, copy, set, delete, derive (safe expression over the record, e.g. "
        "\"input.options[letter_index(output.answer)]\"), replace (substring) and splice "
        "(character span). `where` (expression) limits the records patched."
    ),
    parameters=record_schema(
        {
            "operations": {"type": "array", "items": _OPERATION, "minItems": 1, "maxItems": 64},
            "where": {"type": "string", "minLength": 1},
        },
        ["operations"],
    ),
    check=_check_patch,
)
def data_patch(ctx: ToolContext, args: dict[str, Any]) -> dict[str, Any]:
    records = read_records(ctx, args)
    where = compile_expression(args["where"]) if args.get("where") else None
    changed = 0
    for record in records.records:
        if where is not None and not where.evaluate(record):
            continue
        for operation in args["operations"]:
            apply_operation(record, operation)
        changed += 1
    write_records(ctx, args, records)
    return {"records": len(records.records), "changed": changed}
