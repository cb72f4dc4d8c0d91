"""Does a published benchmark folder agree with the log? (`benchagent verify --against`)

The log's chain is checked first by the caller. Then the folder's anchor is
compared with the anchor the log gives today: a log edited and re-chained after
publication has another head hash at the anchored seq. Every file the log
projects must be in the folder with the same bytes (a missing or altered media
file, different items, an edited card are each named; media are compared by the
sha256 and size their `MediaStored` names, so no blob is read), the folder may hold
nothing else, and a signature, if any (or if a trusted key is required), must
verify. Each disagreement is one line.
"""

from __future__ import annotations

from pathlib import Path

from replay.anchor import Anchor, read_folder_anchor, signature_problem
from replay.benchmark_files import (
    BENCHMARK,
    FileDigest,
    ProjectionError,
    benchmark_content,
    card_files,
    content_hash,
    is_content,
    make_anchor,
)
from replay.projections import RunState


def folder_problems(state: RunState, folder: Path,
                    trusted_key: str | None = None) -> list[str]:
    """One line per disagreement between `folder` and the run's log (empty: they agree).
    `NotABenchmark` if the folder holds no anchored benchmark."""
    published = read_folder_anchor(folder)
    problems: list[str] = []
    if published.run_id != state.run_id:
        return [f"{folder} was published from run {published.run_id}, not {state.run_id}"]
    try:
        logged = make_anchor(state)
    except ProjectionError as exc:
        return [f"the log cannot rebuild its benchmark: {exc}"]
    problems += _anchor_problems(published, logged)
    why_unsigned = signature_problem(published, trusted_key)
    if why_unsigned is not None:
        problems.append(f"signature: {why_unsigned}")
    # The card is projected with the folder's own anchor: a disagreeing anchor is named
    # above once, not again as a card that differs.
    content = benchmark_content(state, logged_sample_ids(state))
    expected: dict[str, bytes | FileDigest] = {**content.digests(), **card_files(state, published)}
    expected[BENCHMARK] = content.jsonl
    problems += _file_problems(expected, folder)
    on_disk = {rel: (folder / rel).read_bytes() for rel in expected
               if is_content(rel) and (folder / rel).is_file()}
    if not any(p.startswith(("benchmark.jsonl", "media/")) for p in problems) \
            and content_hash(on_disk) != published.content_hash:
        problems.append(f"the folder's benchmark files hash to {content_hash(on_disk)}, "
                        f"its anchor says {published.content_hash}")
    return problems


def _anchor_problems(published: Anchor, logged: Anchor) -> list[str]:
    if published.head_seq != logged.head_seq:
        return [f"the anchor puts publication at event seq {published.head_seq}, the log at "
                f"seq {logged.head_seq}: the log was rewritten after publication"]
    problems = []
    if published.head_hash != logged.head_hash:
        problems.append(
            f"log head at seq {logged.head_seq} is {logged.head_hash}, the published anchor "
            f"says {published.head_hash}: the log was rewritten after publication")
    if published.content_hash != logged.content_hash:
        problems.append(f"the anchor names content hash {published.content_hash}, the log "
                        f"publishes {logged.content_hash}")
    return problems


def logged_sample_ids(state: RunState) -> list[str]:
    pub = state.publication.payload
    assert pub is not None  # make_anchor succeeded
    return pub.sample_ids


def _file_problems(expected: dict[str, bytes | FileDigest], folder: Path) -> list[str]:
    problems = []
    for rel, want in expected.items():
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel} is missing from the folder")
            continue
        actual = path.read_bytes()
        if isinstance(want, FileDigest):
            got = FileDigest.of(actual)
            if got != want:
                problems.append(f"{rel} was altered: its {got.size} bytes hash to {got.sha256}, "
                                f"the log names {want.size} bytes hashing to {want.sha256}")
            continue
        if actual != want:
            problems.append(f"{rel} differs from the log's projection "
                            f"({_first_difference(want, actual)})")
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in expected:
            problems.append(f"{rel} is not part of the published benchmark")
    return problems


def _first_difference(want: bytes, got: bytes) -> str:
    want_lines, got_lines = want.splitlines(), got.splitlines()
    for i, (a, b) in enumerate(zip(want_lines, got_lines, strict=False), start=1):
        if a != b:
            return f"first at line {i}"
    return f"{len(got_lines)} lines, the log gives {len(want_lines)}"
