"""The published benchmark as a pure projection of the log.

`benchmark_files(state, sample_ids)` is the only code that turns a run's
projections (`replay.projections.RunState`) into the files of `runs/<run_id>/`:
the publishing agent hashes its result, `build` writes it, and `replay` rebuilds
it later from the log alone (`project_benchmark(events, sample_ids)`), so the
three agree byte for byte by construction. It reads recorded events only; no
model, tool or source dataset is touched (media bytes live in `MediaStored`
events).

Files: `benchmark.jsonl` (one item per line, sorted by id), `media/` (content
addressed), `spec.json` (requirement, subtasks, plans, quotas), `generators/` (the recorded
source of each synthesized generator that labelled an item) and `README.md` (the dataset
card).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import msgspec

from replay.projections import RunState
from replay.projections.synthesis import version_key
from store.events import (
    BenchmarkItem,
    Envelope,
    GeneratedBy,
    ItemSource,
    Payload,
    RunRequested,
    SpecFinalized,
    is_synthesized,
    target_from,
)

BenchmarkFiles = dict[str, bytes]

_json = msgspec.json.Encoder(order="deterministic")


class ProjectionError(Exception):
    """The log does not hold what the benchmark needs (e.g. a missing media file)."""


def project_benchmark(events: Sequence[Envelope[Payload]],
                      sample_ids: Iterable[str]) -> BenchmarkFiles:
    """The output directory's files for the accepted `sample_ids`, from the events alone."""
    return benchmark_files(RunState.of(events), sample_ids)


def benchmark_files(state: RunState, sample_ids: Iterable[str]) -> BenchmarkFiles:
    """The output directory's files for the accepted `sample_ids`, from a run's projections:
    its request and spec, the latest realization of each sample (a repair re-realizes it),
    its acceptance, and the media the log stores."""
    wanted = set(sample_ids)
    if state.request.event is None:
        raise ProjectionError("the log has no RunRequested event")
    request = state.request.event.payload
    spec = state.slots.spec_payload
    realized = {sid: env for sid, env in state.samples.realized.items() if sid in wanted}
    accepted = state.samples.accepted
    media = state.media.stored
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
        metadata["target_from"] = target_from(env.payload.source)
        metadata["events"] = {
            "realized": env.event_id,
            "accepted": accepted[sample_id].event_id if sample_id in accepted else None,
        }
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
    generators = synthesized_sources(state, [realized[s].payload.source for s in wanted])
    files.update(generators)
    files["README.md"] = _readme(request, spec, items, generators).encode()
    return dict(sorted(files.items()))


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


def content_hash(files: Mapping[str, bytes]) -> str:
    """sha256 over the sorted relative paths and the bytes of every file."""
    h = hashlib.sha256()
    for path in sorted(files):
        data = files[path]
        h.update(path.encode() + b"\0" + len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def directory_hash(root: Path) -> str:
    """`content_hash` of the files under a directory on disk."""
    files = {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    return content_hash(files)


def write_output(files: Mapping[str, bytes], out_dir: Path) -> None:
    """Write the files as `out_dir`, all at once: a crash never leaves half an output."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, data in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if out_dir.exists():
        out_dir.rename(old)
    tmp.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


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


def _readme(request: RunRequested, spec: SpecFinalized | None,
            items: list[BenchmarkItem], generators: Mapping[str, bytes]) -> str:
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
        "and item, plan, parameters, and the ids of the events that produced the item).",
        "Rebuild byte for byte with `benchagent replay RUN_ID --out DIR`.",
        "",
    ]
    return "\n".join(lines)
