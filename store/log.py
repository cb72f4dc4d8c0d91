"""The `EventLog` protocol and its errors; backends live beside it.

Contract (tested by `tests/store/test_conformance.py` against every backend):
- `append(events, expected_seq)` is all-or-nothing per batch and idempotent by
  `event_id`: events already stored are skipped and returned as stored. When
  the batch still has new events and `expected_seq` is not None, it must equal
  the run's last `seq`, else `ConcurrencyConflict`.
- `seq` is per run, gapless, from 1; the log also sets `time`, `prev_hash`, `hash`.
- `read(run_id, after_seq)` returns events in `seq` order; an undecodable event
  raises `CorruptEvent` naming it.
- `subscribe(run_id, from_seq)` yields stored events from `from_seq` on, then new ones.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Protocol, runtime_checkable

from store.events import Envelope, EventEnvelope


class LogError(Exception):
    """Base of every error the log reports to a user; its message is one clear line."""


class ConcurrencyConflict(LogError):
    def __init__(self, run_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"append conflict on run {run_id}: expected last seq {expected}, log is at {actual}"
        )
        self.run_id, self.expected, self.actual = run_id, expected, actual


class CorruptEvent(LogError):
    def __init__(self, run_id: str, seq: int, detail: str) -> None:
        super().__init__(f"run {run_id}: event seq {seq} cannot be decoded ({detail})")
        self.run_id, self.seq = run_id, seq


class NotALog(LogError):
    """The store location exists but does not hold a benchagent log."""


class StoreUnavailable(LogError):
    """The store cannot be reached or opened (unreachable server, unwritable home)."""


class UnknownRun(LogError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"unknown run id: {run_id}")
        self.run_id = run_id


@runtime_checkable
class EventLog(Protocol):
    async def append(
        self, events: Sequence[Envelope], expected_seq: int | None = None
    ) -> list[Envelope]: ...

    async def read(self, run_id: str, after_seq: int = 0) -> list[EventEnvelope]: ...

    async def read_raw(self, run_id: str) -> list[tuple[int, bytes]]:
        """Stored bytes by seq, undecoded: what `verify` checks."""
        ...

    def subscribe(self, run_id: str, from_seq: int = 1) -> AsyncGenerator[EventEnvelope, None]: ...

    async def runs(self) -> list[str]: ...

    async def last_seq(self, run_id: str) -> int: ...

    async def close(self) -> None: ...
