"""The published benchmark as a pure projection of the log.

This module is the only code that turns a run's projections
(`replay.projections.RunState`) into the files of `runs/<run_id>/`: the
publishing agent hashes the benchmark into `BenchmarkPublished`, `build` writes
the folder, and `replay` rebuilds it later from the log alone, so the three
agree byte for byte by construction. It reads recorded events and the run's
blob store only (media bytes are content-addressed blobs named by `MediaStored`
events); no model, tool or source dataset is touched.

The folder has two parts:

- the benchmark, `benchmark.jsonl` (one item per line, sorted by id) and
  `media/` (content addressed): `benchmark_content(state, sample_ids)`, hashed
  by `content_hash` into `BenchmarkPublished`. The hash covers each file's path,
  size and sha256, so it is computed from the events alone (media by the sha256
  their `MediaStored` names) and checked on disk by hashing the files. It
  depends only on the requirement, the seed and the recorded answers, never on
  the run id, so two identical builds give the same bytes;
- around it, what names this run and this log: `spec.json` (requirement,
  subtasks, plans, quotas, and the `anchor`: content hash and the log's head at
  publication, see `replay.anchor`), `README.md` (the dataset card, anchor
  included), `provenance.jsonl` (per item, the events that made it) and
  `generators/` (the recorded source of each synthesized generator that labelled
  an item; the items' `target_from` names its sha256, so the hash pins it too):
  `output_files(state, anchor, blobs)`. The head is known only once
  `BenchmarkPublished` is sealed, so these cannot be inside the hash that event
  names.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import msgspec

from replay.anchor import Anchor
from replay.projections import RunState
from replay.projections.synthesis import version_key
from store.blobs import BlobStore
from store.events import (
    BenchmarkItem,
    BenchmarkPublished,
    Envelope,
    GeneratedBy,
    ItemSource,
    MediaStored,
    Payload,
    RunRequested,
    SampleRealized,
    SpecFinalized,
    is_synthesized,
    target_from,
)

BenchmarkFiles = dict[str, bytes]
BENCHMARK = "benchmark.jsonl"
MEDIA_DIR = "media/"
PROVENANCE = "provenance.jsonl"
SPEC = "spec.json"
README = "README.md"

_json = msgspec.json.Encoder(order="deterministic")


class ProjectionError(Exception):
    """The log does not hold what the benchmark needs (e.g. a missing media file)."""


def is_content(path: str) -> bool:
    """Is this file of a published folder covered by the content hash?"""
    return path == BENCHMARK or path.startswith(MEDIA_DIR)


class FileDigest(msgspec.Struct, frozen=True, kw_only=True):
    """What the content hash covers of one file: its sha256 and size."""

    sha256: str
    size: int

    @classmethod
    def of(cls, data: bytes) -> FileDigest:
        return cls(sha256=hashlib.sha256(data).hexdigest(), size=len(data))


class BenchmarkContent(msgspec.Struct, frozen=True, kw_only=True):
    """The content-hashed part of a published folder: `benchmark.jsonl` (bytes) and the
    media it names (`MediaStored`: sha256 and size; the bytes are blobs)."""

    jsonl: bytes
    media: dict[str, MediaStored]  # media/<sha256>.<ext> → its event

    def digests(self) -> dict[str, FileDigest]:
        found = {name: FileDigest(sha256=m.sha256, size=m.size) for name, m in self.media.items()}
        found[BENCHMARK] = FileDigest.of(self.jsonl)
        return dict(sorted(found.items()))

    def content_hash(self) -> str:
        return hash_digests(self.digests())

    async def files(self, blobs: BlobStore) -> BenchmarkFiles:
        """The files' bytes: the media read from `blobs` (each checked against its sha256:
        `BlobMissing`, `BlobAltered`)."""
        files = {name: await blobs.get(m.sha256) for name, m in self.media.items()}
        files[BENCHMARK] = self.jsonl
        return dict(sorted(files.items()))


def project_benchmark(events: Sequence[Envelope[Payload]],
                      sample_ids: Iterable[str]) -> BenchmarkContent:
    """The content-hashed part for the accepted `sample_ids`, from the events alone."""
    return benchmark_content(RunState.of(events), sample_ids)


def benchmark_content(state: RunState, sample_ids: Iterable[str]) -> BenchmarkContent:
    """`benchmark.jsonl` and the media it names for the accepted `sample_ids`, from a run's
    projections: the latest realization of each sample (a repair re-realizes it) and the
    media the log names."""
    realized = _realized(state, sample_ids)
    stored = state.media.stored
    media: dict[str, MediaStored] = {}
    lines: list[bytes] = []
    for env in realized:
        item = env.payload.item
        for name in item.media:
            if name not in stored:
                raise ProjectionError(f"sample {env.payload.sample_id}: media {name} is not "
                                      "in the log")
            media[name] = stored[name]
        metadata = dict(item.metadata)
        metadata["target_from"] = target_from(env.payload.source)
        record = {
            "id": item.id,
            "subtask": item.subtask,
            "input": item.input,
            "choices": item.choices,
            "target": item.target,
            "media": list(item.media),
            "metadata": metadata,
        }
        lines.append(_json.encode(record))
    return BenchmarkContent(jsonl=b"".join(line + b"\n" for line in lines),
                            media=dict(sorted(media.items())))


def provenance_file(state: RunState, sample_ids: Iterable[str]) -> bytes:
    """`provenance.jsonl`: per item (sorted by id), the run and the events that made it."""
    lines = []
    for env in _realized(state, sample_ids):
        done = state.samples.accepted.get(env.payload.sample_id)
        lines.append(_json.encode({
            "id": env.payload.item.id,
            "sample_id": env.payload.sample_id,
            "run_id": env.run_id,
            "realized": {"event_id": env.event_id, "seq": env.seq},
            "accepted": {"event_id": done.event_id, "seq": done.seq} if done else None,
        }))
    return b"".join(line + b"\n" for line in lines)


def published_event(state: RunState) -> Envelope[BenchmarkPublished]:
    """The run's `BenchmarkPublished` (the first: what `build` wrote); ProjectionError if none."""
    if state.publication.event is None:
        raise ProjectionError("the run has not published a benchmark yet")
    return state.publication.event


