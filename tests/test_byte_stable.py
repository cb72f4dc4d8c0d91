"""Same requirement, same seed, same answers → the same bytes: run-specific ids (run id,
event ids) live in the sidecar `provenance.jsonl`, never in `benchmark.jsonl` or `media/`."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agents.build_helpers import build

# Physics scenes are rendered as images: the benchmark has media.
REQUIREMENT = ("I want to evaluate whether a model can predict what happens next in a physics "
               "scene shown in an image")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_identical_builds_under_different_run_ids_give_the_same_bytes(
        tmp_path: Path, general_bench: Path, capsys) -> None:
    docs = {}
    for run_id in ("run-first", "run-second"):
        code, doc, err = build(capsys, tmp_path / run_id, general_bench, size=8, seed=4,
                               run_id=run_id, requirement=REQUIREMENT)
        assert code == 0, err
        docs[run_id] = doc
    a = tmp_path / "run-first" / "runs" / "run-first"
    b = tmp_path / "run-second" / "runs" / "run-second"
    assert (a / "benchmark.jsonl").read_bytes() == (b / "benchmark.jsonl").read_bytes()
    media_a, media_b = tree(a / "media"), tree(b / "media")
    assert media_a == media_b and media_a, "the build should publish media"
    assert docs["run-first"]["content_hash"] == docs["run-second"]["content_hash"]
    # Nothing in the benchmark names the run; the sidecar does, item by item.
    for run_id, folder in (("run-first", a), ("run-second", b)):
        other = "run-second" if run_id == "run-first" else "run-first"
        assert run_id.encode() not in (folder / "benchmark.jsonl").read_bytes()
        items = [json.loads(x) for x in (folder / "benchmark.jsonl").read_text().splitlines()]
        assert all("events" not in item["metadata"] for item in items)
        provenance = [json.loads(x) for x in (folder / "provenance.jsonl").read_text().splitlines()]
        assert [p["id"] for p in provenance] == [i["id"] for i in items]
        assert {p["run_id"] for p in provenance} == {run_id}
        assert all(p["realized"]["event_id"] and p["accepted"]["event_id"] for p in provenance)
        assert other.encode() not in (folder / "provenance.jsonl").read_bytes()
