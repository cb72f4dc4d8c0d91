"""The projections of a run: incremental folds equal full folds; folds dispatch by class."""

from __future__ import annotations

import msgspec
import pytest

from replay.projections import RunState, SpecSlots
from replay.projections.base import Projection
from store.dispatch import on
from store.events import Envelope, Payload, SampleAccepted, SampleRejected
from tests.replay.synthetic_run import synthetic_run


def sequenced(run_id: str, n: int) -> list[Envelope[Payload]]:
    events = synthetic_run(run_id, samples=n, reject_every=4)
    return [msgspec.structs.replace(e, seq=i + 1) for i, e in enumerate(events)]


def test_incremental_fold_matches_a_full_fold() -> None:
    events = sequenced("r", 30)
    full = RunState.of(events, "r")
    state = RunState("r")
    for cut in (3, 10, 17, len(events)):
        state.catch_up(events[:cut])  # a growing history, as the bus reads it
    assert state.last_seq == full.last_seq == len(events)
    assert state.samples.accepted.keys() == full.samples.accepted.keys()
    assert len(state.samples.accepted) == 23
    assert state.samples.rejected.keys() == full.samples.rejected.keys()
    assert state.publication.event is not None and state.stage() == "evaluation"
    assert state.slots.accepted_in_slots() == sorted(state.samples.accepted)
    assert [f.fate for f in state.fates.fates()] == [f.fate for f in full.fates.fates()]


def test_slots_resolve_when_filled_or_reported_short() -> None:
    state = RunState.of(sequenced("r", 8))
    # The synthetic run rejects slots 3 and 7 without replenishing them: not resolved.
    assert not state.slots.all_slots_resolved()
    assert state.slots.slot_state(("cause", "d1", "p1", 0)) == "accepted"
    assert state.slots.slot_state(("cause", "d1", "p1", 3)) == "pending"
    assert state.slots.quota() == 8


def test_a_projection_folds_only_its_event_classes() -> None:
    events = sequenced("r", 8)
    slots = SpecSlots.of(events)
    assert len(slots.slots) == 8 and len(slots.accepted) == 6
    # Folding an event of a class it does not read changes nothing.
    before = (dict(slots.slots), set(slots.accepted))
    slots.fold(next(e for e in events if e.type == "RunRequested"))
    assert (slots.slots, slots.accepted) == before


def test_a_projection_needs_one_fold_per_event_class() -> None:
    with pytest.raises(TypeError, match="both _a and _b handle SampleAccepted"):
        class Twice(Projection):
            @on(SampleAccepted)
            def _a(self, env: Envelope[SampleAccepted]) -> None: ...

            @on(SampleAccepted)
            def _b(self, env: Envelope[SampleAccepted]) -> None: ...

    class Counts(Projection):
        def __init__(self) -> None:
            self.rejected = 0

        @on(SampleRejected)
        def _rejected(self, env: Envelope[SampleRejected]) -> None:
            self.rejected += 1

    assert Counts.of(sequenced("r", 8)).rejected == 2
