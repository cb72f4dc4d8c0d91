"""The published benchmark as a pure projection of the log.

`project_output(events, anchor)` is the only code that turns events into the
files of `runs/<run_id>/`: `build` writes it, and `replay` rebuilds it later
from the log alone, so the two agree byte for byte by construction. It reads
recorded events only; no model, tool or source dataset is touched (media bytes
live in `MediaStored` events).

The folder has two parts:

- the benchmark, `benchmark.jsonl` (one item per line, sorted by id) and
  `media/` (content addressed): `project_benchmark`, hashed by `content_hash`
  into `BenchmarkPublished` by the publishing agent. It depends only on the
  requirement, the seed and the recorded answers, never on the run id, so two
  identical builds give the same bytes;
- around it, what names this run and this log: `spec.json` (requirement,
  subtasks, plans, quotas, and the `anchor`: content hash and the log's head at
  publication, see `replay.anchor`), `README.md` (the dataset card, anchor
  included) and `provenance.jsonl` (per item, the events that made it). The head
  is known only once `BenchmarkPublished` is sealed, so these cannot be inside
  the hash that event names.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import msgspec

from replay.anchor import Anchor
from store.events import (
    BenchmarkItem,
    BenchmarkPublished,
    Envelope,
    MediaStored,
    RunRequested,
    SampleAccepted,
    SampleRealized,
    SpecFinalized,
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


class _Published(msgspec.Struct, kw_only=True):
    request: RunRequested
    spec: SpecFinalized | None
    realized: dict[str, Envelope]  # sample id → its (last) SampleRealized
    accepted: dict[str, Envelope]
    media: dict[str, bytes]

    def order(self) -> list[str]:
        return sorted(self.realized, key=lambda s: self._item(s).id)

    def _item(self, sample_id: str) -> BenchmarkItem:
        payload = self.realized[sample_id].payload
        assert isinstance(payload, SampleRealized)
        return payload.item


def _collect(events: Iterable[Envelope], sample_ids: Iterable[str]) -> _Published:
    wanted = set(sample_ids)
    request: RunRequested | None = None
    spec: SpecFinalized | None = None
    realized: dict[str, Envelope] = {}
    accepted: dict[str, Envelope] = {}
    media: dict[str, bytes] = {}
    for env in events:
        p = env.payload
        if isinstance(p, RunRequested) and request is None:
            request = p
        elif isinstance(p, SpecFinalized):
            spec = p
        elif isinstance(p, SampleRealized) and p.sample_id in wanted:
            realized[p.sample_id] = env  # a repair re-realizes: the last one counts
        elif isinstance(p, SampleAccepted) and p.sample_id in wanted:
            accepted[p.sample_id] = env
        elif isinstance(p, MediaStored):
            media[p.name] = p.data
    if request is None:
        raise ProjectionError("the log has no RunRequested event")
    missing = sorted(wanted - realized.keys())
    if missing:
        raise ProjectionError(f"accepted samples with no realized item: {', '.join(missing[:5])}")
    return _Published(request=request, spec=spec, realized=realized, accepted=accepted,
                      media=media)


def project_benchmark(events: Iterable[Envelope], sample_ids: Iterable[str]) -> BenchmarkFiles:
    """The content-hashed files (`benchmark.jsonl`, `media/`) for the accepted `sample_ids`."""
    run = _collect(events, sample_ids)
    files: BenchmarkFiles = {}
    lines: list[bytes] = []
    for sample_id in run.order():
        env = run.realized[sample_id]
        payload = env.payload
        assert isinstance(payload, SampleRealized)
        item = payload.item
        for name in item.media:
            if name not in run.media:
                raise ProjectionError(f"sample {sample_id}: media {name} is not in the log")
            files[name] = run.media[name]
        metadata = dict(item.metadata)
        metadata["target_from"] = payload.target_from
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
    files[BENCHMARK] = b"".join(line + b"\n" for line in lines)
    return dict(sorted(files.items()))


def project_provenance(events: Iterable[Envelope], sample_ids: Iterable[str]) -> bytes:
    """`provenance.jsonl`: per item (sorted by id), the run and the events that made it."""
    run = _collect(events, sample_ids)
    lines = []
    for sample_id in run.order():
        env = run.realized[sample_id]
        done = run.accepted.get(sample_id)
        lines.append(_json.encode({
            "id": run._item(sample_id).id,
            "sample_id": sample_id,
            "run_id": env.run_id,
            "realized": {"event_id": env.event_id, "seq": env.seq},
            "accepted": {"event_id": done.event_id, "seq": done.seq} if done else None,
        }))
    return b"".join(line + b"\n" for line in lines)


def published_event(events: Iterable[Envelope]) -> Envelope:
    """The run's `BenchmarkPublished` (the first: what `build` wrote); ProjectionError if none."""
    for env in events:
        if isinstance(env.payload, BenchmarkPublished):
            return env
    raise ProjectionError("the run has not published a benchmark yet")


def make_anchor(events: list[Envelope]) -> Anchor:
    """The unsigned anchor of the run's publication, from the log; the benchmark files are
    rebuilt and must hash to what `BenchmarkPublished` names (else ProjectionError)."""
    published = published_event(events)
    pub = published.payload
    assert isinstance(pub, BenchmarkPublished)
    digest = content_hash(project_benchmark(events, pub.sample_ids))
    if digest != pub.content_hash:
        raise ProjectionError(f"rebuilt content hash {digest} differs from the published "
                              f"{pub.content_hash}")
    return Anchor(run_id=published.run_id, content_hash=digest, head_seq=published.seq,
                  head_hash=published.hash)


def project_output(events: list[Envelope], anchor: Anchor) -> BenchmarkFiles:
    """Every file of the published folder, the card carrying `anchor` (from `make_anchor`,
    which checks the content hash; maybe signed). ProjectionError if the log cannot give them."""
    pub = published_event(events).payload
    assert isinstance(pub, BenchmarkPublished)
    files = project_benchmark(events, pub.sample_ids)
    run = _collect(events, pub.sample_ids)
    files[PROVENANCE] = project_provenance(events, pub.sample_ids)
    files[SPEC] = _spec_json(run.request, run.spec, anchor)
    items = [run._item(s) for s in run.order()]
    files[README] = _readme(run.request, run.spec, items, anchor).encode()
    return dict(sorted(files.items()))


def content_hash(files: Mapping[str, bytes]) -> str:
    """sha256 over the sorted relative paths and the bytes of every file."""
    h = hashlib.sha256()
    for path in sorted(files):
        data = files[path]
        h.update(path.encode() + b"\0" + len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


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


def _readme(request: RunRequested, spec: SpecFinalized | None, items: list,
            anchor: Anchor) -> str:
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
        lines.append(f"- **{name}** — {per_subtask[name]} items{desc}")
    lines += ["", "## Sources", ""]
    lines += [f"- {name}: {count} items" for name, count in sorted(sources.items())]
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
