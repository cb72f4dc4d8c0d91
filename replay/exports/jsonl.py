"""`--format jsonl`: `benchmark.jsonl` and `media/` as published, plus `manifest.json`
(what the benchmark is, where it comes from, and the sha256 of every file)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import msgspec

from replay.exports.facts import RunFacts
from replay.exports.items import check_media, read_items

FORMAT = "benchagent-jsonl"
VERSION = 1


def write(files: Mapping[str, bytes], facts: RunFacts) -> dict[str, bytes]:
    items = read_items(files)
    check_media(items, files)
    out = {"benchmark.jsonl": files["benchmark.jsonl"]}
    for item in items:
        for name in item.media:
            out[name] = files[name]
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "run_id": facts.run_id,
        "requirement": facts.requirement,
        "items": len(items),
        "subtasks": [{"name": s.name, "items": s.items, "answer_format": s.answer_format}
                     for s in facts.subtasks if s.items],
        "sources": [msgspec.to_builtins(s) for s in facts.sources],
        "licenses": facts.licenses,
        "content_hash": facts.content_hash,
        "anchor": msgspec.to_builtins(facts.anchor),
        "files": {path: hashlib.sha256(data).hexdigest() for path, data in sorted(out.items())},
    }
    encoded = msgspec.json.encode(manifest, order="deterministic")
    out["manifest.json"] = msgspec.json.format(encoded, indent=2) + b"\n"
    return dict(sorted(out.items()))