def make_anchor(state: RunState) -> Anchor:
    """The unsigned anchor of the run's publication, from the log; the benchmark files are
    rebuilt and must hash to what `BenchmarkPublished` names (else ProjectionError)."""
    published = published_event(state)
    pub = published.payload
    digest = benchmark_content(state, pub.sample_ids).content_hash()
    if digest != pub.content_hash:
        raise ProjectionError(f"the files rebuilt from the log hash to {digest}, which differs "
                              f"from the published {pub.content_hash}; the log may have been "
                              "altered")
    return Anchor(run_id=published.run_id, content_hash=digest, head_seq=published.seq,
                  head_hash=published.hash)


async def output_files(state: RunState, anchor: Anchor, blobs: BlobStore) -> BenchmarkFiles:
    """Every file of the published folder, the card carrying `anchor` (from `make_anchor`,
    which checks the content hash; maybe signed), the media read from `blobs`.
    ProjectionError if the log cannot give them; `BlobMissing`/`BlobAltered` (one line,
    naming the blob) if the blob store cannot."""
    files = await benchmark_content(state, published_event(state).payload.sample_ids
                                    ).files(blobs)
    files.update(card_files(state, anchor))
    return dict(sorted(files.items()))


def card_files(state: RunState, anchor: Anchor) -> BenchmarkFiles:
    """The files around the benchmark: `spec.json`, `README.md`, `provenance.jsonl`, and
    `generators/` (the synthesized generators that labelled items: the items name each one's
    sha256, so the content hash pins them)."""
    pub = published_event(state).payload
    request = _request(state)
    spec = state.slots.spec_payload
    realized = _realized(state, pub.sample_ids)
    items = [env.payload.item for env in realized]
    generators = synthesized_sources(state, [env.payload.source for env in realized])
    return {PROVENANCE: provenance_file(state, pub.sample_ids),
            SPEC: _spec_json(request, spec, anchor),
            README: _readme(request, spec, items, anchor, generators).encode(),
            **generators}


def synthesized_sources(state: RunState, sources: Iterable[ItemSource]) -> BenchmarkFiles:
    """`generators/<name>-<version>.py`: the recorded source of each synthesized generator
    that labelled an item, byte for byte (its sha256 is the one the log records)."""
    files: BenchmarkFiles = {}
    for source in sources:
        if isinstance(source, GeneratedBy) and is_synthesized(source.name):
            record = state.synthesis.versions.get(version_key(source.name, source.version))
            if record is None:
                raise ProjectionError(f"generator {source.name}@{source.version} labelled an "
                                      "item but the log records no such synthesized generator")
            files[f"generators/{source.name}-{source.version}.py"] = record.source.encode()
    return files


def hash_digests(digests: Mapping[str, FileDigest]) -> str:
    """The content hash: sha256 over the sorted relative paths, each file's size and sha256."""
    h = hashlib.sha256()
    for path in sorted(digests):
        d = digests[path]
        h.update(path.encode() + b"\0" + d.size.to_bytes(8, "big") + bytes.fromhex(d.sha256))
    return h.hexdigest()


