"""Reading a pool dataset stored as JSONL, CSV, Parquet or a saved Hugging Face dataset.

A card written by `benchagent pool add` names its format in `raw_meta.source_format`; the
pool then reads its records here (pyarrow for every format), and General-Bench JSON files
(no format named) as before. Records come back as plain dicts in file order:

- `hf-disk` (a `Dataset.save_to_disk` folder, named by its `state.json`, or a `DatasetDict`,
  named by its `dataset_dict.json`: every split, in the order it lists them);
- Hugging Face `Image`/`Audio` values (found in the schema's `huggingface` metadata, which
  `datasets` writes into Arrow and Parquet files) become the relative path of the file
  `pool add` extracted them to, `media/<sha256><ext>`, beside the dataset;
- CSV cells that hold JSON lists (`raw_meta.list_columns`) are decoded, and option columns
  (`raw_meta.option_columns`, e.g. A, B, C, D) are gathered into one list under
  `raw_meta.options_key`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal, get_args

import pyarrow as pa

from tools.cards import DatasetCard

SourceFormat = Literal["jsonl", "csv", "parquet", "hf-disk"]
SOURCE_FORMATS: tuple[str, ...] = get_args(SourceFormat)
HF_MARKERS = ("state.json", "dataset_dict.json")
MEDIA_DIR = "media"
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
               ".parquet": "parquet"}


class SourceFormatError(Exception):
    """A data file cannot be read in its format; the message is one clear line."""


def detect_format(path: Path) -> SourceFormat:
    """The format of a file or folder, from its name (or a saved dataset's marker file)."""
    if path.is_dir():
        if any((path / marker).is_file() for marker in HF_MARKERS):
            return "hf-disk"
        raise SourceFormatError(
            f"{path} is a folder but not a saved Hugging Face dataset (no state.json or "
            "dataset_dict.json); give one of its data files instead")
    if path.name in HF_MARKERS:
        return "hf-disk"
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise SourceFormatError(f"{path}: unknown data format {path.suffix or '(no extension)'}"
                                "; expected .jsonl, .csv, .parquet or a saved Hugging Face "
                                "dataset folder")
    return fmt  # type: ignore[return-value]


def read_table(path: Path, fmt: SourceFormat) -> pa.Table:
    """The whole dataset as one Arrow table (a saved DatasetDict: its splits one after the
    other). `path` is the file, or a saved dataset's folder or marker file."""
    try:
        if fmt == "jsonl":
            import pyarrow.json as pj

            return pj.read_json(path)
        if fmt == "csv":
            import pyarrow.csv as pc

            return pc.read_csv(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path)
        return _read_saved_dataset(path if path.is_dir() else path.parent)
    except (pa.ArrowException, OSError, ValueError, KeyError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceFormatError(f"{path} cannot be read as {fmt}: {reason}") from None


def _read_saved_dataset(folder: Path) -> pa.Table:
    if (folder / "dataset_dict.json").is_file():
        splits = json.loads((folder / "dataset_dict.json").read_text())["splits"]
        return pa.concat_tables([_read_saved_dataset(folder / split) for split in splits],
                                promote_options="permissive")
    state = json.loads((folder / "state.json").read_text())
    tables = []
    for entry in state["_data_files"]:
        with pa.memory_map(str(folder / entry["filename"])) as source:
            tables.append(pa.ipc.open_stream(source).read_all())
    return pa.concat_tables(tables, promote_options="permissive")


def hf_features(table: pa.Table) -> dict[str, Any]:
    """The `datasets` features a table's schema carries (empty when none)."""
    raw = (table.schema.metadata or {}).get(b"huggingface")
    if not raw:
        return {}
    try:
        return dict(json.loads(raw).get("info", {}).get("features", {}))
    except (ValueError, AttributeError):
        return {}


def media_columns(table: pa.Table) -> dict[str, Literal["image", "audio"]]:
    """Columns holding Hugging Face Image or Audio values (or lists of them)."""
    out: dict[str, Literal["image", "audio"]] = {}
    for name, feature in hf_features(table).items():
        inner = feature.get("feature", feature) if isinstance(feature, dict) else {}
        kind = inner.get("_type") if isinstance(inner, dict) else None
        if kind in ("Image", "Audio") and name in table.column_names:
            out[name] = "image" if kind == "Image" else "audio"
    return out


_AUDIO_MAGIC = ((b"RIFF", ".wav"), (b"fLaC", ".flac"), (b"OggS", ".ogg"), (b"ID3", ".mp3"),
                (b"\xff\xfb", ".mp3"), (b"\xff\xf3", ".mp3"))


def media_name(value: dict[str, Any], kind: Literal["image", "audio"]) -> str:
    """`media/<sha256><ext>` for an embedded Image/Audio value ({bytes, path})."""
    data: bytes = value["bytes"]
    suffix = Path(value.get("path") or "").suffix.lower()
    if not suffix and kind == "image":
        from PIL import Image

        suffix = "." + (Image.open(io.BytesIO(data)).format or "bin").lower()
    if not suffix:
        suffix = next((ext for magic, ext in _AUDIO_MAGIC if data.startswith(magic)), ".bin")
    return f"{MEDIA_DIR}/{hashlib.sha256(data).hexdigest()}{suffix}"


def embedded_media(table: pa.Table) -> Iterable[tuple[str, bytes]]:
    """(relative name, bytes) of every embedded Image/Audio value (for `pool add`)."""
    for column, kind in media_columns(table).items():
        for value in table.column(column).to_pylist():
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, dict) and one.get("bytes"):
                    yield media_name(one, kind), one["bytes"]


def records(table: pa.Table, list_columns: Iterable[str] = (),
            option_columns: Iterable[str] = (), options_key: str = "") -> list[dict[str, Any]]:
    """The table's rows as dicts, with media values, JSON list cells and options resolved."""
    media = media_columns(table)
    lists, options = list(list_columns), list(option_columns)
    rows = table.to_pylist()
    for row in rows:
        for column, kind in media.items():
            value = row[column]
            if isinstance(value, list):
                row[column] = [media_name(v, kind) for v in value
                               if isinstance(v, dict) and v.get("bytes")]
            elif isinstance(value, dict) and value.get("bytes"):
                row[column] = media_name(value, kind)
            elif isinstance(value, dict):
                row[column] = value.get("path")  # a reference to a file, not embedded
        for column in lists:
            if isinstance(row.get(column), str):
                row[column] = json.loads(row[column])
        if options:
            row[options_key] = [row[c] for c in options if row.get(c) not in (None, "")]
    return rows


def read_records(card: DatasetCard, source: Path) -> list[dict[str, Any]]:
    """The records of a card's dataset in its `raw_meta.source_format`."""
    meta = card.raw_meta
    fmt = meta.source_format
    if fmt not in SOURCE_FORMATS:
        raise SourceFormatError(f"card {card.dataset_id}: unknown raw_meta.source_format "
                                f"{fmt!r}; known: {', '.join(SOURCE_FORMATS)}")
    table = read_table(source, fmt)  # type: ignore[arg-type]
    try:
        return records(table, meta.list_columns, meta.option_columns, meta.options_key)
    except (ValueError, KeyError) as exc:
        raise SourceFormatError(f"{source}: a record cannot be read ({exc})") from None
