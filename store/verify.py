"""Tamper evidence: recompute a run's hash chain from the stored bytes.

Each stored event carries `seq`, `prev_hash` and `hash = sha256(prev_hash ||
canonical bytes)` (see `store.events.chain_hash`). Walking the stored events in
storage order, the first place where the chain does not hold is classified:

- undecodable: the stored bytes are not an envelope;
- inserted:    dropping this event makes the chain continue (its neighbours link
               to each other), or it repeats a seq already seen;
- deleted:     a seq is missing and appears nowhere later;
- reordered:   a seq is missing here but stored later;
- modified:    the event no longer matches its own hash, or its successor
               committed to a different hash (content edited and re-hashed).

Deleting the last events of a run leaves a shorter but valid chain; only an
anchor kept elsewhere (a published head hash) can reveal that.

`blob_problems(events, blobs)` checks every blob the run's `MediaStored` events
name against its sha256 and size, and names each missing or altered one.

`read_verified(log, run_id)` is how every projection (replay, audit, log, eval,
the files `build` writes) reads a run: the chain is checked first and a broken
one is refused with `TamperedLog`, one line naming the first bad event.
"""

from __future__ import annotations

import hashlib

import msgspec

from store.blobs import BlobStore
from store.events import GENESIS_HASH, Envelope, MediaStored, Payload, chain_hash, decode
from store.log import EventLog, LogError, UnknownRun


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    kind: str  # modified | deleted | inserted | reordered | undecodable
    seq: int  # log position where the chain breaks (for deleted: the first missing seq)
    event_id: str | None  # when the event is known and decodable
    detail: str


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    ok: bool
    events: int  # stored events checked
    last_seq: int  # seq of the last event of the intact chain (prefix, when broken)
    head_hash: str  # hash of that event: publish it to detect a truncation later
    problem: Problem | None = None

    def summary(self) -> str:
        if self.problem is None:
            return f"run {self.run_id}: {self.events} events, hash chain intact (head {self.head_hash[:16]})"
        p = self.problem
        who = f"event seq {p.seq}" + (f" ({p.event_id})" if p.event_id else "")
        return f"run {self.run_id}: {who} {p.kind}: {p.detail}"


class TamperedLog(LogError):
    """A run whose hash chain is broken: no projection of it may be trusted."""

    def __init__(self, report: VerifyReport) -> None:
        super().__init__(f"{report.summary()}; refusing to use a tampered log "
                         f"(`benchagent verify {report.run_id}` for the report)")
        self.report = report


async def read_verified(log: EventLog, run_id: str) -> list[Envelope]:
    """The run's events once its chain is checked; `TamperedLog` if broken, `UnknownRun`
    if the log holds none of its events."""
    raw = await log.read_raw(run_id)
    if not raw:
        raise UnknownRun(run_id)
    report, envs = _check(run_id, raw)
    if not report.ok:
        raise TamperedLog(report)
    return [env for env in envs if env is not None]


async def verify_run(log: EventLog, run_id: str) -> VerifyReport:
    """Check `run_id`'s stored chain; `UnknownRun` if the log holds none of its events."""
    raw = await log.read_raw(run_id)
    if not raw:
        raise UnknownRun(run_id)
    return check_chain(run_id, raw)


def check_chain(run_id: str, raw: list[tuple[int, bytes]]) -> VerifyReport:
    """Verify stored `(seq, bytes)` rows in storage order."""
    return _check(run_id, raw)[0]


def _check(run_id: str, raw: list[tuple[int, bytes]]
           ) -> tuple[VerifyReport, list[Envelope | None]]:
    envs: list[Envelope | None] = []
    for _, data in raw:
        try:
            envs.append(decode(data))
        except (msgspec.DecodeError, msgspec.ValidationError):
            envs.append(None)
    expected, prev_hash = 1, GENESIS_HASH
    for i, env in enumerate(envs):
        if env is not None and _links(env, expected, prev_hash) and _sealed(env, raw[i][1]):
            expected, prev_hash = expected + 1, env.hash
            continue
        problem = _classify(raw, envs, i, expected, prev_hash)
        return VerifyReport(
            run_id=run_id, ok=False, events=len(raw), last_seq=expected - 1,
            head_hash=prev_hash, problem=problem,
        ), envs
    return VerifyReport(
        run_id=run_id, ok=True, events=len(raw), last_seq=expected - 1, head_hash=prev_hash
    ), envs


