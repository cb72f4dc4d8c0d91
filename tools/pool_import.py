"""`benchagent pool add`: a user's JSONL, CSV, Parquet file or saved Hugging Face dataset joins
the pool, described by a card inferred from the data.

The data is read with pyarrow (`tools.pool_formats`, the same reader the pool uses later), so
the card describes exactly the records Grounding will see. From the records it infers each
field's role (question, context, dialog, options, answer, category, image, audio) from its
name and values, the modalities, the size, the tasks and a description; nothing that can be
inferred is asked. A field it cannot place is named, with why, and left out of the card.

The dataset is copied into the pool (`datasets/imported/<id>/`, with the media files its
records name, and the images and audio a Hugging Face dataset embeds extracted to
`media/<sha256><ext>`), so every path the card names is inside the pool. The card records the
source's sha256; the dataset id is its first 8 hex digits, so adding the same data twice is
refused. Data folder and card appear complete or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pyarrow as pa

from tools.cards import DatasetCard, parse_card
from tools.pool_formats import (
    HF_MARKERS,
    SourceFormat,
    SourceFormatError,
    detect_format,
    embedded_media,
    media_columns,
    read_table,
    records,
)

CARDS_DIR = "dataset_cards"
IMPORTED_DIR = "datasets/imported"
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a"})

# A field's role from the words of its path, read from the last word back; generic words
# ("text", "path", ...) are skipped when the path has others ("answer_text" is an answer).
ROLE_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("options", frozenset({"choices", "choice", "options", "option", "candidates", "endings",
                           "alternatives"})),
    ("answer", frozenset({"answer", "answers", "label", "labels", "target", "gold", "solution",
                          "output", "outputs", "correct", "truth", "reference", "class"})),
    ("question", frozenset({"question", "questions", "query", "prompt", "instruction",
                            "problem"})),
    ("dialog", frozenset({"dialog", "dialogue", "conversation", "turns", "utterances"})),
    ("context", frozenset({"context", "passage", "text", "document", "story", "article",
                           "premise", "hypothesis", "paragraph", "background", "input",
                           "inputs", "sentence", "content", "description", "caption",
                           "statement", "claim"})),
    ("category", frozenset({"category", "subject", "topic", "domain", "genre", "type", "task"})),
    ("image", frozenset({"image", "images", "img", "picture", "photo"})),
    ("audio", frozenset({"audio", "wav", "speech", "recording", "sound"})),
)
GENERIC_WORDS = frozenset({"text", "str", "string", "value", "values", "path", "file", "name",
                           "key", "data", "field", "raw", "list"})
ID_WORDS = frozenset({"id", "idx", "uid", "qid", "uuid", "index", "guid"})
SINGLE_ROLES = ("options", "answer", "question", "category", "dialog")
OPTION_COLUMN = re.compile(r"^(?:(?:option|choice|answer)[ _]?)?([A-Ha-h1-8])$", re.I)
_WORD = re.compile(r"[a-z]+|[0-9]+")


class PoolAddError(Exception):
    """The data cannot join the pool; the message is one clear line."""


class Field(msgspec.Struct, kw_only=True):
    """What the records hold at one dotted path."""

    path: str
    values: list[Any]  # the non-empty values, in record order
    kind: str  # text | texts | number | bool | other | image | audio

    @property
    def mean_length(self) -> float:
        texts = [v if isinstance(v, str) else " ".join(map(str, v)) for v in self.values
                 if isinstance(v, str | list)]
        return sum(len(t) for t in texts) / len(texts) if texts else 0.0

    @property
    def distinct(self) -> int:
        return len({json.dumps(v, sort_keys=True, default=str) for v in self.values})


class Placement(msgspec.Struct, frozen=True, kw_only=True):
    role: str
    path: str
    modality: str  # text | image | audio


class AddResult(msgspec.Struct, frozen=True, kw_only=True):
    card: DatasetCard
    card_file: str
    data_dir: str
    placements: list[Placement]
    left_out: dict[str, str]  # field path -> why
    usable: int  # records the pool can use
    unusable: int
    first_problem: str | None = None


# ------------------------------------------------------------------------ reading


def _flatten(record: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from _flatten(value, path + ".")
        else:
            yield path, value


def _media_kind(value: Any) -> str | None:
    names = value if isinstance(value, list) else [value]
    kinds = set()
    for name in names:
        if not isinstance(name, str):
            return None
        suffix = Path(name).suffix.lower()
        kinds.add("image" if suffix in IMAGE_EXTENSIONS else
                  "audio" if suffix in AUDIO_EXTENSIONS else None)
    return kinds.pop() if len(kinds) == 1 else None


def _kind(values: list[Any]) -> str:
    def one(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int | float):
            return "number"
        if isinstance(v, str):
            return _media_kind(v) or "text"
        if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            return _media_kind(v) or "texts"
        return "other"

    counts = Counter(one(v) for v in values)
    if not counts:
        return "other"
    kind, count = counts.most_common(1)[0]
    return kind if count >= 0.8 * len(values) else "other"


def _fields(rows: Sequence[dict[str, Any]], media: dict[str, str]) -> list[Field]:
    paths: dict[str, list[Any]] = {}
    for row in rows:
        for path, value in _flatten(row):
            if value is not None and value != "" and value != []:
                paths.setdefault(path, []).append(value)
            else:
                paths.setdefault(path, [])
    return [Field(path=p, values=v, kind=media.get(p) or _kind(v)) for p, v in paths.items()]


def _list_columns(table: pa.Table) -> list[str]:
    """String columns (CSV) whose every non-empty cell is a JSON list."""
    out = []
    for name in table.column_names:
        if not pa.types.is_string(table.schema.field(name).type):
            continue
        cells = [c for c in table.column(name).to_pylist() if c]
        try:
            if cells and all(c.lstrip().startswith("[") and isinstance(json.loads(c), list)
                             for c in cells):
                out.append(name)
        except ValueError:
            continue
    return out


def _option_columns(table: pa.Table) -> list[str]:
    """Columns such as A, B, C, D (or option_a..., choice1...) that hold one option each."""
    found = [(m.group(1).upper(), name) for name in table.column_names
             if (m := OPTION_COLUMN.match(name))]
    letters = [k for k, _ in found]
    expected = [chr(ord("A") + i) for i in range(len(found))]
    numbers = [str(i + 1) for i in range(len(found))]
    if len(found) >= 2 and letters in (expected, numbers):
        return [name for _, name in found]
    return []


# --------------------------------------------------------------------- placing


def _words(path: str) -> list[str]:
    return _WORD.findall(path.lower().replace("_", " "))


def role_by_name(path: str) -> str | None:
    """The role a path's words name, if any."""
    words = _words(path)
    meaningful = [w for w in words if w not in GENERIC_WORDS] or words
    for word in reversed(meaningful):
        for role, names in ROLE_WORDS:
            if word in names:
                return role
    return None


