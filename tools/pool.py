"""The dataset pool: General-Bench dataset cards, their source items, and ranked search.

A pool directory holds `dataset_cards/<id>_card.json`; each card's
`raw_meta.source_json` names the dataset file (`{task, type, modality,
data: [{id, input, output}]}`), written relative to the pool's parent in the
General-Bench layout (`data/datasets/...`). Built-in procedural generators add
cards of their own (`generator` set); they have no items here, only a capacity.

Loading never stops at a bad card: it is reported in `Pool.problems` by file
and field and the rest of the pool stays usable. Every path a card leads to
(its dataset file, the images and audio its records name) must resolve,
symlinks followed, inside the pool directory given: a card whose dataset file
lies outside is a problem (`raw_meta.source_json`), a record whose media lies
outside is an unusable item. A missing pool directory, or
a dataset file that cannot be read, is a `PoolError` with one clear line.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import msgspec
import structlog

from tools.cards import CardProblem, DatasetCard, parse_card
from tools.pool_search import METHOD as SEARCH_METHOD
from tools.pool_search import CardIndex

log = structlog.get_logger(__name__)

POOL_ENV = "BENCHAGENT_POOL"
CARDS_DIR = "dataset_cards"
__all__ = ["Pool", "PoolError", "SourceItem", "UnusableItem", "SEARCH_METHOD",
           "default_pool_dirs", "resolve_path"]


class PoolError(Exception):
    """The pool or one of its dataset files cannot be used; the message is one clear line."""


class SourceItem(msgspec.Struct, frozen=True, kw_only=True):
    """One record of a real dataset, with its fields resolved by role.

    `fields[role]` is the value at the role's first path that exists;
    `values[role]` lists the values of all its paths, in card order.
    `media[role]` lists absolute paths of the files a media role refers to.
    """

    dataset_id: str
    id: str
    index: int  # position in the dataset file
    record: dict[str, Any]
    fields: dict[str, Any]
    values: dict[str, list[Any]]
    media: dict[str, list[str]] = {}


class UnusableItem(msgspec.Struct, frozen=True, kw_only=True):
    dataset_id: str
    index: int
    id: str
    reason: str


_MISSING = object()


def resolve_path(record: Any, path: str) -> Any:
    """Value at a dotted path (`input.question`, `output.text.bird`, `input.options.0`).

    A list met before the path ends is indexed by a numeric segment, or else
    mapped over (`items.name` → the name of every item). Returns `_MISSING`
    when the path does not exist.
    """
    current = record
    segments = path.split(".")
    for i, seg in enumerate(segments):
        if isinstance(current, dict):
            if seg not in current:
                return _MISSING
            current = current[seg]
        elif isinstance(current, list):
            if seg.isdigit():
                idx = int(seg)
                if idx >= len(current):
                    return _MISSING
                current = current[idx]
            else:
                rest = ".".join(segments[i:])
                mapped = [resolve_path(el, rest) for el in current]
                found = [v for v in mapped if v is not _MISSING]
                return found if found else _MISSING
        else:
            return _MISSING
    return current


def default_pool_dirs() -> list[Path]:
    """Pool directories from `$BENCHAGENT_POOL` (os.pathsep-separated); may be empty."""
    raw = os.environ.get(POOL_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def _cards_root(directory: Path) -> Path:
    """The folder holding `dataset_cards/`: DIR itself, or DIR/data (the subset's top)."""
    if not directory.exists():
        raise PoolError(f"pool directory {directory} does not exist")
    if not directory.is_dir():
        raise PoolError(f"pool {directory} is not a directory")
    for candidate in (directory, directory / "data"):
        if (candidate / CARDS_DIR).is_dir():
            return candidate
    raise PoolError(f"pool directory {directory} has no {CARDS_DIR}/ folder")


class _Outside(msgspec.Struct, frozen=True):
    """A path that exists but resolves outside the pool root (symlinks followed)."""

    path: Path


def _inside(path: Path, fence: Path) -> Path | _Outside:
    resolved = path.resolve()
    return resolved if resolved.is_relative_to(fence) else _Outside(resolved)


def _resolve_source(root: Path, source_json: str, fence: Path) -> Path | _Outside | None:
    """Find a card's dataset file: absolute, relative to the pool, or to its parent.

    General-Bench cards write `data/datasets/...` (relative to the parent of a
    pool named `data`); dropping leading segments also finds it in a pool that
    was renamed or copied elsewhere. Only a file inside `fence` (the resolved
    pool directory) is returned; one found only outside it is `_Outside`.
    """
    rel = Path(source_json)
    if rel.is_absolute():
        candidates = [rel]
    else:
        candidates = [root / rel, root.parent / rel]
        candidates += [root / Path(*rel.parts[i:]) for i in range(1, len(rel.parts))]
    outside: _Outside | None = None
    for c in candidates:
        if c.is_file():
            found = _inside(c, fence)
            if isinstance(found, Path):
                return found
            outside = outside or found
    return outside


def _resolve_media(source_file: Path, name: str, fence: Path) -> Path | None:
    """A media reference, relative to the dataset folder or one level up, maybe in images/;
    only a file inside `fence` (the resolved pool directory)."""
    if not name or Path(name).is_absolute():
        return None
    folder = source_file.parent
    for base in (folder, folder / "images", folder.parent, folder.parent / "images"):
        candidate = base / name
        if candidate.is_file():
            found = _inside(candidate, fence)
            if isinstance(found, Path):
                return found
    return None


class _Entry(msgspec.Struct, kw_only=True):
    card: DatasetCard
    card_file: Path
    source: Path | None = None
    fence: Path | None = None  # the resolved pool directory every path must stay inside
    items: list[SourceItem] | None = None
    unusable: list[UnusableItem] | None = None
    by_id: dict[str, SourceItem] | None = None


class Pool:
    """Every usable dataset of some pool directories plus the built-in generators."""

    def __init__(self, entries: Sequence[_Entry], problems: Sequence[CardProblem]) -> None:
        self._entries = {e.card.dataset_id: e for e in entries}
        self.problems: list[CardProblem] = list(problems)
        self._index: CardIndex | None = None

    # -- loading ---------------------------------------------------------------

    @classmethod
    def load(cls, dirs: Iterable[Path | str], include_generators: bool = True) -> Pool:
        entries: list[_Entry] = []
        problems: list[CardProblem] = []
        seen: dict[str, str] = {}

        def add(parsed: DatasetCard | CardProblem, label: str, file: Path,
                source: Path | None = None, fence: Path | None = None) -> None:
            if isinstance(parsed, CardProblem):
                problems.append(parsed)
            elif parsed.dataset_id in seen:
                problems.append(CardProblem(
                    file=label, field="dataset_id",
                    message=f"duplicate dataset id {parsed.dataset_id!r} "
                            f"(already in {seen[parsed.dataset_id]})"))
            else:
                seen[parsed.dataset_id] = label
                entries.append(_Entry(card=parsed, card_file=file, source=source, fence=fence))

        for directory in dirs:
            root = _cards_root(Path(directory))
            fence = Path(directory).resolve()
            for file in sorted((root / CARDS_DIR).glob("*.json")):
                label = f"{file.parent.name}/{file.name}"
                try:
                    data = file.read_bytes()
                except OSError as exc:
                    problems.append(CardProblem(file=str(file), field=None,
                                                message=f"cannot be read ({exc.strerror})"))
                    continue
                parsed = parse_card(label, data)
                source = None
                if isinstance(parsed, DatasetCard):
                    if parsed.generator is not None:
                        parsed = CardProblem(file=label, field="generator",
                                             message="file cards cannot name a generator")
                    else:
                        found = _resolve_source(root, parsed.raw_meta.source_json or "", fence)
                        if isinstance(found, Path):
                            source = found
                        elif isinstance(found, _Outside):
                            parsed = CardProblem(
                                file=label, field="raw_meta.source_json",
                                message=f"dataset file {parsed.raw_meta.source_json!r} resolves "
                                        f"to {found.path}, outside the pool {fence}")
                        else:
                            parsed = CardProblem(
                                file=label, field="raw_meta.source_json",
                                message=f"dataset file {parsed.raw_meta.source_json!r} not found")
                add(parsed, label, file, source, fence)

        if include_generators:
            for label, card in _generator_cards():
                add(card, label, Path(label))

        for p in problems:
            log.warning("pool.card_problem", problem=str(p))
        return cls(entries, problems)

    # -- what the pool holds ----------------------------------------------------

    @property
    def datasets(self) -> list[DatasetCard]:
        """Usable cards: file datasets in load order, then generators."""
        return [e.card for e in self._entries.values()]

    def card(self, dataset_id: str) -> DatasetCard:
        return self._entry(dataset_id).card

    def source_file(self, dataset_id: str) -> Path | None:
        """The dataset file of a real dataset; None for a generator."""
        return self._entry(dataset_id).source

    def items(self, dataset_id: str) -> list[SourceItem]:
        """Usable items of a real dataset, in file order (read once, then cached)."""
        return self._load_items(dataset_id).items or []

    def item(self, dataset_id: str, item_id: str) -> SourceItem:
        """One usable item by id (the index is built once per dataset); `PoolError` if none."""
        entry = self._load_items(dataset_id)
        if entry.by_id is None:
            entry.by_id = {it.id: it for it in entry.items or []}
        try:
            return entry.by_id[item_id]
        except KeyError:
            raise PoolError(f"dataset {dataset_id} has no usable item {item_id!r}") from None

    def unusable(self, dataset_id: str) -> list[UnusableItem]:
        """Records left out of `items`, each with why."""
        return self._load_items(dataset_id).unusable or []

    def capacity(self, dataset_id: str) -> int:
        """How many distinct source items a dataset can give."""
        entry = self._entry(dataset_id)
        if entry.card.generator is not None:
            return entry.card.size_samples
        return len(self.items(dataset_id))

    def search(
        self, query: str, k: int = 5, modality: Sequence[str] | None = None
    ) -> list[tuple[DatasetCard, float]]:
        """BM25-ranked cards for `query`, best first (see `tools.pool_search`)."""
        if self._index is None:
            self._index = CardIndex(self.datasets)
        return self._index.search(query, k, modality)

    # -- internals ---------------------------------------------------------------

    def _entry(self, dataset_id: str) -> _Entry:
        try:
            return self._entries[dataset_id]
        except KeyError:
            raise PoolError(f"unknown dataset id {dataset_id!r} in the pool") from None

    def _load_items(self, dataset_id: str) -> _Entry:
        entry = self._entry(dataset_id)
        if entry.card.generator is not None:
            raise PoolError(
                f"dataset {dataset_id} is the generator {entry.card.generator!r}: "
                "it has no stored items, sample it instead")
        if entry.items is None:
            assert entry.source is not None and entry.fence is not None
            entry.items, entry.unusable = _read_items(entry.card, entry.source, entry.fence)
            if entry.unusable:
                log.info("pool.unusable_items", dataset_id=dataset_id, count=len(entry.unusable),
                         first=entry.unusable[0].reason)
        return entry


def _general_bench_records(source: Path) -> list[Any]:
    try:
        raw = msgspec.json.decode(source.read_bytes())
    except OSError as exc:
        raise PoolError(f"dataset file {source} cannot be read ({exc.strerror})") from None
    except msgspec.DecodeError as exc:
        raise PoolError(f"dataset file {source} is not valid JSON ({exc})") from None
    records = raw.get("data") if isinstance(raw, dict) else None
    if not isinstance(records, list):
        raise PoolError(f"dataset file {source} has no 'data' list of records")
    return records


def _source_records(card: DatasetCard, source: Path) -> list[Any]:
    """Records of a General-Bench JSON file, or of the format the card names (pool add)."""
    if card.raw_meta.source_format is None:
        return _general_bench_records(source)
    from tools.pool_formats import SourceFormatError, read_records

    try:
        return read_records(card, source)
    except SourceFormatError as exc:
        raise PoolError(str(exc)) from None


def _read_items(card: DatasetCard, source: Path,
                fence: Path) -> tuple[list[SourceItem], list[UnusableItem]]:
    records = _source_records(card, source)
    media_roles = set(card.media_roles())
    items: list[SourceItem] = []
    unusable: list[UnusableItem] = []
    seen_ids: set[str] = set()
    for index, record in enumerate(records):
        def skip(item_id: str, reason: str, index: int = index) -> None:
            unusable.append(UnusableItem(dataset_id=card.dataset_id, index=index,
                                         id=item_id, reason=reason))

        if not isinstance(record, dict):
            skip(str(index), f"record is a {type(record).__name__}, not an object")
            continue
        raw_id = record.get("id")
        item_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else str(index)
        if item_id in seen_ids:
            skip(item_id, f"duplicate id {item_id!r}")
            continue
        seen_ids.add(item_id)
        fields: dict[str, Any] = {}
        values: dict[str, list[Any]] = {}
        media: dict[str, list[str]] = {}
        problem = None
        for role, spec in card.meta.fields.items():
            found = [v for v in (resolve_path(record, p) for p in spec.paths) if v is not _MISSING]
            if not found:
                problem = f"role {role!r}: no value at {', '.join(spec.paths)}"
                break
            fields[role], values[role] = found[0], found
            if role in media_roles:
                names = [n for v in found for n in (v if isinstance(v, list) else [v])]
                files = [_resolve_media(source, n, fence) if isinstance(n, str) else None
                         for n in names]
                if any(f is None for f in files):
                    bad = next(n for n, f in zip(names, files, strict=True) if f is None)
                    problem = (f"role {role!r}: media file {bad!r} not found near "
                               f"{source.parent} inside the pool")
                    break
                media[role] = [str(f) for f in files]
        if problem:
            skip(item_id, problem)
            continue
        items.append(SourceItem(dataset_id=card.dataset_id, id=item_id, index=index,
                                record=record, fields=fields, values=values, media=media))
    return items, unusable


def _generator_cards() -> list[tuple[str, DatasetCard | CardProblem]]:
    """Cards of the built-in procedural generators; none (with a warning) if unavailable."""
    try:
        from tools.generators.registry import generator_cards
    except ImportError as exc:
        log.warning("pool.generators_unavailable", reason=str(exc))
        return []
    result: list[tuple[str, DatasetCard | CardProblem]] = []
    for raw in generator_cards():
        data = raw if isinstance(raw, dict) else msgspec.to_builtins(raw)
        label = f"generator:{data.get('generator') or data.get('dataset_id') or '?'}"
        parsed: DatasetCard | CardProblem
        if not data.get("generator"):
            parsed = CardProblem(file=label, field="generator", message="missing (required)")
        else:
            parsed = parse_card(label, data)
        result.append((label, parsed))
    return result
