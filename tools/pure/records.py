"""Record files (JSON, JSONL, CSV, Parquet) and dotted field paths, for the data tools.

A *record* is a JSON object (a dict). A record file holds a list of them:
- JSON: a top-level array of objects; or an object whose `records_key` (default:
  "data" when it holds an array, the General-Bench layout) is that array — the
  rest of the object (task, type, modality...) is kept and written back when
  the output is JSON too; or a single object, read as one record;
- JSONL: one object per line (blank lines ignored);
- CSV: a header row and string cells; values that are not strings are written
  as JSON (numbers, booleans, nested objects), null as an empty cell; reading
  gives strings unless `infer` is set, which parses cells that are valid JSON;
- Parquet (pyarrow): columns inferred from the records, nested objects as
  structs; fixed writer options so the same records give the same bytes.

Field paths are dotted with optional list indices: `input.options[0]`,
`metadata.source`. Keys containing "." or "[" cannot be addressed.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq

from tools.registry import ToolArgumentError

FORMATS = ("json", "jsonl", "csv", "parquet")
_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_SUFFIXES.update({".parquet": "parquet", ".pq": "parquet"})
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]")
PATH_PATTERN = r"^[^.\[\]]+(\[-?\d+\])*(\.[^.\[\]]+(\[-?\d+\])*)*$"
_PATH_RE = re.compile(PATH_PATTERN)
_MISSING = object()  # "no default given"
_ABSENT = object()  # "the field is not there"


# ------------------------------------------------------------------ formats


def file_format(ref: str, explicit: str | None = None) -> str:
    """The format named explicitly, else the one the suffix implies."""
    if explicit:
        if explicit not in FORMATS:
            raise ToolArgumentError(f"unknown format {explicit!r}; use one of {', '.join(FORMATS)}")
        return explicit
    suffix = PurePosixPath(ref).suffix.lower()
    fmt = _SUFFIXES.get(suffix)
    if fmt is None:
        raise ToolArgumentError(
            f"unknown format {suffix or '(no suffix)'!r} for {ref!r}; use "
            ".json, .jsonl, .csv or .parquet, or name the format"
        )
    return fmt


@dataclass
class RecordSet:
    """Records plus, for JSON read from a wrapping object, where they came from."""

    records: list[dict[str, Any]]
    container: dict[str, Any] | None = None  # the wrapping JSON object, records excluded
    records_key: str | None = None
    single: bool = False  # the JSON file was one object


def _as_records(items: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise ToolArgumentError(f"{where} is not an array of records")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ToolArgumentError(
                f"{where}[{index}] is a {type(item).__name__}, not an object (record)"
            )
    return items


def decode_records(
    data: bytes,
    fmt: str,
    *,
    records_key: str | None = None,
    infer: bool = False,
    name: str = "input",
) -> RecordSet:
    try:
        if fmt == "json":
            return _decode_json(data, records_key, name)
        if fmt == "jsonl":
            records = [
                msgspec.json.decode(line)
                for line in data.splitlines()
                if line.strip()
            ]
            return RecordSet(_as_records(records, name))
        if fmt == "csv":
            return RecordSet(_decode_csv(data, infer))
        table = pq.read_table(io.BytesIO(data))
        return RecordSet(table.to_pylist())
    except msgspec.DecodeError as exc:
        raise ToolArgumentError(f"{name} is not valid {fmt.upper()}: {exc}") from exc
    except (pa.ArrowInvalid, UnicodeDecodeError, csv.Error) as exc:
        raise ToolArgumentError(f"{name} is not valid {fmt}: {exc}") from exc


def _decode_json(data: bytes, records_key: str | None, name: str) -> RecordSet:
    top = msgspec.json.decode(data)
    if isinstance(top, list):
        if records_key:
            raise ToolArgumentError(f"{name} is an array; records_key {records_key!r} not usable")
        return RecordSet(_as_records(top, name))
    if not isinstance(top, dict):
        raise ToolArgumentError(f"{name} holds a {type(top).__name__}, not records")
    key = records_key
    if key is None and isinstance(top.get("data"), list):
        key = "data"
    if key is None:
        return RecordSet([top], single=True)
    if key not in top:
        raise ToolArgumentError(f"{name} has no key {key!r}")
    container = {k: v for k, v in top.items() if k != key}
    return RecordSet(_as_records(top[key], f"{name}.{key}"), container=container, records_key=key)


def _decode_csv(data: bytes, infer: bool) -> list[dict[str, Any]]:
    text = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    records: list[dict[str, Any]] = []
    for row in reader:
        if None in row:
            raise ToolArgumentError(f"CSV line {reader.line_num} has more cells than the header")
        records.append({k: _infer_cell(v) if infer else (v or "") for k, v in row.items()})
    return records


def _infer_cell(cell: str | None) -> Any:
    if cell is None or cell == "":
        return None
    try:
        return msgspec.json.decode(cell)
    except msgspec.DecodeError:
        return cell


def encode_records(records_set: RecordSet, fmt: str, *, indent: int = 2) -> bytes:
    records = records_set.records
    if fmt == "json":
        if records_set.single and len(records) == 1:
            top: Any = records[0]
        elif records_set.records_key is not None:
            top = {**(records_set.container or {}), records_set.records_key: records}
        else:
            top = records
        encoded = msgspec.json.encode(top)
        return (msgspec.json.format(encoded, indent=indent) if indent else encoded) + b"\n"
    if fmt == "jsonl":
        return b"".join(msgspec.json.encode(r) + b"\n" for r in records)
    if fmt == "csv":
        return _encode_csv(records)
    return _encode_parquet(records)


def _encode_csv(records: list[dict[str, Any]]) -> bytes:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(_csv_cell(record.get(c)) for c in columns)
    return out.getvalue().encode()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def _encode_parquet(records: list[dict[str, Any]]) -> bytes:
    try:
        table = pa.Table.from_pylist(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ToolArgumentError(
            f"records do not fit one Parquet schema (mixed types in a field?): {exc}"
        ) from exc
    out = io.BytesIO()
    # Fixed options: the writer's defaults may change between pyarrow versions;
    # created_by names the library version, no timestamp is written.
    pq.write_table(
        table,
        out,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        row_group_size=64 * 1024,
        store_schema=True,
    )
    return out.getvalue()


# --------------------------------------------------------------------- paths


def parse_path(path: str) -> tuple[str | int, ...]:
    """`input.options[0]` → ('input', 'options', 0)."""
    if not isinstance(path, str):
        raise ToolArgumentError(f"field path {path!r} is not a string")
    return _parse_path(path)


@functools.lru_cache(maxsize=1024)
def _parse_path(path: str) -> tuple[str | int, ...]:
    if not _PATH_RE.match(path):
        raise ToolArgumentError(f"field path {path!r} is not of the form a.b[0].c")
    return tuple(int(index) if index else key for key, index in _SEGMENT.findall(path))


def get_field(record: Any, path: str, default: Any = _MISSING) -> Any:
    node = record
    for segment in parse_path(path):
        try:
            if isinstance(segment, int):
                if not isinstance(node, list):
                    raise KeyError(segment)
                node = node[segment]
            else:
                if not isinstance(node, dict):
                    raise KeyError(segment)
                node = node[segment]
        except (KeyError, IndexError):
            if default is not _MISSING:
                return default
            raise ToolArgumentError(f"{_record_name(record)} has no field {path!r}") from None
    return node


def has_field(record: Any, path: str) -> bool:
    return get_field(record, path, _ABSENT) is not _ABSENT


def set_field(record: dict[str, Any], path: str, value: Any) -> None:
    """Set `path`, creating intermediate objects; list indices must already exist."""
    segments = parse_path(path)
    node: Any = record
    for segment, following in zip(segments, segments[1:], strict=False):
        node = _child(node, segment, path, record, create=not isinstance(following, int))
    _assign(node, segments[-1], value, path, record)


def delete_field(record: dict[str, Any], path: str, *, missing_ok: bool = False) -> Any:
    segments = parse_path(path)
    node: Any = record
    try:
        for segment in segments[:-1]:
            node = node[segment]
        return node.pop(segments[-1])
    except (KeyError, IndexError, TypeError, AttributeError):
        if missing_ok:
            return None
        raise ToolArgumentError(f"{_record_name(record)} has no field {path!r}") from None


def rename_key(record: dict[str, Any], path: str, new_key: str) -> None:
    """Rename the last key of `path`, keeping its position among its siblings."""
    segments = parse_path(path)
    if isinstance(segments[-1], int):
        raise ToolArgumentError(f"cannot rename list element {path!r}")
    parent = get_field(record, path.rpartition(".")[0]) if "." in path else record
    old = segments[-1]
    if not isinstance(parent, dict) or old not in parent:
        raise ToolArgumentError(f"{_record_name(record)} has no field {path!r}")
    if new_key in parent and new_key != old:
        raise ToolArgumentError(f"{_record_name(record)} already has a field {new_key!r}")
    items = [(new_key if k == old else k, v) for k, v in parent.items()]
    parent.clear()
    parent.update(items)


def _child(node: Any, segment: str | int, path: str, record: Any, *, create: bool) -> Any:
    if isinstance(segment, int):
        if not isinstance(node, list) or not -len(node) <= segment < len(node):
            raise ToolArgumentError(f"{_record_name(record)}: no list element at {path!r}")
        return node[segment]
    if not isinstance(node, dict):
        raise ToolArgumentError(f"{_record_name(record)}: {path!r} goes through a non-object")
    if segment not in node:
        node[segment] = {} if create else []
    return node[segment]


def _assign(node: Any, segment: str | int, value: Any, path: str, record: Any) -> None:
    if isinstance(segment, int):
        if not isinstance(node, list) or not -len(node) <= segment < len(node):
            raise ToolArgumentError(f"{_record_name(record)}: no list element at {path!r}")
    elif not isinstance(node, dict):
        raise ToolArgumentError(f"{_record_name(record)}: {path!r} goes through a non-object")
    node[segment] = value


def _record_name(record: Any) -> str:
    if isinstance(record, dict) and isinstance(record.get("id"), str | int):
        return f"record {record['id']!r}"
    return "record"