def place(fields: Sequence[Field], options_key: str = "") -> tuple[list[Placement], dict[str, str]]:
    """Roles for the fields, and the fields left out with why."""
    placed: list[Placement] = []
    left_out: dict[str, str] = {}
    taken: set[str] = set()

    def put(role: str, field: Field, modality: str = "text") -> None:
        name, n = role, 2
        while name in taken:
            name, n = f"{role}_{n}", n + 1
        taken.add(name)
        placed.append(Placement(role=name, path=field.path, modality=modality))

    unplaced: list[Field] = []
    for field in fields:
        words = _words(field.path)
        role = "options" if options_key and field.path == options_key else role_by_name(field.path)
        if not field.values:
            left_out[field.path] = "always empty"
        elif field.kind in ("image", "audio"):
            put(field.kind, field, field.kind)
        elif words and words[-1] in ID_WORDS and role is None:
            left_out[field.path] = "a record id"
        elif role in ("image", "audio"):
            left_out[field.path] = f"named like {role} but its values are not {role} files"
        elif role == "options":
            if field.kind != "texts" and not all(isinstance(v, list) for v in field.values):
                left_out[field.path] = "named like options but not a list"
            elif "options" in taken:
                left_out[field.path] = "a second options field"
            else:
                put("options", field)
        elif role in ("answer", "category") and field.kind not in ("other",):
            if role in taken:
                left_out[field.path] = f"a second {role} field"
            else:
                put(role, field)
        elif role in ("question", "dialog", "context") and field.kind in ("text", "texts"):
            put(role, field)
        else:
            unplaced.append(field)
    for field in unplaced:
        if field.kind in ("text", "texts") and field.mean_length >= 20 and \
                field.distinct >= 0.5 * len(field.values):
            put(_role_name(field.path), field)
        else:
            left_out[field.path] = _why_left_out(field)
    return placed, left_out


