"""The published benchmark as a pure projection of the log.

`project_benchmark(events, sample_ids)` is the only code that turns events into
the files of `runs/<run_id>/`: the publishing agent hashes its result, `build`
writes it, and `replay` rebuilds it later from the log alone, so the three agree
byte for byte by construction. It reads recorded events only; no model, tool or
source dataset is touched (media bytes live in `MediaStored` events).

Files: `benchmark.jsonl` (one item per line, sorted by id), `media/` (content
addressed), `spec.json` (requirement, subtasks, plans, quotas) and `README.md`
(the dataset card): these depend only on the requirement, the seed and the
recorded answers, never on the run id, so two identical builds give the same
bytes. What is run-specific (run id, the ids of the events behind each item) is
the sidecar `provenance.jsonl`, outside the content hash (`SIDECARS`).
`project_output` is the whole folder: `build` and `replay` write exactly that.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import msgspec

from store.events import (
    BenchmarkPublished,
    Envelope,
    MediaStored,
    RunRequested,
    SampleAccepted,
    SampleRealized,
    SpecFinalized,
)

BenchmarkFiles = dict[str, bytes]
PROVENANCE = "provenance.jsonl"
SIDECARS = frozenset({PROVENANCE})  # written beside the benchmark, not content-hashed

_json = msgspec.json.Encoder(order="deterministic")


class ProjectionError(Exception):
    """The log does not hold what the benchmark needs (e.g. a missing media file)."""


def project_benchmark(events: Iterable[Envelope], sample_ids: Iterable[str]) -> BenchmarkFiles:
    """The output directory's files for the accepted `sample_ids`, from the events alone."""
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

    files: BenchmarkFiles = {}
    lines: list[bytes] = []
    for sample_id in sorted(wanted, key=lambda s: realized[s].payload.item.id):
        env = realized[sample_id]
        item = env.payload.item
        for name in item.media:
            if name not in media:
                raise ProjectionError(f"sample {sample_id}: media {name} is not in the log")
            files[name] = media[name]
        metadata = dict(item.metadata)
        metadata["target_from"] = env.payload.target_from
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
    files["benchmark.jsonl"] = b"".join(line + b"\n" for line in lines)
    files["spec.json"] = _spec_json(request, spec)
    items = [realized[s].payload.item for s in wanted]
    files["README.md"] = _readme(request, spec, items).encode()
    return dict(sorted(files.items()))


def project_provenance(events: Iterable[Envelope], sample_ids: Iterable[str]) -> bytes:
    """`provenance.jsonl`: per item (sorted by id), the run and the events that made it."""
    wanted = set(sample_ids)
    realized: dict[str, Envelope] = {}
    accepted: dict[str, Envelope] = {}
    for env in events:
        p = env.payload
        if isinstance(p, SampleRealized) and p.sample_id in wanted:
            realized[p.sample_id] = env
        elif isinstance(p, SampleAccepted) and p.sample_id in wanted:
            accepted[p.sample_id] = env
    missing = sorted(wanted - realized.keys())
    if missing:
        raise ProjectionError(f"accepted samples with no realized item: {', '.join(missing[:5])}")
    lines = []
    for sample_id in sorted(wanted, key=lambda s: realized[s].payload.item.id):
        env = realized[sample_id]
        lines.append(_json.encode({
            "id": env.payload.item.id,
            "sample_id": sample_id,
            "run_id": env.run_id,
            "realized": {"event_id": env.event_id, "seq": env.seq},
            "accepted": ({"event_id": accepted[sample_id].event_id,
                          "seq": accepted[sample_id].seq} if sample_id in accepted else None),
        }))
    return b"".join(line + b"\n" for line in lines)


def published_event(events: Iterable[Envelope]) -> Envelope:
    """The run's `BenchmarkPublished` (the first: what `build` wrote); ProjectionError if none."""
    for env in events:
        if isinstance(env.payload, BenchmarkPublished):
            return env
    raise ProjectionError("the run has not published a benchmark yet")


def project_output(events: list[Envelope]) -> BenchmarkFiles:
    """Every file of the published folder: the benchmark (checked against the published
    content hash) and its sidecars. ProjectionError if the log cannot give them."""
    published = published_event(events)
    pub = published.payload
    assert isinstance(pub, BenchmarkPublished)
    files = project_benchmark(events, pub.sample_ids)
    digest = content_hash(files)
    if digest != pub.content_hash:
        raise ProjectionError(f"rebuilt content hash {digest} differs from the published "
                              f"{pub.content_hash}")
    files[PROVENANCE] = project_provenance(events, pub.sample_ids)
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
    """`content_hash` of every file under a directory on disk (sidecars too)."""
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
        if p.is_file() and (rel := p.relative_to(root).as_posix()) not in SIDECARS
    }
    return content_hash(files)


def _spec_json(request: RunRequested, spec: SpecFinalized | None) -> bytes:
    doc = {
        "requirement": request.requirement,
        "size": request.size,
        "seed": request.seed,
        "disabled": sorted(request.disabled),
        "subtasks": spec.subtasks if spec else [],
        "plans": spec.plans if spec else [],
        "quotas": spec.quotas if spec else [],
    }
    return msgspec.json.format(_json.encode(doc), indent=2) + b"\n"


def _readme(request: RunRequested, spec: SpecFinalized | None, items: list) -> str:
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
    ]
    return "\n".join(lines)
