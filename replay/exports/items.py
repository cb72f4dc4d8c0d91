"""The published items as the export writers see them, and what every writer needs to know
about them: their kind (how they are answered and scored), their media kinds, their
subtask's config name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any, Literal

import msgspec

ItemKind = Literal["choice", "short", "open", "generated"]
MediaKind = Literal["image", "audio"]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"})
AUDIO_EXTENSIONS = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a"})


class ExportError(Exception):
    """The benchmark cannot be written in a format; the message is one clear line."""


class ExportItem(msgspec.Struct, frozen=True, kw_only=True):
    """One line of `benchmark.jsonl`."""

    id: str
    subtask: str
    input: str
    choices: list[str] | None = None
    target: str
    media: list[str] = []
    metadata: dict[str, Any] = {}

    @property
    def kind(self) -> ItemKind:
        """generated: the generator scores it; choice: a letter; open: free text; short."""
        if "generator" in self.metadata and "seed" in self.metadata:
            return "generated"
        if self.choices:
            return "choice"
        if self.metadata.get("answer_format") == "free_text":
            return "open"
        return "short"

    @property
    def answers(self) -> list[str]:
        """The target and every other accepted answer, target first, no repeats."""
        extra = [str(a) for a in self.metadata.get("acceptable_answers", [])]
        return list(dict.fromkeys([self.target, *extra]))

    @property
    def target_index(self) -> int | None:
        """Index of the correct choice (targets of choice items are letters)."""
        if not self.choices or len(self.target) != 1:
            return None
        index = ord(self.target.upper()) - ord("A")
        return index if 0 <= index < len(self.choices) else None


_lines = msgspec.json.Decoder(ExportItem)


def read_items(files: Mapping[str, bytes]) -> list[ExportItem]:
    """The items of `benchmark.jsonl`, in file order (sorted by id)."""
    data = files.get("benchmark.jsonl", b"")
    return [_lines.decode(line) for line in data.splitlines() if line.strip()]


def media_kind(name: str) -> MediaKind | None:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in AUDIO_EXTENSIONS:
        return "audio"
    return None


def media_of(item: ExportItem, kind: MediaKind) -> list[str]:
    return [m for m in item.media if media_kind(m) == kind]


def check_media(items: Iterable[ExportItem], files: Mapping[str, bytes]) -> None:
    """Every media file is in the files and is an image or audio file."""
    for item in items:
        for name in item.media:
            if name not in files:
                raise ExportError(f"item {item.id}: media {name} is not in the benchmark files")
            if media_kind(name) is None:
                raise ExportError(f"item {item.id}: media {name} is neither an image nor audio "
                                  "file, which no export format can carry")


_NOT_WORD = re.compile(r"[^0-9a-z]+")


def slug(text: str) -> str:
    """A lowercase identifier made of letters, digits and underscores."""
    word = _NOT_WORD.sub("_", text.lower()).strip("_") or "subtask"
    return f"t_{word}" if word[0].isdigit() else word


def config_names(subtasks: Iterable[str]) -> dict[str, str]:
    """A distinct identifier per subtask (its config, task and file name in every format)."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for subtask in subtasks:
        base = slug(subtask)[:60].rstrip("_")
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        names[subtask] = name
    return names


def by_subtask(items: Sequence[ExportItem],
               order: Sequence[str]) -> list[tuple[str, str, list[ExportItem]]]:
    """(subtask, config name, its items) for every subtask with items, in `order` first."""
    present = list(dict.fromkeys(item.subtask for item in items))
    ordered = [s for s in order if s in present] + sorted(s for s in present if s not in order)
    names = config_names(ordered)
    return [(s, names[s], [i for i in items if i.subtask == s]) for s in ordered]


_json = msgspec.json.Encoder(order="deterministic")


def json_line(value: Any) -> bytes:
    """Deterministic compact JSON (sorted keys), no newline."""
    return _json.encode(value)


def jsonl(rows: Iterable[Any]) -> bytes:
    return b"".join(json_line(row) + b"\n" for row in rows)
