"""Published benchmarks for the watcher's tests, made from the fixture's without a build."""

from __future__ import annotations

from pathlib import Path

import msgspec

from replay.projections import RunState
from store.events import Envelope, Payload, new_event
from store.sqlite_log import SQLiteEventLog


async def copy_benchmark(home: Path, source: str, target: str, items: int | None = None) -> None:
    """Another published benchmark: `source`'s request, items (the first `items` of them)
    and publication, re-recorded under another run id (what an evaluation reads)."""
    log = SQLiteEventLog(home / "events.db")
    try:
        state = RunState.of(await log.read(source), source)
        pub = state.publication.payload
        assert pub is not None
        ids = pub.sample_ids[:items]
        payloads: list[Payload] = [state.request.payload]
        payloads += [state.samples.realized[sid].payload for sid in ids]
        payloads.append(msgspec.structs.replace(pub, sample_ids=ids, accepted=len(ids)))
        envs: list[Envelope[Payload]] = [new_event(target, "copy", p, None, key=str(i))
                                         for i, p in enumerate(payloads)]
        await log.append(envs)
    finally:
        await log.close()
