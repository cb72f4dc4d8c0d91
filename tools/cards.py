"""Dataset cards in the General-Bench format, and how a malformed one is reported.

A card says what a dataset is (name, modalities, description, tasks, domain)
and where each field lives in its records (`meta.fields.<role>.paths`, dotted
paths such as `input.question`). Built-in procedural generators carry cards of
the same shape with `generator` set instead of `raw_meta.source_json`.

`parse_card` never raises on bad content: it returns the card or a
`CardProblem` naming the file and the field, so one bad card never hides the
rest of a pool.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

MEDIA_MODALITIES = frozenset({"image", "audio", "video"})


class IOSchema(msgspec.Struct, frozen=True, kw_only=True):
    in_: list[str] = []
    out: list[str] = []


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One role of a record (context, question, options, answer, image, ...)."""

    paths: list[str]
    modality: str = "text"
    content_extent: str = ""
    style: str = ""
    semantics: str = ""
    path_types: list[str] = []


class CardMeta(msgspec.Struct, frozen=True, kw_only=True):
    fields: dict[str, FieldSpec] = {}
    meta_structure_description: str = ""


class RawMeta(msgspec.Struct, frozen=True, kw_only=True):
    source_json: str | None = None
    existing_tags: dict[str, Any] = {}
    original_raw_domain: Any = None
    parameters: list[dict[str, Any]] = []  # generators: their parameters and ranges
    # Cards written by `benchagent pool add` (see tools/pool_formats.py); General-Bench JSON
    # files name no format.
    source_format: str | None = None  # jsonl | csv | parquet | hf-disk
    source_sha256: str | None = None  # of the file (a folder: of its files) as added
    list_columns: list[str] = []  # CSV columns whose cells are JSON lists
    option_columns: list[str] = []  # columns gathered into one options list ...
    options_key: str = ""  # ... under this key of each record


class DatasetCard(msgspec.Struct, frozen=True, kw_only=True):
    dataset_id: str
    name: str
    modalities: list[str]
    size_samples: int
    description: str
    io_schemas: list[IOSchema] = []
    card_text: str = ""
    tasks: list[str] = []
    domain: str = ""
    meta: CardMeta = CardMeta()
    raw_meta: RawMeta = RawMeta()
    generator: str | None = None  # set for built-in procedural sources
    license: str | None = None  # licence id of the source data (e.g. cc-by-4.0), if known

    @property
    def source(self) -> str:
        """`generator:<name>` or `file:<source_json>`, for listings and events."""
        if self.generator:
            return f"generator:{self.generator}"
        return f"file:{self.raw_meta.source_json}"

    def media_roles(self) -> list[str]:
        """Roles whose values are media file references, in card order."""
        return [r for r, f in self.meta.fields.items() if f.modality in MEDIA_MODALITIES]


class CardProblem(msgspec.Struct, frozen=True, kw_only=True):
    """A card that could not be used: which file, which field, what is wrong."""

    file: str
    field: str | None
    message: str

    def __str__(self) -> str:
        where = f"field '{self.field}': " if self.field else ""
        return f"{self.file}: {where}{self.message}"


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_TYPE = re.compile(r"^Expected `(?P<want>[^`]+)`, got `(?P<got>[^`]+)`$")


def _join(prefix: str, path: str) -> str:
    path = path.lstrip(".")
    if prefix and path:
        return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"
    return prefix or path


def problem_from_validation(file: str, exc: msgspec.ValidationError, prefix: str = "") -> CardProblem:
    """Turn msgspec's "Expected `int`, got `str` - at `$.x`" into file + field + message."""
    m = _AT.match(str(exc))
    assert m is not None  # the pattern matches any string
    msg, path = m.group("msg"), m.group("path") or ""
    field = _join(prefix, path)
    if missing := _MISSING.match(msg):
        return CardProblem(file=file, field=_join(field, missing.group("name")),
                           message="missing (required)")
    if wrong := _TYPE.match(msg):
        return CardProblem(file=file, field=field or None,
                           message=f"expected {wrong.group('want')}, got {wrong.group('got')}")
    return CardProblem(file=file, field=field or None, message=msg[:1].lower() + msg[1:])


def parse_card(file: str, data: bytes | dict[str, Any]) -> DatasetCard | CardProblem:
    """Decode one card; `file` is how problems name it (e.g. `dataset_cards/x_card.json`)."""
    if isinstance(data, bytes | bytearray):
        try:
            raw = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            return CardProblem(file=file, field=None, message=f"not valid JSON ({exc})")
    else:
        raw = data
    if not isinstance(raw, dict):
        return CardProblem(file=file, field=None,
                           message=f"expected a JSON object, got {type(raw).__name__}")
    # Roles first, one by one, so a problem names its role (msgspec hides dict keys).
    fields = raw.get("meta", {}).get("fields") if isinstance(raw.get("meta"), dict) else None
    if isinstance(fields, dict):
        for role, spec in fields.items():
            try:
                msgspec.convert(spec, FieldSpec)
            except msgspec.ValidationError as exc:
                return problem_from_validation(file, exc, prefix=f"meta.fields.{role}")
    try:
        card = msgspec.convert(raw, DatasetCard)
    except msgspec.ValidationError as exc:
        return problem_from_validation(file, exc)
    return _check_semantics(file, card)


def _check_semantics(file: str, card: DatasetCard) -> DatasetCard | CardProblem:
    def bad(field: str, message: str) -> CardProblem:
        return CardProblem(file=file, field=field, message=message)

    if not card.dataset_id.strip():
        return bad("dataset_id", "must not be empty")
    if not card.name.strip():
        return bad("name", "must not be empty")
    if card.size_samples < 0:
        return bad("size_samples", f"must be >= 0, got {card.size_samples}")
    if not card.modalities:
        return bad("modalities", "must list at least one modality")
    if card.generator is None and not card.raw_meta.source_json:
        return bad("raw_meta.source_json", "required for a dataset that is not a generator")
    for role, spec in card.meta.fields.items():
        if not spec.paths or any(not p.strip() for p in spec.paths):
            return bad(f"meta.fields.{role}.paths", "must list at least one non-empty path")
    return card