def _role_name(path: str) -> str:
    return "_".join(_words(path)) or "field"


def _why_left_out(field: Field) -> str:
    if field.kind in ("number", "bool"):
        return f"{field.kind} values of unknown meaning"
    if field.kind in ("text", "texts"):
        return "short or repeated text of unknown meaning"
    return "values of mixed or nested types"


# ------------------------------------------------------------------------ card


def _extent(field: Field) -> str:
    length = field.mean_length
    return "short" if length <= 60 else "medium" if length <= 400 else "long"


def _example(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _path_type(field: Field) -> str:
    return {"text": "str", "texts": "list", "number": "int", "bool": "bool",
            "image": "str", "audio": "str"}.get(field.kind, "other")


def _semantics(role: str, field: Field, source: str) -> str:
    what = {"question": "The question asked of each record", "context": "Text given with it",
            "dialog": "The dialogue turns", "options": "The answer options",
            "answer": "The label: the answer to give", "category": "The record's category",
            "image": "The image file(s)", "audio": "The audio recording(s)"}.get(
                role.rstrip("_0123456789"), "Text given with each record")
    return (f"{what}, from field `{field.path}` of {source} ({field.distinct} distinct values); "
            f"e.g. {_example(field.values[0])!r}.")


def build_card(*, dataset_id: str, name: str, source_json: str, fmt: SourceFormat,
               sha256: str, fields: Sequence[Field], placements: Sequence[Placement],
               left_out: dict[str, str], size: int, source_label: str,
               license: str | None, list_columns: list[str], option_columns: list[str],
               options_key: str) -> dict[str, Any]:
    """The card, in the General-Bench layout (plus the pool-add keys of `raw_meta`)."""
    by_path = {f.path: f for f in fields}
    roles = {p.role: p for p in placements}
    modalities = sorted({p.modality for p in placements} | {"text"})
    inputs = sorted({p.modality for p in placements if p.role not in ("answer", "category")}
                    | {"text"})
    answer = by_path[roles["answer"].path]
    tasks = []
    if "options" in roles:
        tasks.append("multiple_choice_qa")
    elif answer.mean_length <= 40:
        tasks.append("short_answer_qa")
    else:
        tasks.append("open_ended_qa")
    if "options" not in roles and answer.distinct <= max(10, size // 10):
        tasks.append("classification")
    if "image" in roles:
        tasks.append("visual_question_answering")
    if "audio" in roles:
        tasks.append("audio_question_answering")
    domain = ""
    if "category" in roles:
        common = Counter(str(v) for v in by_path[roles["category"].path].values).most_common(3)
        domain = ", ".join(value for value, _ in common)
    shown = roles.get("question") or roles.get("context") or roles.get("dialog")
    example = ""
    if shown is not None:
        example = (f" Example: {_example(by_path[shown.path].values[0], 160)!r} → "
                   f"{_example(answer.values[0], 60)!r}.")
    role_list = ", ".join(f"{p.role} ({p.modality}, `{p.path}`)" for p in placements)
    description = (f"{name}: {size} records imported from {source_label} ({fmt}). Roles: "
                   f"{role_list}.{example}")
    card_text = description
    if left_out:
        card_text += " Left out: " + "; ".join(f"`{k}` ({v})" for k, v in left_out.items()) + "."
    card_text += f" Added with `benchagent pool add`; source sha256 {sha256}."
    return {
        "dataset_id": dataset_id,
        "name": name,
        "modalities": modalities,
        "io_schemas": [{"in_": inputs, "out": ["text"]}],
        "size_samples": size,
        "description": description,
        "card_text": card_text,
        "tasks": tasks,
        "domain": domain,
        "license": license,
        "meta": {
            "fields": {
                p.role: {"paths": [p.path], "modality": p.modality,
                         "content_extent": _extent(by_path[p.path]),
                         "style": "instruction" if p.role == "question" else "other",
                         "semantics": _semantics(p.role, by_path[p.path], source_label) + (
                             f" Gathered from columns {', '.join(option_columns)}."
                             if options_key and p.path == options_key else ""),
                         "path_types": [_path_type(by_path[p.path])]}
                for p in placements
            },
            "meta_structure_description": f"Each record has {role_list}.",
        },
        "raw_meta": {
            "source_json": source_json,
            "existing_tags": {"source_file": source_label, "left_out": left_out},
            "original_raw_domain": domain or None,
            "source_format": fmt,
            "source_sha256": sha256,
            "list_columns": list_columns,
            "option_columns": option_columns,
            "options_key": options_key,
        },
    }


# ------------------------------------------------------------------------ adding


def source_sha256(path: Path) -> str:
    """sha256 of a file; of a folder: over its files' relative paths and bytes, sorted."""
    h = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        data = file.read_bytes()
        h.update(file.relative_to(path).as_posix().encode() + b"\0")
        h.update(len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def pool_root(pool_dir: Path) -> Path:
    """The folder that holds (or will hold) `dataset_cards/`: DIR, or DIR/data when the pool
    has the General-Bench layout."""
    if (pool_dir / "data" / CARDS_DIR).is_dir() and not (pool_dir / CARDS_DIR).is_dir():
        return pool_dir / "data"
    return pool_dir


def _default_name(source: Path) -> str:
    stem = source.name if source.is_dir() else source.stem
    words = " ".join(_words(stem)) or "imported dataset"
    return words[:1].upper() + words[1:]


def _hf_license(source: Path) -> str | None:
    folder = source if source.is_dir() else source.parent
    infos = [folder / "dataset_info.json"]
    if (folder / "dataset_dict.json").is_file():
        splits = json.loads((folder / "dataset_dict.json").read_text()).get("splits", [])
        infos += [folder / s / "dataset_info.json" for s in splits]
    for info in infos:
        try:
            value = json.loads(info.read_text()).get("license")
        except (OSError, ValueError):
            continue
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _referenced_media(rows: Sequence[dict[str, Any]], placements: Sequence[Placement],
                      base: Path) -> tuple[list[str], list[str]]:
    """Relative media names the records give (to copy), and those not found under `base`."""
    found: list[str] = []
    missing: list[str] = []
    for p in placements:
        if p.modality not in ("image", "audio"):
            continue
        for row in rows:
            value = dict(_flatten(row)).get(p.path)
            for name in value if isinstance(value, list) else [value]:
                if not isinstance(name, str) or not name:
                    continue
                rel = Path(name)
                if rel.is_absolute() or ".." in rel.parts:
                    raise PoolAddError(
                        f"field `{p.path}` names {name!r}: media paths must be relative to "
                        "the dataset's folder and stay inside it")
                (found if (base / rel).is_file() else missing).append(rel.as_posix())
    return sorted(set(found)), sorted(set(missing))


def add_to_pool(source: Path, pool_dir: Path, *, name: str | None = None,
                license: str | None = None) -> AddResult:
    """Copy `source` into the pool at `pool_dir` and write its card; what was inferred."""
    source = Path(source)
    if not source.exists():
        raise PoolAddError(f"{source} does not exist")
    try:
        fmt = detect_format(source)
        if fmt == "hf-disk" and source.is_file():
            source = source.parent  # named by its marker file
        table = read_table(source, fmt)
    except SourceFormatError as exc:
        raise PoolAddError(str(exc)) from None
    if table.num_rows == 0:
        raise PoolAddError(f"{source} holds no records")
    list_cols = _list_columns(table) if fmt == "csv" else []
    option_cols = _option_columns(table)
    options_key = ""
    if option_cols:
        options_key = next(k for k in ("options", "choices", "options_combined")
                           if k not in table.column_names)
    try:
        rows = records(table, list_cols, option_cols, options_key)
    except (ValueError, KeyError) as exc:
        raise PoolAddError(f"{source}: a record cannot be read ({exc})") from None
    media: dict[str, str] = dict(media_columns(table))
    fields = [f for f in _fields(rows, media) if f.path not in option_cols]
    placements, left_out = place(fields, options_key)
    roles = {p.role for p in placements}
    text_paths = ", ".join(f.path for f in fields) or "none"
    if "answer" not in roles:
        raise PoolAddError(f"{source}: no field is the answer (fields: {text_paths}); name "
                           "the label column answer, label or target")
    if not roles & {"question", "context", "dialog", "image", "audio"} and not any(
            p.role not in ("answer", "category", "options") for p in placements):
        raise PoolAddError(f"{source}: no field is the input (fields: {text_paths}); name a "
                           "column question, context or input")

    sha = source_sha256(source)
    dataset_id = sha[:8]
    root = pool_root(Path(pool_dir))
    card_file = root / CARDS_DIR / f"{dataset_id}_card.json"
    data_dir = root / IMPORTED_DIR / dataset_id
    if card_file.exists() or data_dir.exists():
        raise PoolAddError(f"{source} is already in the pool {pool_dir} as dataset {dataset_id}")
    base = source if source.is_dir() else source.parent
    # Embedded images and audio are extracted, not copied: only file references are checked.
    copies, missing = _referenced_media(rows, [p for p in placements if p.path not in media],
                                        base)
    inner = source.name  # the file, or the saved dataset's folder, inside data_dir
    marker = next((m for m in HF_MARKERS if (source / m).is_file()), "") if fmt == "hf-disk" else ""
    source_json = f"{IMPORTED_DIR}/{dataset_id}/{inner}" + (f"/{marker}" if marker else "")
    card = build_card(
        dataset_id=dataset_id, name=name or _default_name(source), source_json=source_json,
        fmt=fmt, sha256=sha, fields=fields, placements=placements, left_out=left_out,
        size=table.num_rows, source_label=source.name,
        license=license or (_hf_license(source) if fmt == "hf-disk" else None),
        list_columns=list_cols, option_columns=option_cols, options_key=options_key)
    parsed = parse_card(card_file.name, msgspec.json.encode(card))
    if not isinstance(parsed, DatasetCard):
        raise PoolAddError(f"the inferred card is not valid: {parsed}")
    _write(source, fmt, table, copies, card, root, data_dir, card_file)
    return _check_loads(source, pool_dir, card_file, data_dir, placements, left_out, missing)


def _write(source: Path, fmt: SourceFormat, table: pa.Table, copies: list[str],
           card: dict[str, Any], root: Path, data_dir: Path, card_file: Path) -> None:
    tmp = data_dir.parent / f".{data_dir.name}.tmp-{os.getpid()}"
    try:
        tmp.mkdir(parents=True, exist_ok=False)
        inner = tmp / source.name
        if source.is_dir():
            shutil.copytree(source, inner)
        else:
            shutil.copy2(source, inner)
        media_base = inner if fmt == "hf-disk" else tmp
        for rel in copies:
            target = tmp / rel if fmt != "hf-disk" else inner / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2((source if source.is_dir() else source.parent) / rel, target)
        for rel, data in embedded_media(table):
            target = media_base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (root / CARDS_DIR).mkdir(parents=True, exist_ok=True)
        card_tmp = card_file.with_name(f".{card_file.name}.tmp-{os.getpid()}")
        card_tmp.write_bytes(msgspec.json.format(msgspec.json.encode(card), indent=4) + b"\n")
        tmp.rename(data_dir)
        card_tmp.rename(card_file)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        card_file.with_name(f".{card_file.name}.tmp-{os.getpid()}").unlink(missing_ok=True)
        raise PoolAddError(f"cannot write into the pool {root}: {exc.strerror or exc}") from None


def _check_loads(source: Path, pool_dir: Path, card_file: Path, data_dir: Path,
                 placements: list[Placement], left_out: dict[str, str],
                 missing: list[str]) -> AddResult:
    """Load the new dataset through the pool, as Grounding will; undo the add if unusable."""
    from tools.pool import Pool, PoolError

    dataset_id = card_file.name.removesuffix("_card.json")
    try:
        pool = Pool.load([pool_dir], include_generators=False)
        card = pool.card(dataset_id)
        items, unusable = pool.items(dataset_id), pool.unusable(dataset_id)
    except PoolError as exc:
        _undo(card_file, data_dir)
        raise PoolAddError(f"{source}: the pool cannot read it back ({exc})") from None
    if not items:
        _undo(card_file, data_dir)
        first = unusable[0].reason if unusable else "no records"
        hint = f" ({len(missing)} media file(s) not found, e.g. {missing[0]})" if missing else ""
        raise PoolAddError(f"{source}: none of its records is usable: {first}{hint}")
    return AddResult(card=card, card_file=str(card_file), data_dir=str(data_dir),
                     placements=placements, left_out=left_out, usable=len(items),
                     unusable=len(unusable),
                     first_problem=unusable[0].reason if unusable else None)


def _undo(card_file: Path, data_dir: Path) -> None:
    card_file.unlink(missing_ok=True)
    shutil.rmtree(data_dir, ignore_errors=True)
