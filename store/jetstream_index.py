"""What one process knows of one run in the JetStream log: ids, last seq and hash, positions.

Built by scanning the run's messages in stream order, then extended with each
new page or appended batch. It answers: is this event_id already stored, what
does the next event chain to, and from which stream sequence must a scan start
to reach a given run seq.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from store.events import GENESIS_HASH, Envelope


class Head(msgspec.Struct):
    """The envelope fields the run index needs; decoded without the payload's types."""

    event_id: str
    seq: int
    hash: str


_head_decoder = msgspec.json.Decoder(Head)


class HasHead(Protocol):
    @property
    def event_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def hash(self) -> str: ...


@dataclass
class RunIndex:
    """What this process knows of one run, up to stream sequence `last_stream_seq`.

    Stream sequences are known for some events only (`marks`): reads fetch
    payloads without headers, which tell where a page ends but not where each
    message sits. A mark is enough to start a scan close to any run seq.
    """

    last_stream_seq: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    ids: dict[str, int] = field(default_factory=dict)  # event_id -> run seq
    mark_runs: list[int] = field(default_factory=list)  # run seqs with a known stream seq
    mark_streams: list[int] = field(default_factory=list)  # ... and those stream seqs
    corrupt_seq: int | None = None  # the last message does not decode

    def learn_page(self, heads: Sequence[HasHead | None], page_last_stream_seq: int) -> None:
        """Events read in stream order after `last_stream_seq`, up to a page end."""
        for head in heads:
            if head is None:
                self.last_seq += 1
                self.corrupt_seq = self.last_seq
                continue
            self.corrupt_seq = None
            self.ids[head.event_id] = head.seq
            self.last_seq, self.last_hash = head.seq, head.hash
        self._mark(self.last_seq, page_last_stream_seq)

    def learn_sealed(self, sealed: Sequence[Envelope], last_stream_seq: int) -> None:
        """Events this process just stored in one atomic batch (contiguous stream seqs)."""
        if last_stream_seq <= self.last_stream_seq:
            return
        for env in sealed:
            self.ids[env.event_id] = env.seq
        self.last_seq, self.last_hash, self.corrupt_seq = sealed[-1].seq, sealed[-1].hash, None
        self._mark(sealed[0].seq, last_stream_seq - len(sealed) + 1)
        self._mark(sealed[-1].seq, last_stream_seq)

    def _mark(self, run_seq: int, stream_seq: int) -> None:
        self.last_stream_seq = max(self.last_stream_seq, stream_seq)
        if not self.mark_runs or run_seq > self.mark_runs[-1]:
            self.mark_runs.append(run_seq)
            self.mark_streams.append(stream_seq)

    def scan_start(self, run_seq: int) -> int:
        """A stream seq from which a scan of the run reaches `run_seq` (and misses nothing after)."""
        if run_seq > self.last_seq:
            return self.last_stream_seq + 1
        i = bisect.bisect_right(self.mark_runs, run_seq) - 1
        if i < 0:
            return 1
        if self.mark_runs[i] == run_seq:
            return self.mark_streams[i]
        return self.mark_streams[i] + 1


def read_head(data: bytes) -> Head | None:
    """The index fields of stored bytes, or None when they are not an envelope."""
    try:
        return _head_decoder.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
