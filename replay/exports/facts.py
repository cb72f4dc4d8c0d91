"""What an export says about its run beyond the benchmark files: a fold of the log.

`run_facts(events, files, cards, anchor)` reads the run's events (requirement, spec,
publication, evaluation and judge results) and the projected files (the items' subtasks and
sources), names the run's anchor (content hash and the log's head at publication, the same as
the published folder's `spec.json`: `replay.anchor`), and takes the sources' licences from the pool's dataset cards. A
licence is never guessed: a card that names none, or a source whose card is not in the pool,
is reported as unknown with the reason.

Judge results are read by event type name (`BenchmarkJudged`, `ItemJudged`), so a log that
holds them is rendered without this module knowing their fields.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from replay.anchor import Anchor
from replay.exports.items import read_items
from store.events import (
    BenchmarkPublished,
    Envelope,
    EvaluationScored,
    RunRequested,
)
from tools.cards import DatasetCard

JUDGE_EVENT_TYPES = ("BenchmarkJudged", "ItemJudged")
UNKNOWN_LICENSE = "unknown"


class SubtaskInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str = ""
    capability: str = ""
    answer_format: str = ""
    items: int = 0


class SourceInfo(msgspec.Struct, frozen=True, kw_only=True):
    dataset_id: str
    name: str
    origin: str  # `file:<path>` or `generator:<name>`, "" when the card is not in the pool
    license: str  # a licence id from the card, or "unknown"
    license_note: str  # where the licence comes from, or why it is unknown
    items: int


class EvaluationResult(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    accuracy: float
    per_subtask: dict[str, float]
    n: int


class JudgeRecord(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    payload: dict[str, Any]


class RunFacts(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    requirement: str
    seed: int
    size: int
    llm: str
    disabled: list[str]
    accepted: int
    rejected: int
    anchor: Anchor  # content hash and the log's head at publication (as in spec.json)
    subtasks: list[SubtaskInfo]
    sources: list[SourceInfo]
    evaluations: list[EvaluationResult] = []
    judgements: list[JudgeRecord] = []

    @property
    def content_hash(self) -> str:
        """Of the published benchmark files (`BenchmarkPublished`)."""
        return self.anchor.content_hash

    @property
    def head_hash(self) -> str:
        """The chain hash of `BenchmarkPublished`: it covers the log up to publication."""
        return self.anchor.head_hash

    @property
    def head_seq(self) -> int:
        return self.anchor.head_seq

    @property
    def licenses(self) -> list[str]:
        """Distinct licences of the sources, sorted, "unknown" last."""
        found = {s.license for s in self.sources}
        known = sorted(found - {UNKNOWN_LICENSE})
        return known + ([UNKNOWN_LICENSE] if UNKNOWN_LICENSE in found or not found else [])


def run_facts(
    events: Sequence[Envelope], files: Mapping[str, bytes], cards: Mapping[str, DatasetCard],
    anchor: Anchor,
) -> RunFacts:
    """The facts of a published run; `events` must hold a `BenchmarkPublished`."""
    request = next(e.payload for e in events if isinstance(e.payload, RunRequested))
    published = [e.payload for e in events if isinstance(e.payload, BenchmarkPublished)]
    pub = published[-1]
    items = read_items(files)
    spec = msgspec.json.decode(files["spec.json"]) if "spec.json" in files else {}
    per_subtask = Counter(item.subtask for item in items)
    subtasks = [
        SubtaskInfo(name=s["name"], description=s.get("description", ""),
                    capability=s.get("capability", ""), answer_format=s.get("answer_format", ""),
                    items=per_subtask.get(s["name"], 0))
        for s in spec.get("subtasks", [])
    ]
    named = {s.name for s in subtasks}
    subtasks += [SubtaskInfo(name=n, items=c) for n, c in sorted(per_subtask.items())
                 if n not in named]
    per_source = Counter(str(item.metadata.get("source_dataset", "")) for item in items)
    evaluations: dict[str, EvaluationResult] = {}
    for env in events:
        if isinstance(env.payload, EvaluationScored):
            p = env.payload  # a later evaluation of the same model replaces the earlier one
            evaluations[p.model] = EvaluationResult(
                model=p.model, accuracy=p.accuracy, per_subtask=dict(p.per_subtask), n=p.n)
    judgements = [
        JudgeRecord(type=env.type, payload={k: v for k, v in msgspec.to_builtins(env.payload).items()
                                            if k != "type"})
        for env in events if env.type in JUDGE_EVENT_TYPES
    ]
    last = events[-1]
    return RunFacts(
        run_id=last.run_id, requirement=request.requirement, seed=request.seed,
        size=request.size, llm=request.llm, disabled=sorted(request.disabled),
        accepted=pub.accepted, rejected=pub.rejected, anchor=anchor, subtasks=subtasks,
        sources=[_source(dataset_id, count, cards.get(dataset_id))
                 for dataset_id, count in sorted(per_source.items())],
        evaluations=list(evaluations.values()), judgements=judgements,
    )


def _source(dataset_id: str, items: int, card: DatasetCard | None) -> SourceInfo:
    if card is None:
        return SourceInfo(dataset_id=dataset_id, name=dataset_id, origin="",
                          license=UNKNOWN_LICENSE, items=items,
                          license_note="its card is not in the run's pool any more")
    if card.license:
        return SourceInfo(dataset_id=dataset_id, name=card.name, origin=card.source,
                          license=card.license, license_note="from its dataset card",
                          items=items)
    return SourceInfo(dataset_id=dataset_id, name=card.name, origin=card.source,
                      license=UNKNOWN_LICENSE, license_note="its dataset card names no licence",
                      items=items)


def pool_cards(pool_dirs: Iterable[str | Path]) -> dict[str, DatasetCard]:
    """The cards of the run's pool directories (and the generators), by dataset id.

    A pool directory that is gone or unreadable gives no cards: its sources' licences are
    then reported as unknown, never guessed."""
    from tools.pool import Pool, PoolError

    cards: dict[str, DatasetCard] = {}
    for directory in [*pool_dirs, None]:
        try:
            pool = (Pool.load([directory], include_generators=False) if directory is not None
                    else Pool.load([], include_generators=True))
        except PoolError:
            continue
        for card in pool.datasets:
            cards.setdefault(card.dataset_id, card)
    return cards