def content_hash(files: Mapping[str, bytes]) -> str:
    """`hash_digests` of files given as bytes."""
    return hash_digests({path: FileDigest.of(data) for path, data in files.items()})


def directory_hash(root: Path) -> str:
    """`content_hash` of every file under a directory on disk (card and sidecar too)."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    return content_hash(files)


def benchmark_hash(root: Path) -> str:
    """The content hash of a published folder on disk: what `BenchmarkPublished` names."""
    files = {
        rel: p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and is_content(rel := p.relative_to(root).as_posix())
    }
    return content_hash(files)


def _request(state: RunState) -> RunRequested:
    if state.request.event is None:
        raise ProjectionError("the log has no RunRequested event")
    return state.request.event.payload


def _realized(state: RunState, sample_ids: Iterable[str]) -> list[Envelope[SampleRealized]]:
    """The latest realization of each wanted sample, sorted by item id."""
    _request(state)
    wanted = set(sample_ids)
    realized = {sid: env for sid, env in state.samples.realized.items() if sid in wanted}
    missing = sorted(wanted - realized.keys())
    if missing:
        raise ProjectionError(f"accepted samples with no realized item: {', '.join(missing[:5])}")
    return sorted(realized.values(), key=lambda env: env.payload.item.id)


def _spec_json(request: RunRequested, spec: SpecFinalized | None, anchor: Anchor) -> bytes:
    doc = {
        "anchor": msgspec.to_builtins(anchor),
        "requirement": request.requirement,
        "size": request.size,
        "seed": request.seed,
        "disabled": sorted(request.disabled),
        "subtasks": spec.subtasks if spec else [],
        "plans": spec.plans if spec else [],
        "quotas": spec.quotas if spec else [],
    }
    return msgspec.json.format(_json.encode(doc), indent=2) + b"\n"


def _readme(request: RunRequested, spec: SpecFinalized | None,
            items: list[BenchmarkItem], anchor: Anchor,
            generators: Mapping[str, bytes]) -> str:
    per_subtask = Counter(item.subtask for item in items)
    sources = Counter(str(item.metadata.get("source_dataset", "?")) for item in items)
    lines = [
        "# Benchmark",
        "",
        f"Requirement: {request.requirement}",
        "",
        f"{len(items)} items, seed {request.seed}."
        + (f" Ablations: {', '.join(sorted(request.disabled))}." if request.disabled else ""),
        "",
        "## Subtasks",
        "",
    ]
    described = {s.name: s for s in spec.subtasks} if spec else {}
    for name in sorted(per_subtask):
        sub = described.get(name)
        desc = f": {sub.description} (capability: {sub.capability}; answer: {sub.answer_format})" if sub else ""
        if sub and sub.distinct_focus:
            desc += f" Unlike the others, it tests: {sub.distinct_focus}"
        lines.append(f"- **{name}** — {per_subtask[name]} items{desc}")
    lines += ["", "## Sources", ""]
    lines += [f"- {name}: {count} items" for name, count in sorted(sources.items())]
    if generators:
        lines += ["", "## Synthesized generators", "",
                  "Their items were made, checked and are scored by this code alone (written by",
                  "a model, checked in a sandbox before use; its sha256 is recorded in the log):",
                  ""]
        lines += [f"- `{path}` (sha256 {hashlib.sha256(data).hexdigest()})"
                  for path, data in sorted(generators.items())]
    lines += [
        "",
        "## Format",
        "",
        "`benchmark.jsonl`: one JSON object per line with `id`, `subtask`, `input`, `choices`,",
        "`target`, `media` (paths under `media/`, content-addressed) and `metadata` (source dataset",
        "and item, plan, parameters). `provenance.jsonl` names, per item, the run and the events",
        "that produced and accepted it.",
        "Rebuild byte for byte with `benchagent replay RUN_ID --out DIR`.",
        "",
        "## Integrity",
        "",
        f"- run: `{anchor.run_id}`",
        f"- content hash (`benchmark.jsonl` and `media/`): `{anchor.content_hash}`",
        f"- log head at publication: event seq {anchor.head_seq}, hash `{anchor.head_hash}`",
    ]
    if anchor.signature is not None:
        lines.append(f"- Ed25519 signature of the anchor in `spec.json`: `{anchor.signature.value}`")
        lines.append(f"- public key: `{anchor.signature.public_key}`")
    lines += [
        "",
        f"Check this folder against the log with `benchagent verify {anchor.run_id} --against "
        "DIR`.",
        "",
    ]
    return "\n".join(lines)