def _links(env: Envelope, expected: int, prev_hash: str) -> bool:
    return env.seq == expected and env.prev_hash == prev_hash


def _sealed(env: Envelope, data: bytes) -> bool:
    """Whether the stored bytes hash to the event's hash. The hash is checked over the bytes
    as they were written (`store.sealing.seal` stores the hashed body with the digest put in
    its empty last field), never over today's re-encoding: a field added to an event type
    since (with its default) must not turn every older log into a "modified" one."""
    tail = b'"' + env.hash.encode() + b'"}'
    if not data.endswith(tail):
        return env.hash == chain_hash(env, env.prev_hash)  # not written by `seal`
    body = data[: -len(tail)] + b'""}'
    return env.hash == hashlib.sha256(env.prev_hash.encode() + body).hexdigest()


def _classify(
    raw: list[tuple[int, bytes]],
    envs: list[Envelope | None],
    i: int,
    expected: int,
    prev_hash: str,
) -> Problem:
    """Name what broke the chain at storage position `i` (all before it are intact)."""
    env = envs[i]
    nxt = envs[i + 1] if i + 1 < len(envs) else None
    if env is None:
        return Problem(
            kind="undecodable", seq=raw[i][0], event_id=None,
            detail="stored bytes are not a valid event envelope",
        )  # fmt: skip
    stored_seqs = [e.seq for e in envs if e is not None]
    if env.seq > expected and stored_seqs.count(env.seq) == 1 and expected in stored_seqs[i:]:
        return Problem(
            kind="reordered", seq=expected, event_id=env.event_id,
            detail=f"event seq {env.seq} is stored where seq {expected} belongs, "
            f"seq {expected} comes later",
        )  # fmt: skip
    if nxt is not None and _links(nxt, expected, prev_hash) and _sealed(nxt, raw[i + 1][1]):
        return Problem(
            kind="inserted", seq=raw[i][0], event_id=env.event_id,
            detail=f"not part of the chain: seq {expected - 1} links directly to the next event",
        )  # fmt: skip
    before = envs[i - 1] if i > 0 else None
    if (before is not None and _links(env, before.seq, before.prev_hash)
            and _sealed(env, raw[i][1])):
        # A well-forged event slipped in before this one: this event still chains
        # to the event before the intruder.
        return Problem(
            kind="inserted", seq=raw[i - 1][0], event_id=before.event_id,
            detail=f"not part of the chain: seq {env.seq} ({env.event_id}) links past it",
        )  # fmt: skip
    if env.seq < expected:
        return Problem(
            kind="inserted", seq=raw[i][0], event_id=env.event_id,
            detail=f"repeats seq {env.seq} after seq {expected - 1}",
        )  # fmt: skip
    if env.seq > expected:
        missing = env.seq - expected
        return Problem(
            kind="deleted", seq=expected, event_id=None,
            detail=f"{missing} event(s) missing before seq {env.seq} ({env.event_id})",
        )  # fmt: skip
    if not _sealed(env, raw[i][1]):
        return Problem(
            kind="modified", seq=env.seq, event_id=env.event_id,
            detail="stored content does not match its hash",
        )  # fmt: skip
    # Sealed and at the right seq, but not chained to its predecessor: the
    # predecessor was edited and re-hashed (this event committed to its old hash).
    if before is not None:
        return Problem(
            kind="modified", seq=before.seq, event_id=before.event_id,
            detail=f"its hash is not the one seq {env.seq} was chained to (re-hashed after an edit)",
        )  # fmt: skip
    return Problem(
        kind="modified", seq=env.seq, event_id=env.event_id,
        detail="the first event is not chained to the genesis hash",
    )  # fmt: skip


async def blob_problems(events: list[Envelope[Payload]], blobs: BlobStore) -> list[str]:
    """One line per blob a `MediaStored` of `events` names that is missing from `blobs` or
    whose bytes no longer hash to its name (empty: every referenced blob is intact)."""
    problems: list[str] = []
    seen: set[str] = set()
    for env in events:
        media = env.payload
        if not isinstance(media, MediaStored) or media.sha256 in seen:
            continue
        seen.add(media.sha256)
        problem = await blobs.verify(media.sha256, media.size)
        if problem is not None:
            problems.append(f"{media.name} (event seq {env.seq}): {problem}")
    return problems
